"""Mutable simulator state (clusters, CMEK per region, keys) and its API rendering.

Statuses follow the OpenAPI ``CMEKStatus`` enum. The cluster-level CMEK status is derived from
the regions (contract K21, a guess): a failure wins, then an operation in progress, else the
common terminal status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .clock import format_timestamp
from .seeds import CREATOR_ID, ClusterSeed

ENABLED = "ENABLED"
ENABLING = "ENABLING"
ENABLE_FAILED = "ENABLE_FAILED"
ROTATING = "ROTATING"
ROTATE_FAILED = "ROTATE_FAILED"
REVOKING = "REVOKING"
REVOKED = "REVOKED"
REVOKE_FAILED = "REVOKE_FAILED"
DISABLING = "DISABLING"
DISABLED = "DISABLED"
DISABLE_FAILED = "DISABLE_FAILED"

FAILED_STATUSES = (ENABLE_FAILED, ROTATE_FAILED, REVOKE_FAILED, DISABLE_FAILED)
ACTIVE_STATUSES = (REVOKING, ROTATING, ENABLING, DISABLING)
REVOKED_STATUSES = (REVOKING, REVOKED)

CLUSTER_STATES = ("CREATING", "CREATED", "CREATION_FAILED", "DELETED", "LOCKED")


@dataclass
class KeyRecord:
    """One entry of a region's ``key_infos``: a key spec and where it stands."""

    spec: dict[str, str]
    status: str
    created_at: float
    updated_at: float
    user_message: str | None = None

    def set_status(self, status: str, at: float, user_message: str | None = None) -> None:
        self.status = status
        self.updated_at = at
        self.user_message = user_message

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "spec": dict(self.spec),
            "status": self.status,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
        }
        if self.user_message:
            data["user_message"] = self.user_message
        return data


@dataclass
class RegionCmek:
    """CMEK in one cluster region: its status and every key it has used (oldest first)."""

    region: str
    status: str
    keys: list[KeyRecord] = field(default_factory=list)

    def key_with_status(self, *statuses: str) -> KeyRecord | None:
        for key in reversed(self.keys):
            if key.status in statuses:
                return key
        return None

    def to_api(self) -> dict[str, Any]:
        return {"region": self.region, "status": self.status, "key_infos": [k.to_api() for k in self.keys]}


@dataclass
class ClusterRecord:
    """A cluster as the simulator keeps it. ``state``/``operation_status`` are the admin-set
    base values; running operations override them when rendered."""

    id: str
    name: str
    cloud_provider: str
    plan: str
    network_visibility: str
    state: str
    operation_status: str
    account_id: str
    regions: dict[str, int]
    created_at: float
    updated_at: float
    labels: dict[str, str] = field(default_factory=dict)
    delete_protection: str = "DISABLED"
    parent_id: str = "root"
    cmek: dict[str, RegionCmek] | None = None
    """None until CMEK is first enabled."""
    cmek_failed: bool = False
    """The last CMEK operation failed (operation_status CRDB_CMEK_OPERATION_FAILED)."""

    @classmethod
    def from_seed(cls, seed: ClusterSeed, now: float) -> ClusterRecord:
        created = now - seed.created_days_ago * 86_400 - 3_600
        return cls(
            id=seed.id,
            name=seed.name,
            cloud_provider=seed.cloud_provider,
            plan=seed.plan,
            network_visibility=seed.network_visibility,
            state=seed.state,
            operation_status=seed.operation_status,
            account_id=seed.account_id,
            regions=dict(seed.regions),
            created_at=created,
            updated_at=created,
        )

    @property
    def is_dedicated(self) -> bool:
        return self.plan == "ADVANCED"

    def cmek_status(self) -> str | None:
        """The aggregate CMEK status, or None before the first enable."""
        if self.cmek is None:
            return None
        return aggregate_status([r.status for r in self.cmek.values()])


def aggregate_status(statuses: list[str]) -> str:
    """Cluster-level status from region statuses: failure > in progress > common status."""
    if not statuses:
        return DISABLED
    for status in (*FAILED_STATUSES, *ACTIVE_STATUSES):
        if status in statuses:
            return status
    if ENABLED in statuses:
        return ENABLED
    return statuses[0]


def render_cmek(cluster: ClusterRecord) -> dict[str, Any]:
    """``CMEKClusterInfo``: region_infos sorted by region name."""
    regions = cluster.cmek or {}
    return {
        "status": cluster.cmek_status() or DISABLED,
        "region_infos": [regions[name].to_api() for name in sorted(regions)],
    }


def _dns(cluster: ClusterRecord, region: str) -> str:
    cloud = cluster.cloud_provider.lower()
    return f"{cluster.name}-{cluster.id[:4]}.{cloud}-{region}.cockroachlabs.cloud"


def render_cluster(
    cluster: ClusterRecord, *, state: str, operation_status: str, include_is_customer_cloud_account: bool
) -> dict[str, Any]:
    """``Cluster`` with every field the spec marks required (except the undefined one)."""
    regions = []
    for name in sorted(cluster.regions):
        dns = _dns(cluster, name)
        regions.append(
            {
                "name": name,
                "sql_dns": dns,
                "ui_dns": f"admin-{dns}",
                "internal_dns": f"internal-{dns}" if cluster.is_dedicated else "",
                "private_endpoint_dns": (
                    f"private-{dns}" if cluster.is_dedicated and cluster.cloud_provider == "GCP" else ""
                ),
                "node_count": cluster.regions[name],
                "primary": False,
            }
        )
    if cluster.is_dedicated:
        machine = "m6i.xlarge" if cluster.cloud_provider == "AWS" else "n2-standard-4"
        config: dict[str, Any] = {
            "dedicated": {
                "machine_type": machine,
                "num_virtual_cpus": 4,
                "storage_gib": 150,
                "memory_gib": 16.0,
                "disk_iops": 0,
            }
        }
    else:
        config = {"serverless": {"routing_id": f"{cluster.name}-{cluster.id[:4]}", "upgrade_type": "AUTOMATIC"}}
    data: dict[str, Any] = {
        "id": cluster.id,
        "name": cluster.name,
        "cockroach_version": "v24.3.5",
        "upgrade_status": "FINALIZED",
        "plan": cluster.plan,
        "cloud_provider": cluster.cloud_provider,
        "account_id": cluster.account_id,
        "state": state,
        "creator_id": CREATOR_ID,
        "operation_status": operation_status,
        "network_visibility": cluster.network_visibility,
        "config": config,
        "regions": regions,
        "cidr_range": "172.28.0.0/14" if cluster.is_dedicated and cluster.cloud_provider == "GCP" else "",
        "labels": dict(cluster.labels),
        "delete_protection": cluster.delete_protection,
        "parent_id": cluster.parent_id,
        "sql_dns": _dns(cluster, sorted(cluster.regions)[0]) if cluster.regions else "",
        "egress_traffic_policy": "ALLOW_ALL" if cluster.is_dedicated else "UNSPECIFIED",
        "created_at": format_timestamp(cluster.created_at),
        "updated_at": format_timestamp(cluster.updated_at),
    }
    if include_is_customer_cloud_account:
        data["is_customer_cloud_account"] = False
    return data
