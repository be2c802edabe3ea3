"""The simulated organization: clusters, CMEK state machines and the operations that change them.

Each public method implements one API operation on already-decoded input and either returns the
response body or raises ``ApiError``. Asynchronous work (enable, rotate, revoke, region changes,
support disable, timed cluster locks) is queued as ``PendingOp`` and completed by
``apply_due()`` once the clock reaches its due time. Not thread-safe on its own: ``Simulator``
holds one lock around every call.

``World`` is the reads and the admin hooks; the state and preconditions are
:class:`.world_state.WorldState`'s, the CMEK operations :class:`.cmek_operations.CmekOperations`'
and PATCH cluster :class:`.cluster_updates.ClusterUpdates`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import seeds
from .clock import format_timestamp
from .cluster_listing import list_clusters
from .cluster_updates import ClusterUpdates
from .cmek_operations import CmekOperations
from .errors import not_found
from .model import CLUSTER_STATES, DISABLING, ENABLED, REVOKED, render_cmek
from .transitions import CMEK_OPERATIONS


class World(CmekOperations, ClusterUpdates):
    """Clusters and CMEK state for one simulated organization."""

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
        return list_clusters(self.clusters.values(), query, self.render_cluster)

    def get_cluster(self, cluster_id: str) -> dict[str, Any]:
        return self.render_cluster(self.cluster(cluster_id))

    def get_cmek(self, cluster_id: str) -> dict[str, Any]:
        cluster = self.cluster(cluster_id)
        if cluster.cmek is None and self.settings.cmek_absent == "404":
            raise not_found(f"cluster {cluster_id} has no CMEK configuration (CMEK was never enabled)")
        return render_cmek(cluster)

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
