"""What this stack's last update exported, read back by the stack program for its revoke check.

The program reads its own stack's outputs with the engine's built-in invoke
``pulumi:pulumi:readStackOutputs`` (the read a ``StackReference`` makes; it changes nothing),
only when a cluster sets ``revoke: true``. It gets the outputs of the last update whose program
completed. Anything that keeps them from being read (a backend that refuses the name, an engine
without the invoke) ends in a warning, never in a failure: the activation's own check at preview
still refuses a revoke combined with other changes.

The invoke's failure handling relies on the pinned SDK (``pulumi==3.272.0``): a failed invoke is
raised to the caller and not recorded as an unhandled error of the program.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.runtime

from cmek_component.manifest.problems import SECRET
from cmek_component.stack.config import ClusterConfig
from cmek_component.stack.revoke_guard import RECORD_OUTPUT, record_problem

READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
"""The engine's built-in invoke that reads a stack's outputs as of its last update."""
READ_STACK_RESOURCES = "pulumi:pulumi:readStackResourceOutputs"
"""The engine's built-in invoke that lists a stack's resources (URN -> type and outputs) as its
state holds them now: an interrupted update's finished steps included."""


def stack_names() -> list[str]:
    """The names this stack can be read by, most precise first: ``<organization>/<project>/
    <stack>`` (when the CLI tells the program its organization), then the bare stack name,
    which backends resolve within the current project (older CLIs, the legacy layout of a
    self-managed backend)."""
    organization = pulumi.get_organization()
    bare = pulumi.get_stack()
    if not organization:
        return [bare]
    return [f"{organization}/{pulumi.get_project()}/{bare}", bare]


def _read_own_stack(token: str, name_argument: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The ``outputs`` of the engine's built-in read ``token`` for this stack, tried under each
    name of :func:`stack_names`; ``(None, errors)`` when none could be read."""
    errors: list[str] = []
    for name in stack_names():
        try:
            result = pulumi.runtime.invoke(token, {name_argument: name})
        except Exception as error:  # noqa: BLE001 - any failure only skips an early check
            errors.append(f"{name}: {error}")
            continue
        value = result.value if isinstance(result.value, Mapping) else {}
        outputs = value.get("outputs")
        return (dict(outputs) if isinstance(outputs, Mapping) else {}), errors
    return None, errors


def read_last_outputs() -> dict[str, Any] | None:
    """This stack's outputs as of its last update (empty for a stack never updated), or
    ``None`` with a warning when no name of :func:`stack_names` could be read."""
    outputs, errors = _read_own_stack(READ_STACK_OUTPUTS, "name")
    if outputs is None:
        pulumi.log.warn(
            f"revoke: could not read the last outputs of this stack ({'; '.join(errors)}); a rotation "
            "combined with this revoke will be refused by the activation's check at preview instead"
        )
    return outputs


def read_state_resources() -> dict[str, Any] | None:
    """This stack's resources as its state holds them (URN -> ``{"type", "outputs"}``; empty for
    a new or destroyed stack), or ``None`` with a warning when no name of :func:`stack_names`
    could be read. Read-only: it changes nothing."""
    resources, errors = _read_own_stack(READ_STACK_RESOURCES, "stackName")
    if resources is None:
        pulumi.log.warn(
            f"could not read this stack's state ({'; '.join(errors)}): a renamed cluster is not "
            "carried over to its new name, and a cluster whose CMEK is already on is not refused "
            "before keys are created"
        )
    return resources


def _records_by_cluster_id(outputs: Mapping[str, Any]) -> tuple[dict[str, Mapping[str, Any]], dict[str, str]]:
    """Well-formed records by cluster id, and export name -> why its record is malformed."""
    found: dict[str, Mapping[str, Any]] = {}
    malformed: dict[str, str] = {}
    for name, exported in outputs.items():
        record = exported.get(RECORD_OUTPUT) if isinstance(exported, Mapping) else None
        if record is None:
            continue
        problem = record_problem(record)
        if problem:
            malformed[str(name)] = problem
            continue
        found[record["cluster_id"].lower()] = record
    return found, malformed


def last_rotation_configs(clusters: list[ClusterConfig]) -> dict[str, Mapping[str, Any]]:
    """Each revoking cluster's ``rotation_config`` as the last update exported it, by resource
    name (a cluster renamed since is found by its cluster id). Empty when no cluster sets
    ``revoke: true``. A revoking cluster without a record gets a warning: its first update in
    this stack, or outputs of a version without ``rotation_config``; so does one whose record is
    malformed (:func:`~cmek_component.stack.revoke_guard.record_problem`), which is not compared."""
    revoking = [cluster for cluster in clusters if cluster.args.get("revoke") is True]
    if not revoking:
        return {}
    outputs = read_last_outputs()
    if outputs is None:
        return {}
    by_id, malformed = _records_by_cluster_id(outputs)
    found: dict[str, Mapping[str, Any]] = {}
    for cluster in revoking:
        record = by_id.get(cluster.args["cluster_id"].lower())
        cluster_id = SECRET if cluster.secret else cluster.args["cluster_id"]
        if record is None and cluster.name in malformed:
            pulumi.log.warn(
                f"revoke: {cluster.key}: the {RECORD_OUTPUT} of output {cluster.name!r} in this "
                f"stack's last outputs cannot be read ({SECRET if cluster.secret else malformed[cluster.name]}), "
                "so a rotation in this update cannot be named here; the activation refuses one at "
                "preview"
            )
            continue
        if record is None:
            pulumi.log.warn(
                f"revoke: {cluster.key} (cluster {cluster_id}) has no "
                f"{RECORD_OUTPUT} in this stack's last outputs (its first update here, or outputs "
                "of an older version), so a rotation in this update cannot be named here; the "
                "activation refuses one at preview, or, when it is created by this update, "
                "revokes only a configuration with exactly the declared keys"
            )
            continue
        found[cluster.name] = record
    return found


def _cuts_gcp_access(cluster: ClusterConfig) -> bool:
    options = cluster.args.get("gcp")
    return isinstance(options, Mapping) and options.get("cut_key_access") is True


def cut_access_on_creation(clusters: list[ClusterConfig]) -> list[ClusterConfig]:
    """GCP clusters that set ``gcp.cut_key_access: true`` while this stack has not created their
    service account yet (no ``rotation_config`` of theirs in the last outputs). GCP's provider
    ignores ``disabled`` when it creates a service account, so the cut would silently not
    happen. Empty when no cluster cuts access, or when the outputs cannot be read (warned)."""
    cutting = [cluster for cluster in clusters if _cuts_gcp_access(cluster)]
    if not cutting:
        return []
    outputs = read_last_outputs()
    if outputs is None:
        return []
    by_id, _ = _records_by_cluster_id(outputs)
    return [cluster for cluster in cutting if cluster.args["cluster_id"].lower() not in by_id]
