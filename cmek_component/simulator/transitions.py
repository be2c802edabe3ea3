"""What happens when an asynchronous operation finishes (simulated time reached its due time).

* enable / scale (new CMEK regions): each target key ENABLED (an older ENABLED key in the region
  becomes DISABLED), or ENABLE_FAILED with a ``user_message`` when its key is unreachable;
* rotate: new key ENABLED and the replaced one DISABLED, or region ROTATE_FAILED with the new
  key ROTATE_FAILED (message) and the replaced key ENABLED again; an in-place re-wrap only
  refreshes the key;
* revoke: REVOKED everywhere, or REVOKE_FAILED with keys ENABLED again;
* disable (support only): DISABLED everywhere; unlock: the cluster is CREATED again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .kms import KmsAccess
from .model import (
    DISABLED,
    DISABLING,
    ENABLE_FAILED,
    ENABLED,
    REVOKE_FAILED,
    REVOKED,
    REVOKING,
    ROTATE_FAILED,
    ClusterRecord,
    KeyRecord,
)

CMEK_OPERATIONS = ("enable", "rotate", "revoke", "disable")


@dataclass
class PendingOp:
    """An asynchronous operation that completes at ``due`` (simulated time)."""

    due: float
    seq: int
    cluster_id: str
    kind: str
    """enable, rotate, revoke, disable (CMEK); scale (region changes); unlock (timed lock)."""
    targets: dict[str, KeyRecord] = field(default_factory=dict)
    """Region -> the key being enabled there."""
    previous: dict[str, KeyRecord | None] = field(default_factory=dict)
    """Rotations: region -> the key being replaced (None when re-wrapping in place)."""


def complete_operation(
    cluster: ClusterRecord, op: PendingOp, kms: KmsAccess, revoke_failures: dict[str, str]
) -> None:
    """Applies the end of ``op`` to ``cluster`` at ``op.due``: success, or the failure the KMS
    model (``mark_key_unreachable(..., "ENABLE_FAILED")``) or ``fail_next_revoke`` asks for."""
    at = op.due
    cmek = cluster.cmek or {}
    if op.kind == "unlock":
        cluster.state = "CREATED"
        cluster.operation_status = "UNSPECIFIED"
        return
    if op.kind in ("enable", "scale"):
        for region, key in op.targets.items():
            info = cmek.get(region)
            if info is None or all(k is not key for k in info.keys):
                continue
            failure = kms.asynchronous_failure(key.spec["uri"], key.spec["auth_principal"])
            if not failure:
                for other in info.keys:
                    if other is not key and other.status == ENABLED:
                        other.set_status(DISABLED, at)
            key.set_status(ENABLE_FAILED if failure else ENABLED, at, failure)
            info.status = key.status
            cluster.cmek_failed = cluster.cmek_failed or bool(failure)
    elif op.kind == "rotate":
        for region, key in op.targets.items():
            info = cmek.get(region)
            if info is None:
                continue
            previous = op.previous.get(region)
            failure = kms.asynchronous_failure(key.spec["uri"], key.spec["auth_principal"])
            if failure:
                info.status = ROTATE_FAILED
                cluster.cmek_failed = True
                if previous is None:
                    key.set_status(ENABLED, at, failure)
                else:
                    key.set_status(ROTATE_FAILED, at, failure)
                    previous.set_status(ENABLED, at)
            else:
                info.status = ENABLED
                key.set_status(ENABLED, at)
                if previous is not None:
                    previous.set_status(DISABLED, at)
    elif op.kind == "revoke":
        failure = revoke_failures.pop(cluster.id, None)
        for info in cmek.values():
            info.status = REVOKE_FAILED if failure else REVOKED
            for key in info.keys:
                if key.status == REVOKING:
                    key.set_status(ENABLED if failure else REVOKED, at, failure)
        cluster.cmek_failed = bool(failure)
    elif op.kind == "disable":
        for info in cmek.values():
            info.status = DISABLED
            for key in info.keys:
                if key.status == DISABLING:
                    key.set_status(DISABLED, at)
    cluster.updated_at = at
