"""What the CMEK activation decides about the live configuration, without calling the API.

Pure logic: no Pulumi, no network. ``activation.runner`` feeds it the API's answers and
carries out what it returns:

- ``preflight_problems``: whether a cluster can take these keys (plan, visibility, regions);
- ``create_action``: adopt an existing CMEK configuration (or wait for one) or enable;
- ``plan_update``: the PATCH cluster / PUT / PATCH cmek calls an update needs, skipping work
  that a crashed earlier run already did;
- ``rotation_took_effect``: whether a rotation whose answer was lost was applied all the same;
- ``live_outputs``: the ``status``/``regions``/``key_history`` outputs from ``GET cmek``;
- ``is_kms_access_message``: which API errors count as IAM still propagating.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cmek_component.activation.inputs import (
    REVOKE_IRREVERSIBLE,
    ActivationError,
    ActivationInputs,
    IrreversibleRevoke,
    changed_besides_revoke,
)
from cmek_component.cloud_api.models import Cluster, CmekInfo
from cmek_component.manifest.identifiers import KEY_TYPE_FOR_CLOUD
from cmek_component.manifest.region_specs import KeySpec, RegionSpec

_REVOKED_STATES = ("REVOKED", "REVOKING", "REVOKE_FAILED")
_REVOKE_UNDER_WAY = ("REVOKED", "REVOKING")
"""A revoke was accepted: nothing to send. After ``REVOKE_FAILED`` the revoke is sent again."""
_NOTHING_TO_REVOKE = ("DISABLED", "DISABLING", "DISABLE_FAILED", "ENABLE_FAILED")
_WAITING_CLUSTER_STATES = ("CREATING", "LOCKED")


# --------------------------------------------------------------------------------------------
# Preflight
# --------------------------------------------------------------------------------------------


def cluster_wait_needed(cluster: Cluster) -> bool:
    """True while the cluster is busy (``CREATING``/``LOCKED``): wait for ``CREATED``, then go on."""
    return cluster.state in _WAITING_CLUSTER_STATES


def preflight_problems(cluster: Cluster, inputs: ActivationInputs, *, creating: bool) -> list[str]:
    """Why ``cluster`` cannot take ``inputs``' keys, from ``GET cluster`` alone (empty: it can).

    Checks plan ADVANCED, network visibility PRIVATE, a usable state, the key type for the
    cluster's cloud, one spec for every cluster region, and no spec for a region the cluster
    lacks (on update, unless the region is being added through ``new_region_nodes``).
    """
    cid = inputs.cluster_id
    problems: list[str] = []
    if cluster.plan != "ADVANCED":
        problems.append(f"cluster {cid}: CMEK requires an ADVANCED plan, got {cluster.plan!r}")
    if cluster.network_visibility != "PRIVATE":
        problems.append(
            f"cluster {cid}: CMEK requires a cluster created with private network visibility "
            f"(advanced security features, chosen at creation), got {cluster.network_visibility!r}"
        )
    if cluster.state not in ("CREATED", *_WAITING_CLUSTER_STATES):
        problems.append(f"cluster {cid}: expected state CREATED, got {cluster.state!r}")
    expected_type = KEY_TYPE_FOR_CLOUD.get(cluster.cloud_provider)
    if expected_type is None:
        problems.append(f"cluster {cid}: CMEK is supported here on AWS and GCP clusters, got cloud {cluster.cloud_provider!r}")
    cluster_regions = [region.name for region in cluster.regions]
    declared = {spec.region for spec in inputs.region_specs}
    for index, spec in enumerate(inputs.region_specs):
        if expected_type is not None and spec.key_spec.type != expected_type:
            problems.append(
                f"region_specs[{index}].key_spec.type: cluster {cid} runs on {cluster.cloud_provider}, "
                f"which needs {expected_type}, got {spec.key_spec.type!r}"
            )
        if spec.region in cluster_regions:
            continue
        listed = ", ".join(sorted(cluster_regions)) or "none"
        if creating:
            problems.append(
                f"region_specs[{index}].region: cluster {cid} has no region {spec.region!r} (its regions: {listed}); "
                "regions can be added only once CMEK is enabled: enable without it, then add it with new_region_nodes"
            )
        elif spec.region not in inputs.new_region_nodes:
            problems.append(
                f"region_specs[{index}].region: cluster {cid} has no region {spec.region!r} (its regions: {listed}); "
                "to add it, give its node count in new_region_nodes"
            )
    for region in cluster_regions:
        if region not in declared:
            problems.append(f"region_specs: missing a spec for cluster region {region!r}")
    return problems


# --------------------------------------------------------------------------------------------
# Live state
# --------------------------------------------------------------------------------------------


def current_specs(cmek: CmekInfo) -> dict[str, KeySpec]:
    """Region -> the spec of its current key (the ENABLED one, else the newest)."""
    out: dict[str, KeySpec] = {}
    for info in cmek.region_infos:
        key = info.current_key
        if key is not None:
            out[info.region] = key.spec
    return out


def enabled_specs(cmek: CmekInfo) -> dict[str, KeySpec]:
    """Region -> the spec of its ENABLED key (regions without one are left out)."""
    out: dict[str, KeySpec] = {}
    for info in cmek.region_infos:
        for key in info.key_infos:
            if key.status == "ENABLED":
                out[info.region] = key.spec
                break
    return out


def _spec_text(spec: KeySpec | None) -> str:
    return "nothing" if spec is None else f"{spec.uri!r} as {spec.auth_principal!r}"


def _key_differences(live: Mapping[str, KeySpec], wanted: Mapping[str, KeySpec]) -> list[str]:
    """Each region whose live key spec differs from the declared one, in words."""
    return [
        f"region {region!r} uses {_spec_text(live.get(region))}, declared {_spec_text(wanted.get(region))}"
        for region in sorted(set(live) | set(wanted))
        if live.get(region) != wanted.get(region)
    ]


CreateAction = Literal["enable", "adopt"]


def create_action(cmek: CmekInfo | None, inputs: ActivationInputs) -> CreateAction:
    """``enable`` (POST) when the cluster has no CMEK configuration (or a failed enable);
    ``adopt`` when it already has exactly these keys (ENABLED, or ENABLING after an earlier
    run's POST: just wait). Raises ``ActivationError`` for a revoked configuration or one with
    other keys, which creating must not overwrite."""
    if cmek is None or cmek.never_enabled:
        return "enable"
    cid = inputs.cluster_id
    if cmek.status in _REVOKED_STATES:
        raise ActivationError(
            f"cluster {cid}: CMEK is {cmek.status}; a revoked configuration can only be re-enabled by "
            "CockroachDB support (contact your account team or open a support ticket)"
        )
    live = current_specs(cmek)
    wanted = inputs.specs_by_region
    if live == wanted:
        if cmek.status == "ENABLE_FAILED":
            return "enable"
        return "adopt"
    if cmek.status in ("ENABLE_FAILED", "DISABLED") and not enabled_specs(cmek):
        return "enable"
    differences = _key_differences(live, wanted)
    raise ActivationError(
        f"cluster {cid}: CMEK is already {cmek.status} with other keys ({'; '.join(differences)}). "
        "To manage it, declare the keys in use (the activation adopts them), then change them to rotate."
    )


CreateRevokedAction = Literal["adopt", "revoke", "await-enabled"]


def create_revoked_action(cmek: CmekInfo | None, inputs: ActivationInputs) -> CreateRevokedAction:
    """Creating with ``revoke`` true (a cluster added to the stack already revoked, or to be
    revoked now). ``adopt``: a revoke is under way or done (REVOKING, REVOKED), nothing to send.
    ``revoke``: the declared keys are the live ones (ENABLED, or after a failed rotation or
    revoke): revoke them. ``await-enabled``: the declared keys are still ENABLING; wait, then
    revoke. Raises ``ActivationError`` when CMEK is not enabled (nothing to revoke: DISABLED,
    DISABLING, DISABLE_FAILED, ENABLE_FAILED or no configuration) or uses other keys (revoking
    keys this stack does not declare is left to the Cloud API or a stack that declares them)."""
    cid = inputs.cluster_id
    if cmek is not None and cmek.status in _REVOKE_UNDER_WAY:
        return "adopt"
    if cmek is None or cmek.never_enabled or cmek.status in _NOTHING_TO_REVOKE:
        status = "no CMEK configuration" if cmek is None or cmek.never_enabled else f"CMEK {cmek.status}"
        raise ActivationError(
            f"cluster {cid}: revoke is true but the cluster has {status}: there is nothing to "
            "revoke. Set revoke to false to enable CMEK with the declared keys"
        )
    live = current_specs(cmek)
    wanted = inputs.specs_by_region
    if live != wanted:
        differences = _key_differences(live, wanted)
        raise ActivationError(
            f"cluster {cid}: revoke is true but CMEK is {cmek.status} with other keys ({'; '.join(differences)}). "
            "Declare the keys in use (the activation adopts them and revokes), or revoke through the Cloud API"
        )
    return "await-enabled" if cmek.status == "ENABLING" else "revoke"


@dataclass(frozen=True)
class UpdatePlan:
    """The API calls an update makes, in order: add regions, rotate, revoke."""

    add: tuple[RegionSpec, ...] = ()
    """New regions: ``PATCH cluster`` with ``cmek_region_specs`` = these."""
    region_nodes: Mapping[str, int] = field(default_factory=dict)
    """The complete ``region_nodes`` for that PATCH: current regions plus the new ones."""
    rotate: tuple[RegionSpec, ...] = ()
    """``PUT cmek`` with these regions only."""
    revoke: bool = False
    """``PATCH cmek`` REVOKE."""

    @property
    def calls(self) -> list[str]:
        """The mutating calls, for logs and tests: e.g. ``["PATCH cluster", "PUT cmek"]``."""
        return [name for name, wanted in (("PATCH cluster", self.add), ("PUT cmek", self.rotate), ("PATCH cmek", self.revoke)) if wanted]


def plan_update(old: ActivationInputs, new: ActivationInputs, cluster: Cluster, cmek: CmekInfo | None) -> UpdatePlan:
    """The calls that take the live configuration (``cluster``, ``cmek``) to ``new``.

    Safe to run again after a crash: a region already in the cluster is not added twice, and a
    region whose current key (ENABLED, or being enabled) already has the new spec is not
    rotated again, unless it failed or ``rotation_trigger`` changed (which re-wraps every
    region already under CMEK).
    """
    cid = new.cluster_id
    if cmek is None or cmek.never_enabled:
        raise ActivationError(
            f"cluster {cid}: CMEK is not enabled (GET cmek found no configuration); "
            "run `pulumi refresh` so the activation is created (enabled) again"
        )
    revoked = cmek.status in _REVOKED_STATES
    if new.revoke:
        changed = [] if old.revoke else changed_besides_revoke(old, new)
        if changed:
            raise ActivationError(
                f"revoke: cannot be combined with a change of {', '.join(changed)}: apply that change first, "
                "then set revoke alone"
            )
        return UpdatePlan(revoke=cmek.status not in _REVOKE_UNDER_WAY)
    if old.revoke:
        raise IrreversibleRevoke(REVOKE_IRREVERSIBLE)
    if revoked:
        raise ActivationError(
            f"cluster {cid}: CMEK is {cmek.status}; only CockroachDB support can re-enable it. "
            "Set revoke to true to match, or contact support"
        )
    problems = preflight_problems(cluster, new, creating=False)
    if problems:
        raise ActivationError("; ".join(problems))
    live = current_specs(cmek)
    cluster_regions = {region.name for region in cluster.regions}
    add = tuple(spec for spec in new.region_specs if spec.region not in live and spec.region not in cluster_regions)
    region_nodes: dict[str, int] = {}
    if add:
        region_nodes = dict(cluster.region_nodes)
        for spec in add:
            region_nodes[spec.region] = new.new_region_nodes[spec.region]
    trigger_changed = new.rotation_trigger != old.rotation_trigger
    failed = {info.region for info in cmek.region_infos if info.status.endswith("_FAILED")}
    rotate = tuple(
        spec
        for spec in new.region_specs
        if spec.region in live and (trigger_changed or spec.region in failed or live[spec.region] != spec.key_spec)
    )
    return UpdatePlan(add=add, region_nodes=region_nodes, rotate=rotate)


_ROTATION_APPLIED = ("ROTATING", "ENABLED")


def rotation_took_effect(before: CmekInfo | None, after: CmekInfo | None, rotated: Sequence[RegionSpec]) -> bool:
    """Whether a ``PUT cmek`` rotating ``rotated`` has visibly been applied (its answer lost, or
    another run sent the same rotation): in every rotated region the current key has the new
    spec, the region is ROTATING or ENABLED, and the region's state differs from ``before`` (the
    configuration read before the PUT). The last rule matters for a re-wrap with an unchanged
    spec, which shows only as ROTATING or a refreshed key; one that left no trace counts as not
    applied (sending it again is safe, only slower)."""
    if after is None or not rotated:
        return False
    for spec in rotated:
        now = after.region(spec.region)
        key = now.current_key if now is not None else None
        if now is None or key is None or key.spec != spec.key_spec or now.status not in _ROTATION_APPLIED:
            return False
        earlier = before.region(spec.region) if before is not None else None
        if earlier is not None and earlier.to_api() == now.to_api():
            return False
    return True


# --------------------------------------------------------------------------------------------
# Live configuration
# --------------------------------------------------------------------------------------------


def live_outputs(cmek: CmekInfo) -> dict[str, Any]:
    """``status``, ``regions`` and ``key_history`` as the API reports them (regions by name)."""
    regions = []
    history: dict[str, list[dict[str, Any]]] = {}
    for info in sorted(cmek.region_infos, key=lambda item: item.region):
        key = info.current_key
        regions.append(
            {
                "region": info.region,
                "status": info.status,
                "key_uri": key.spec.uri if key else None,
                "key_status": key.status if key else None,
                "user_message": key.user_message if key else None,
                "created_at": key.created_at if key else None,
                "updated_at": key.updated_at if key else None,
            }
        )
        history[info.region] = [
            {"uri": k.spec.uri, "status": k.status, "created_at": k.created_at, "updated_at": k.updated_at}
            for k in info.key_infos
        ]
    return {"status": cmek.status, "regions": regions, "key_history": history}


def no_live_specs_problem(cmek: CmekInfo, previous: Sequence[RegionSpec], cluster_id: str) -> str | None:
    """Why a read cannot give region specs: the answer lists no region with a key and there are
    no previous specs to keep (a read by id), with what to do; ``None`` when it can."""
    if previous or current_specs(cmek):
        return None
    return (
        f"cluster {cluster_id}: GET cmek reports CMEK {cmek.status or 'with no status'} but lists no region "
        "with a key, so there are no key specs to read; declare region_specs (one per cluster region) or "
        "run the import or refresh again once GET /api/v1/clusters/{id}/cmek lists the regions"
    )


def live_region_specs(cmek: CmekInfo, previous: Sequence[RegionSpec]) -> list[RegionSpec]:
    """The specs in use, as region specs: previous order first, regions new to the state last.

    A previous region for which the answer lists no key (no region info, or one without keys)
    keeps its previous spec: the answer says nothing about it, and dropping it would store
    state (at worst ``region_specs: []``) that the next update refuses as invalid inputs.
    Raises ``ActivationError`` when there is nothing to store at all (``no_live_specs_problem``;
    ``ActivationRunner.read`` reports it first, with the cluster id)."""
    problem = no_live_specs_problem(cmek, previous, "")
    if problem is not None:
        raise ActivationError(problem)
    live = current_specs(cmek)
    out = [RegionSpec(spec.region, live.get(spec.region, spec.key_spec)) for spec in previous]
    known = {spec.region for spec in previous}
    out.extend(RegionSpec(region, live[region]) for region in sorted(live) if region not in known)
    return out


# --------------------------------------------------------------------------------------------
# Error policy
# --------------------------------------------------------------------------------------------

_ACCESS_WORDS = re.compile(
    r"permission|access|denied|unauthori[sz]ed|not authori[sz]ed|forbidden|unable to (?:use|assume)|cannot (?:use|assume)|could not (?:use|assume)"
)
# The subject must be the customer's key or the identity CockroachDB Cloud uses for it: a KMS
# key, key ring or crypto key, an encrypt/decrypt permission, assuming the role or impersonating
# the service account, or their ARNs / emails. Generic words ("service account", "role", "IAM")
# are not enough: CockroachDB Cloud API keys belong to (Cloud) service accounts with roles, and
# an error about the API key's own permissions must fail at once, not after the IAM window.
_KMS_SUBJECT = re.compile(
    r"\bkms\b|cloudkms|key ?ring|crypto ?key|\bencrypt|\bdecrypt|\bsts\b|assume ?role|assumerole|"
    r"impersonat|auth_principal|gserviceaccount\.com|arn:aws[a-z-]*:(?:kms|iam)"
)


def is_kms_access_message(message: str) -> bool:
    """True when an API error says that CockroachDB Cloud could not use the customer's key or
    identity (e.g. "insufficient permissions to access the KMS key"): such errors are retried
    during the IAM-propagation window. Errors about the API key itself never count."""
    text = message.lower().replace("api key", "").replace("api_key", "")
    return bool(_ACCESS_WORDS.search(text) and _KMS_SUBJECT.search(text))


def is_cluster_locked_message(message: str) -> bool:
    """True when an API error says that another operation holds the cluster (``LOCKED``)."""
    return "lock" in message.lower()

