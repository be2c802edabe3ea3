"""The customer's CMEK operations on a simulated cluster: enable (POST), rotate (PUT), revoke (PATCH).

Each checks the Cloud API's preconditions (:class:`.world_state.WorldState`), sets every level of
the cluster's CMEK to the operation's running status and queues the ``PendingOp`` that completes
it; the response body is the cluster's CMEK as it stands right after the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ALREADY_EXISTS, invalid_argument, refusal
from .model import (
    DISABLED,
    DISABLING,
    ENABLE_FAILED,
    ENABLED,
    ENABLING,
    REVOKING,
    ROTATE_FAILED,
    ROTATING,
    KeyRecord,
    RegionCmek,
    render_cmek,
)
from .world_state import WorldState


class CmekOperations(WorldState):
    """POST, PUT and PATCH ``/api/v1/clusters/{cluster_id}/cmek``."""

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
        self._check_cluster_region_specs(cluster, specs, required_regions=list(cluster.regions))
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
        self._check_cluster_region_specs(cluster, specs)
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
