"""Which clusters this stack's state already holds, and what that means for this update.

The stack program reads its own state's resource list (the engine's built-in read
``pulumi:pulumi:readStackResourceOutputs``; see :mod:`cmek_component.stack.last_update`) before
declaring anything, and this module decides from it, with no Pulumi or network import:

- **A renamed cluster** (``cmek:clusters[i].name`` changed): the state holds the cluster's
  activation under its old name. The new ``ClusterCmek`` is declared with an alias to the old
  name, so the engine moves every resource (the role, the keys, the aliases, the activation)
  to the new name instead of creating a second set: nothing is replaced.
- **A cluster new to this stack whose CMEK is already on** (``pulumi destroy`` then
  ``pulumi up``, a cluster moved from another stack, CMEK enabled by hand): creating keys for
  it would make a second key set that the activation then refuses. It is refused before
  anything is created, naming the keys CMEK uses now and the runbook to follow.

A cluster is *held* by the state when the state has its ``ClusterCmek`` (by resource name) or an
activation for its cluster id. An update interrupted after the activation's enable leaves the
component and its keys in the state, so re-running ``pulumi up`` is never refused here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cmek_component.manifest.problems import SECRET, shown, values_masked

COMPONENT_TYPE = "cockroach:cmek:ClusterCmek"
"""The type token of ``ClusterCmek`` (``cmek_component.component.cluster_cmek.TYPE_TOKEN``)."""
ACTIVATION_SUFFIX = "-activation"
"""The activation's resource name is ``<cluster name>-activation``."""


@dataclass(frozen=True)
class StateClusters:
    """What the stack's last state holds: the names of its ``ClusterCmek`` components, and the
    name of the component whose activation manages each cluster id (lower case)."""

    components: frozenset[str] = frozenset()
    by_cluster_id: Mapping[str, str] = field(default_factory=dict)

    def holds(self, name: str, cluster_id: str) -> bool:
        """Whether the state already has this cluster, under this name or another."""
        return name in self.components or cluster_id.lower() in self.by_cluster_id


def _urn_parts(urn: str) -> tuple[list[str], str] | None:
    """``urn:pulumi:<stack>::<project>::<parent types $ type>::<name>`` -> (types, name); the
    types of a child of the stack resource start with its own (no ``pulumi:pulumi:Stack``)."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        return None
    return parts[2].split("$"), "::".join(parts[3:])


def state_clusters(resources: Mapping[str, Any]) -> StateClusters:
    """Reads the engine's resource list (URN -> ``{"type", "outputs"}``): the top-level
    ``ClusterCmek`` components and, for each activation directly under one of them, its cluster
    id. Entries of another shape are ignored."""
    components: set[str] = set()
    by_cluster_id: dict[str, str] = {}
    for urn, entry in resources.items():
        parsed = _urn_parts(str(urn))
        if parsed is None:
            continue
        types, name = parsed
        if types == [COMPONENT_TYPE]:  # a child of the stack: its URN names no parent type
            components.add(name)
            continue
        if len(types) != 2 or types[0] != COMPONENT_TYPE or not name.endswith(ACTIVATION_SUFFIX):
            continue
        outputs = entry.get("outputs") if isinstance(entry, Mapping) else None
        cluster_id = outputs.get("cluster_id") if isinstance(outputs, Mapping) else None
        if isinstance(cluster_id, str) and cluster_id:
            by_cluster_id[cluster_id.lower()] = name[: -len(ACTIVATION_SUFFIX)]
    return StateClusters(frozenset(components), by_cluster_id)


@dataclass(frozen=True)
class Rename:
    """A cluster configured under ``new`` whose resources the state holds under ``old``."""

    key: str
    """Where the cluster is configured, such as ``cmek:clusters[0]``."""
    old: str
    new: str


@dataclass(frozen=True)
class RenamePlan:
    """The renames to carry out with aliases, and the ones refused (key, message)."""

    renames: dict[str, Rename] = field(default_factory=dict)
    """New resource name -> the rename."""
    refused: list[tuple[str, str]] = field(default_factory=list)


def plan_renames(clusters: Iterable[tuple[str, str, str]], state: StateClusters,
                 other_names: Collection[str] = ()) -> RenamePlan:
    """``clusters``: (configuration key, resource name, cluster id) of every configured cluster.
    ``other_names``: names of further configured clusters not in ``clusters``. Values in
    messages go through :func:`~cmek_component.manifest.problems.shown` (masked inside ``masked_values``).

    A cluster is renamed when the state holds its cluster id under another name and holds
    nothing under its new name. The rename is refused when the old name is configured for
    another cluster in the same update (two names swapped or reused at once: the engine would
    have to move both at the same time); the message says to rename in two updates."""
    configured = list(clusters)
    names = {name for _, name, _ in configured} | set(other_names)
    renames: dict[str, Rename] = {}
    refused: list[tuple[str, str]] = []
    for key, name, cluster_id in configured:
        old = state.by_cluster_id.get(cluster_id.lower())
        if old is None or old == name or name in state.components:
            continue
        if old in names:
            refused.append((
                f"{key}.name",
                f"this cluster's resources are named {shown(old)} in this stack's state, and that "
                "name is now configured for another cluster; rename in two updates: first to a "
                "name no cluster uses, `pulumi up`, then give the old name to the other cluster, "
                f"got {shown(name)}",
            ))
            continue
        renames[name] = Rename(key, old, name)
    return RenamePlan(renames, refused)


CMEK_OFF = ("", "DISABLED")
"""CMEK statuses that mean "not on": a cluster with them may get new keys from this stack."""


def _whole(value: str) -> str:
    """A key URI or principal from the Cloud API in full (the user needs all of it), quoted with
    its control characters escaped; ``[secret]`` inside ``masked_values``."""
    return SECRET if values_masked() else repr(value)


def already_enabled_problem(cluster_id: str, status: str, principal: str, keys: Mapping[str, str]) -> str:
    """The refusal for a cluster new to this stack whose CMEK is on (``status``, with the
    auth ``principal`` and the region -> key URI CockroachDB Cloud uses now), every value in full
    (masked inside ``masked_values``)."""
    listed = ", ".join(f"{region}: {_whole(uri)}" for region, uri in sorted(keys.items())) or "none listed"
    return (
        f"cluster {shown(cluster_id)} already has CMEK {status}, and this stack's state holds "
        "nothing of it, so this update would create a second identity and key set that the "
        "activation cannot use (the Cloud API cannot disable CMEK or switch keys on creation). "
        f"CockroachDB Cloud uses {_whole(principal)} with keys {listed}. Nothing was created. If "
        "this stack was destroyed (its keys and role were retained), restore its state from "
        "before the destroy; if another stack manages the cluster, move its resources here with "
        "`pulumi state move` or leave the cluster there; to adopt keys made by hand, declare "
        "them. docs/operations.md, runbook \"A cluster whose CMEK is already on\""
    )
