"""The simulated organization: clusters, CMEK state machines and the operations that change them.

Each public method implements one API operation on already-decoded input and either returns the
response body or raises ``ApiError``. Asynchronous work (enable, rotate, revoke, region changes,
support disable, timed cluster locks) is queued as ``PendingOp`` and completed by
``apply_due()`` once the clock reaches its due time. Not thread-safe on its own: ``Simulator``
holds one lock around every call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import seeds
from .clock import Clock, format_timestamp
from .errors import (
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    ApiError,
    invalid_argument,
    not_found,
    refusal,
    unavailable,
)
from .kms import KmsAccess
from .model import (
    CLUSTER_STATES,
    DISABLED,
    DISABLING,
    ENABLE_FAILED,
    ENABLED,
    ENABLING,
    REVOKED,
    REVOKED_STATUSES,
    REVOKING,
    ROTATE_FAILED,
    ROTATING,
    ClusterRecord,
    KeyRecord,
    RegionCmek,
    render_cluster,
    render_cmek,
)
from .settings import SimulatorSettings
from .transitions import CMEK_OPERATIONS, PendingOp, complete_operation
from .validation import check_region_specs, contact_support, raise_if, region_name_problem

MODELLED_CLUSTER_FIELDS = (
    "dedicated.region_nodes",
    "dedicated.cmek_region_specs",
    "labels",
    "delete_protection",
    "parent_id",
)
"""The fields of ``UpdateClusterSpecification`` that PATCH cluster carries out."""
UNMODELLED_CLUSTER_FIELDS = ("cockroach_version", "dedicated.hardware", "plan", "serverless", "upgrade_status")
"""The fields the OpenAPI document defines but the simulator does not model: a 400 names them."""


class World:
    """Clusters and CMEK state for one simulated organization."""

    def __init__(self, settings: SimulatorSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.reset()

    def reset(self) -> None:
        """Back to the seeded clusters, no CMEK anywhere, nothing pending, no KMS problems."""
        now = self.clock.now()
        self.organization_created_at = now - 400 * 86_400
        every = seeds.CLUSTERS + seeds.fleet_clusters(self.settings.fleet_clusters)
        self.clusters: dict[str, ClusterRecord] = {s.id: ClusterRecord.from_seed(s, now) for s in every}
        self.pending: list[PendingOp] = []
        self.kms = KmsAccess()
        self.revoke_failures: dict[str, str] = {}
        self._seq = 0

    # ------------------------------------------------------------------------------------------
    # Time
    # ------------------------------------------------------------------------------------------

    def apply_due(self) -> None:
        """Completes every pending operation whose due time has come, oldest first."""
        now = self.clock.now()
        while True:
            due = [op for op in self.pending if op.due <= now]
            if not due:
                return
            op = min(due, key=lambda o: (o.due, o.seq))
            self.pending.remove(op)
            self._complete(op)

    def _schedule(self, op: PendingOp) -> None:
        self._seq += 1
        op.seq = self._seq
        self.pending.append(op)

    def _new_op(self, cluster_id: str, kind: str, seconds: float) -> PendingOp:
        op = PendingOp(due=self.clock.now() + seconds, seq=0, cluster_id=cluster_id, kind=kind)
        self._schedule(op)
        return op

    def _pending(self, cluster_id: str, kinds: Sequence[str]) -> list[PendingOp]:
        return [op for op in self.pending if op.cluster_id == cluster_id and op.kind in kinds]

    # ------------------------------------------------------------------------------------------
    # Derived cluster state
    # ------------------------------------------------------------------------------------------

    def effective_state(self, cluster: ClusterRecord) -> str:
        if cluster.state != "CREATED":
            return cluster.state
        if self._pending(cluster.id, ("scale",)):
            return "LOCKED"
        if self.settings.lock_cluster_during_cmek and self._pending(cluster.id, CMEK_OPERATIONS):
            return "LOCKED"
        return "CREATED"

    def effective_operation_status(self, cluster: ClusterRecord) -> str:
        if self._pending(cluster.id, ("scale",)):
            return "CRDB_SCALE_RUNNING"
        if self._pending(cluster.id, CMEK_OPERATIONS):
            return "CRDB_CMEK_OPERATION_RUNNING"
        if cluster.operation_status != "UNSPECIFIED":
            return cluster.operation_status
        if cluster.cmek_failed:
            return "CRDB_CMEK_OPERATION_FAILED"
        return "UNSPECIFIED"

    def render_cluster(self, cluster: ClusterRecord) -> dict[str, Any]:
        return render_cluster(
            cluster,
            state=self.effective_state(cluster),
            operation_status=self.effective_operation_status(cluster),
            include_is_customer_cloud_account=self.settings.include_is_customer_cloud_account,
        )

    # ------------------------------------------------------------------------------------------
    # Read operations
    # ------------------------------------------------------------------------------------------

    def get_organization(self) -> dict[str, Any]:
        return {
            "id": seeds.ORGANIZATION_ID,
            "name": seeds.ORGANIZATION_NAME,
            "label": seeds.ORGANIZATION_LABEL,
            "created_at": format_timestamp(self.organization_created_at),
        }

    def list_clusters(self, query: Mapping[str, str]) -> dict[str, Any]:
        """``ListClustersResponse``: sorted by name unless ``pagination.sort_by`` says otherwise."""
        show_inactive = _query_bool(query, "show_inactive")
        limit = _query_int(query, "pagination.limit")
        page = query.get("pagination.page", "")
        sort_by = query.get("pagination.sort_by", "NAME")
        order = query.get("pagination.sort_order", "ASC")
        if sort_by not in ("NAME", "CREATED_AT", "DELETED_AT"):
            raise invalid_argument(f"pagination.sort_by: expected NAME, CREATED_AT or DELETED_AT, got '{sort_by}'")
        if order not in ("ASC", "DESC"):
            raise invalid_argument(f"pagination.sort_order: expected ASC or DESC, got '{order}'")
        clusters = [
            c for c in self.clusters.values() if show_inactive or c.state not in ("DELETED", "CREATION_FAILED")
        ]
        clusters.sort(key=(lambda c: c.name) if sort_by == "NAME" else (lambda c: (c.created_at, c.name)),
                      reverse=order == "DESC")
        start = 0
        if page:
            if not _ASCII_DIGITS.fullmatch(page):
                raise invalid_argument(f"pagination.page: expected a page token from next_page, got '{_shown(page)}'")
            start = int(page)
        end = len(clusters) if not limit else start + limit
        body: dict[str, Any] = {"clusters": [self.render_cluster(c) for c in clusters[start:end]], "pagination": {}}
        if end < len(clusters):
            body["pagination"]["next_page"] = str(end)
        if start > 0:
            body["pagination"]["previous_page"] = str(max(0, start - (limit or start)))
        return body

    def get_cluster(self, cluster_id: str) -> dict[str, Any]:
        return self.render_cluster(self.cluster(cluster_id))

    def get_cmek(self, cluster_id: str) -> dict[str, Any]:
        cluster = self.cluster(cluster_id)
        if cluster.cmek is None and self.settings.cmek_absent == "404":
            raise not_found(f"cluster {cluster_id} has no CMEK configuration (CMEK was never enabled)")
        return render_cmek(cluster)

    def cluster(self, cluster_id: str) -> ClusterRecord:
        try:
            return self.clusters[cluster_id]
        except KeyError:
            raise not_found(f"cluster {cluster_id} not found") from None

    # ------------------------------------------------------------------------------------------
    # Preconditions
    # ------------------------------------------------------------------------------------------

    def _fp(self, detail: str) -> ApiError:
        return refusal(self.settings.failed_precondition_status, detail)

    def _require_eligible(self, cluster: ClusterRecord) -> None:
        if cluster.plan == "ADVANCED" and cluster.network_visibility == "PRIVATE":
            return
        detail = (
            "CMEK requires an ADVANCED cluster with PRIVATE network visibility (advanced security features "
            f"enabled at creation); cluster {cluster.id} has plan {cluster.plan} and network_visibility "
            f"{cluster.network_visibility}"
        )
        if self.settings.ineligible_cluster_grpc_code == FAILED_PRECONDITION:
            raise self._fp(detail)
        raise invalid_argument(detail)

    def _require_created(self, cluster: ClusterRecord) -> None:
        state = self.effective_state(cluster)
        if state == "CREATED":
            return
        if state in ("DELETED", "CREATION_FAILED"):
            raise self._fp(f"cluster {cluster.id} is {state}")
        raise unavailable(
            f"cluster {cluster.id} is {state}: another operation holds the cluster lock; "
            "retry when the cluster state is CREATED"
        )

    def _require_not_busy(self, cluster: ClusterRecord) -> None:
        running = self._pending(cluster.id, CMEK_OPERATIONS)
        if not running:
            return
        raise refusal(
            self.settings.cmek_busy_status,
            f"a CMEK operation ({running[0].kind}) is in progress on cluster {cluster.id} and holds the "
            f"cluster's CMEK lock (status {cluster.cmek_status()}); retry when it has finished",
        )

    def _revoked(self, cluster: ClusterRecord) -> bool:
        return any(r.status in REVOKED_STATUSES for r in (cluster.cmek or {}).values())

    def _cmek_on(self, cluster: ClusterRecord) -> bool:
        return cluster.cmek_status() not in (None, DISABLED)

    def _check_kms(self, operation: str, specs: Sequence[Mapping[str, Any]]) -> None:
        if operation not in self.settings.kms_check_operations:
            return
        now = self.clock.now()
        refusals = []
        for spec in specs:
            key = spec["key_spec"]
            refusal_detail = self.kms.synchronous_refusal(
                key["uri"], key["auth_principal"], now, self.settings.iam_propagation_seconds
            )
            if refusal_detail:
                refusals.append(refusal_detail)
        if refusals:
            raise invalid_argument(refusals[0])

    # ------------------------------------------------------------------------------------------
    # CMEK operations
    # ------------------------------------------------------------------------------------------

    def _require_key_changes_allowed(self, cluster: ClusterRecord) -> None:
        """POST and PUT: an eligible cluster, CREATED (else 503), and not revoked (support only)."""
        self._require_eligible(cluster)
        self._require_created(cluster)
        if self._revoked(cluster):
            raise self._fp(contact_support(cluster.id))

    def enable_cmek(self, cluster_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST /cmek: every cluster region once; all levels ENABLING, then ENABLED."""
        cluster = self.cluster(cluster_id)
        self._require_key_changes_allowed(cluster)
        status = cluster.cmek_status()
        if status not in (None, DISABLED, ENABLE_FAILED):
            detail = (
                f"CMEK is already enabled for cluster {cluster.id} (status {status}); "
                f"rotate keys with PUT /api/v1/clusters/{cluster.id}/cmek"
            )
            raise refusal(self.settings.enable_twice_status, detail, code_for_409=ALREADY_EXISTS)
        self._require_not_busy(cluster)
        specs = body.get("region_specs", [])
        check_region_specs(
            cluster,
            specs,
            field="region_specs",
            region_rule=lambda r: None if r in cluster.regions else self._not_a_region(cluster),
            required_regions=list(cluster.regions),
            validate_formats=self.settings.validate_key_formats,
        )
        self._check_kms("enable", specs)
        now = self.clock.now()
        cmek = cluster.cmek if cluster.cmek is not None else {}
        op = self._new_op(cluster.id, "enable", self.settings.enable_seconds)
        for spec in specs:
            region = cmek.setdefault(spec["region"], RegionCmek(spec["region"], ENABLING))
            region.status = ENABLING
            key = KeyRecord(dict(spec["key_spec"]), ENABLING, now, now)
            region.keys.append(key)
            op.targets[region.region] = key
        cluster.cmek = cmek
        cluster.cmek_failed = False
        return render_cmek(cluster)

    def update_cmek(self, cluster_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PUT /cmek: rotate the listed regions (a subset); same spec = re-wrap."""
        cluster = self.cluster(cluster_id)
        self._require_key_changes_allowed(cluster)
        if not self._cmek_on(cluster):
            if self.settings.put_when_disabled == "enable":
                return self.enable_cmek(cluster_id, body)
            raise self._fp(
                f"CMEK is not enabled for cluster {cluster.id}; enable it first with "
                f"POST /api/v1/clusters/{cluster.id}/cmek (PUT rotates regions that already use CMEK)"
            )
        self._require_not_busy(cluster)
        specs = body.get("region_specs", [])
        check_region_specs(
            cluster,
            specs,
            field="region_specs",
            region_rule=lambda r: None if r in cluster.regions else self._not_a_region(cluster),
            validate_formats=self.settings.validate_key_formats,
        )
        cmek = cluster.cmek or {}
        not_rotatable = []
        for index, spec in enumerate(specs):
            info = cmek.get(spec["region"])
            if info is None or info.status not in (ENABLED, ROTATE_FAILED):
                status = info.status if info else "no CMEK key"
                not_rotatable.append(
                    f"region_specs[{index}].region: only regions whose CMEK is ENABLED (or ROTATE_FAILED) "
                    f"can be rotated; '{spec['region']}' has {status}"
                )
        if not_rotatable:
            raise self._fp("; ".join(not_rotatable))
        self._check_kms("rotate", specs)
        now = self.clock.now()
        op = self._new_op(cluster.id, "rotate", self.settings.rotate_seconds)
        for spec in specs:
            info = cmek[spec["region"]]
            current = info.key_with_status(ENABLED)
            info.status = ROTATING
            new_spec = dict(spec["key_spec"])
            if current is not None and current.spec == new_spec and self.settings.same_uri_rotation == "in_place":
                op.targets[info.region] = current
                op.previous[info.region] = None
                continue
            if current is not None:
                current.set_status(DISABLING, now)
            key = KeyRecord(new_spec, ENABLING, now, now)
            info.keys.append(key)
            op.targets[info.region] = key
            op.previous[info.region] = current
        cluster.cmek_failed = False
        return render_cmek(cluster)

    def update_cmek_status(self, cluster_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH /cmek {"action": "REVOKE"}: all levels REVOKING, then REVOKED."""
        cluster = self.cluster(cluster_id)
        if body.get("action") != "REVOKE":
            raise invalid_argument("action: expected REVOKE (the only customer action), got nothing")
        self._require_created(cluster)
        status = cluster.cmek_status()
        if not self._cmek_on(cluster):
            raise refusal(
                self.settings.revoke_when_absent_status,
                f"cluster {cluster.id} has no CMEK configuration to revoke (status {status or 'never enabled'})",
            )
        if self._revoked(cluster):
            raise refusal(self.settings.revoke_twice_status, f"CMEK for cluster {cluster.id} is already {status}")
        self._require_not_busy(cluster)
        now = self.clock.now()
        self._new_op(cluster.id, "revoke", self.settings.revoke_seconds)
        for info in (cluster.cmek or {}).values():
            info.status = REVOKING
            for key in info.keys:
                if key.status == ENABLED:
                    key.set_status(REVOKING, now)
        cluster.cmek_failed = False
        return render_cmek(cluster)

    # ------------------------------------------------------------------------------------------
    # Cluster update (region changes)
    # ------------------------------------------------------------------------------------------

    def update_cluster(self, cluster_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH cluster: labels/delete_protection/parent_id now; region changes as a locked operation.

        The other fields the API documents (``UNMODELLED_CLUSTER_FIELDS``: version upgrades, plan
        changes, hardware, serverless settings) are refused with a 400 naming each one, before
        anything in the request is applied: a test double must not pretend to have done them.
        """
        cluster = self.cluster(cluster_id)
        dedicated = body.get("dedicated", {})
        present = {name for name in body} | {f"dedicated.{name}" for name in dedicated}
        unsupported = sorted(present & set(UNMODELLED_CLUSTER_FIELDS))
        if unsupported:
            raise_if(
                [
                    f"{name}: the simulator does not model changes to this field (only to "
                    f"{', '.join(MODELLED_CLUSTER_FIELDS)}): remove it from the request"
                    for name in unsupported
                ]
            )
        simple = {name: body[name] for name in ("labels", "delete_protection", "parent_id") if name in body}
        region_change = "region_nodes" in dedicated or "cmek_region_specs" in dedicated
        if not simple and not region_change:
            if self.settings.empty_cluster_update == "reject":
                raise invalid_argument(
                    "the update specification changes nothing; give at least one of cockroach_version, dedicated "
                    "(region_nodes, cmek_region_specs, hardware), delete_protection, labels, parent_id, plan, "
                    "serverless, upgrade_status"
                )
            return self.render_cluster(cluster)
        if region_change:
            self._change_regions(cluster, dedicated.get("region_nodes"), dedicated.get("cmek_region_specs", []))
        if simple:
            cluster.labels = dict(simple.get("labels", cluster.labels))
            cluster.delete_protection = simple.get("delete_protection", cluster.delete_protection)
            cluster.parent_id = simple.get("parent_id", cluster.parent_id) or "root"
            cluster.updated_at = self.clock.now()
        return self.render_cluster(cluster)

    def _change_regions(
        self, cluster: ClusterRecord, region_nodes: dict[str, int] | None, cmek_specs: list[dict[str, Any]]
    ) -> None:
        if not cluster.is_dedicated:
            raise invalid_argument(
                f"dedicated: cluster {cluster.id} is a {cluster.plan} cluster; region_nodes and cmek_region_specs "
                "apply to ADVANCED clusters only"
            )
        self._require_created(cluster)
        nodes = dict(cluster.regions) if region_nodes is None else dict(region_nodes)
        problems = []
        if not nodes:
            problems.append(
                "dedicated.region_nodes: expected the cluster's complete region set (region -> node count), got {}"
            )
        for name, count in sorted(nodes.items()):
            field_name = f"dedicated.region_nodes['{name}']"
            naming = region_name_problem(cluster.cloud_provider, field_name, name)
            if naming:
                problems.append(naming)
            elif count < self.settings.min_nodes_per_region:
                problems.append(
                    f"{field_name}: an ADVANCED cluster needs at least {self.settings.min_nodes_per_region} "
                    f"nodes per region, got {count}"
                )
        raise_if(problems)
        new_regions = sorted(set(nodes) - set(cluster.regions))
        if self._revoked(cluster) and (new_regions or cmek_specs):
            raise self._fp(contact_support(cluster.id))
        cmek_on = self._cmek_on(cluster)
        if cmek_specs and not cmek_on:
            raise self._fp(
                f"dedicated.cmek_region_specs: CMEK is not enabled for cluster {cluster.id}; enable it with "
                f"POST /api/v1/clusters/{cluster.id}/cmek first"
            )
        if cmek_on:
            self._require_not_busy(cluster)
        if self.settings.cmek_spec_outside_region_nodes == "ignore":
            cmek_specs = [s for s in cmek_specs if s.get("region") in nodes or s.get("region") in cluster.regions]

        def region_rule(region: str) -> str | None:
            if region in cluster.regions:
                return (
                    f"a CMEK spec may only be given for a newly added region; '{region}' is already a region of "
                    f"cluster {cluster.id} (rotate its key with PUT /api/v1/clusters/{cluster.id}/cmek)"
                )
            if region not in nodes:
                return "a CMEK spec needs its region in dedicated.region_nodes (the cluster's complete region set)"
            return None

        if cmek_specs:
            check_region_specs(
                cluster,
                cmek_specs,
                field="dedicated.cmek_region_specs",
                region_rule=region_rule,
                validate_formats=self.settings.validate_key_formats,
            )
        covered = {s["region"] for s in cmek_specs}
        uncovered = [r for r in new_regions if r not in covered]
        if cmek_on and uncovered and self.settings.add_region_without_cmek_spec == "reject":
            raise invalid_argument(
                f"dedicated.cmek_region_specs: cluster {cluster.id} uses CMEK, so every new region needs a CMEK "
                f"spec; missing for {', '.join(uncovered)}"
            )
        self._check_kms("add_region", cmek_specs)
        if nodes == cluster.regions and not cmek_specs:
            return
        now = self.clock.now()
        for removed in set(cluster.regions) - set(nodes):
            if cluster.cmek is not None:
                cluster.cmek.pop(removed, None)
        cluster.regions = dict(sorted(nodes.items()))
        cluster.updated_at = now
        op = self._new_op(cluster.id, "scale", self.settings.add_region_seconds)
        for spec in cmek_specs:
            assert cluster.cmek is not None
            key = KeyRecord(dict(spec["key_spec"]), ENABLING, now, now)
            cluster.cmek[spec["region"]] = RegionCmek(spec["region"], ENABLING, [key])
            op.targets[spec["region"]] = key
        if cmek_specs:
            cluster.cmek_failed = False

    def _not_a_region(self, cluster: ClusterRecord) -> str:
        return f"expected a region of cluster {cluster.id} ({', '.join(sorted(cluster.regions))})"

    def _complete(self, op: PendingOp) -> None:
        cluster = self.clusters.get(op.cluster_id)
        if cluster is not None:
            complete_operation(cluster, op, self.kms, self.revoke_failures)

    # ------------------------------------------------------------------------------------------
    # Admin hooks (tests and the standalone server's /_simulator endpoints)
    # ------------------------------------------------------------------------------------------

    def set_cluster_state(self, cluster_id: str, state: str, operation_status: str | None = None) -> None:
        """Sets the base cluster state (e.g. LOCKED, then CREATED again)."""
        cluster = self.cluster(cluster_id)
        if state not in CLUSTER_STATES:
            raise ValueError(f"state: expected one of {', '.join(CLUSTER_STATES)}, got {state!r}")
        cluster.state = state
        if operation_status is None:
            operation_status = "CRDB_EDIT_CLUSTER_RUNNING" if state == "LOCKED" else "UNSPECIFIED"
        cluster.operation_status = operation_status
        cluster.updated_at = self.clock.now()

    def lock_cluster(self, cluster_id: str, seconds: float, operation_status: str = "CRDB_EDIT_CLUSTER_RUNNING") -> None:
        """LOCKED now, CREATED again ``seconds`` later (another operation holding the lock)."""
        self.set_cluster_state(cluster_id, "LOCKED", operation_status)
        self._new_op(cluster_id, "unlock", seconds)

    def fail_next_revoke(self, cluster_id: str, message: str | None = None) -> None:
        """The next revoke of this cluster ends in REVOKE_FAILED with ``message`` as user_message."""
        self.cluster(cluster_id)
        self.revoke_failures[cluster_id] = message or (
            "CockroachDB Cloud could not complete the revocation; contact support"
        )

    def support_disable(self, cluster_id: str) -> None:
        """What only Cockroach Labs support can do (no customer API): DISABLING, then DISABLED."""
        cluster = self.cluster(cluster_id)
        if not self._cmek_on(cluster):
            raise ValueError(f"cluster_id: CMEK is not enabled on {cluster_id}")
        if self._pending(cluster.id, CMEK_OPERATIONS):
            raise ValueError(f"cluster_id: a CMEK operation is running on {cluster_id}")
        now = self.clock.now()
        self._new_op(cluster.id, "disable", self.settings.disable_seconds)
        for info in (cluster.cmek or {}).values():
            info.status = DISABLING
            for key in info.keys:
                if key.status in (ENABLED, REVOKED):
                    key.set_status(DISABLING, now)


def _query_bool(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name, "false").lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise invalid_argument(f"{name}: expected true or false, got '{value}'")


def _query_int(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    assert value is not None
    if not _ASCII_DIGITS.fullmatch(value):
        raise invalid_argument(f"{name}: expected an integer >= 0 (ASCII digits), got '{_shown(value)}'")
    return int(value)


_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
"""Query integers and page tokens: ASCII digits only (``str.isdigit`` and ``int`` also take
``²``, ``١٢`` or ``1_0``), and few enough that ``int`` never refuses them."""


def _shown(value: str, limit: int = 40) -> str:
    """A query value for an error message, cut to ``limit`` characters."""
    return value if len(value) <= limit else value[:limit] + f"... ({len(value)} characters)"
