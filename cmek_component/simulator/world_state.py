"""The simulated organization's state and the rules every operation checks before it acts.

``WorldState`` holds the clusters, the queue of pending operations (completed by ``apply_due()``
once the clock reaches their due time), the KMS access the CMEK operations consult, and the
preconditions the Cloud API enforces (eligible cluster, CREATED, no CMEK operation running, not
revoked, KMS access). The operations themselves live in :mod:`.cmek_operations` and
:mod:`.cluster_updates`; :class:`.world.World` puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import seeds
from .clock import Clock
from .errors import FAILED_PRECONDITION, ApiError, invalid_argument, not_found, refusal, unavailable
from .kms import KmsAccess
from .model import DISABLED, REVOKED_STATUSES, ClusterRecord, render_cluster
from .settings import SimulatorSettings
from .transitions import CMEK_OPERATIONS, PendingOp, complete_operation
from .validation import check_region_specs, contact_support


class WorldState:
    """Clusters, pending operations and KMS access for one simulated organization."""

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

    def _complete(self, op: PendingOp) -> None:
        cluster = self.clusters.get(op.cluster_id)
        if cluster is not None:
            complete_operation(cluster, op, self.kms, self.revoke_failures)

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

    def _require_key_changes_allowed(self, cluster: ClusterRecord) -> None:
        """POST and PUT: an eligible cluster, CREATED (else 503), and not revoked (support only)."""
        self._require_eligible(cluster)
        self._require_created(cluster)
        if self._revoked(cluster):
            raise self._fp(contact_support(cluster.id))

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

    def _check_cluster_region_specs(
        self, cluster: ClusterRecord, specs: Sequence[dict[str, Any]], required_regions: Sequence[str] = ()
    ) -> None:
        """POST and PUT ``region_specs``: each a region of the cluster (POST: every one of them)."""
        check_region_specs(
            cluster,
            specs,
            field="region_specs",
            region_rule=lambda r: None if r in cluster.regions else self._not_a_region(cluster),
            required_regions=required_regions,
            validate_formats=self.settings.validate_key_formats,
        )

    def _not_a_region(self, cluster: ClusterRecord) -> str:
        return f"expected a region of cluster {cluster.id} ({', '.join(sorted(cluster.regions))})"
