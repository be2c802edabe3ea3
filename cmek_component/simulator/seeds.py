"""The simulator's fixed world: one organization and nine clusters with stable ids.

=================  =====  ========  =======  ========  ==========================================
constant           cloud  plan      network  state     regions (nodes)
=================  =====  ========  =======  ========  ==========================================
``AWS_SINGLE``     AWS    ADVANCED  PRIVATE  CREATED   us-east-1 (3)
``AWS_MULTI``      AWS    ADVANCED  PRIVATE  CREATED   eu-west-1, us-east-1, us-west-2 (3 each)
``GCP_SINGLE``     GCP    ADVANCED  PRIVATE  CREATED   us-east1 (3)
``GCP_MULTI``      GCP    ADVANCED  PRIVATE  CREATED   europe-west1, us-east1, us-west1 (3 each)
``BASIC``          AWS    BASIC     PUBLIC   CREATED   us-east-1 (serverless)
``STANDARD``       GCP    STANDARD  PUBLIC   CREATED   us-central1 (serverless)
``PUBLIC``         AWS    ADVANCED  PUBLIC   CREATED   us-east-1 (3)
``CREATING``       AWS    ADVANCED  PRIVATE  CREATING  us-east-1 (3)
``LOCKED``         GCP    ADVANCED  PRIVATE  LOCKED    us-east1 (3), operation CRDB_EDIT_CLUSTER_RUNNING
=================  =====  ========  =======  ========  ==========================================

AWS clusters carry a 12-digit CockroachDB-managed ``account_id``, GCP clusters a project id
(``crl-kms-user-<last 12 of id>@<account_id>.iam.gserviceaccount.com`` is their KMS principal).
The helpers at the bottom build well-formed customer keys for tests and demos.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

ORGANIZATION_ID = "52337060-d4a4-4ece-98df-052610c8ec9f"
ORGANIZATION_NAME = "simulated-org"
ORGANIZATION_LABEL = "Simulated Org"
CREATOR_ID = "278f0368-30ba-476b-b1c0-7c98dba66e01"

AWS_SINGLE = "4261032b-e5e9-4ea5-8d58-bbcce2652dcd"
AWS_MULTI = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
GCP_SINGLE = "a1a46dff-ef5d-4c39-a626-10cef6fa1c1e"
GCP_MULTI = "76ca373f-796f-4665-8685-4b0276fa3a66"
BASIC = "8d58feb6-7bbe-4065-b9e7-9f2c98beeed5"
STANDARD = "6bbb77b9-6425-4e9c-b9ee-b050caa30c7e"
PUBLIC = "f18dfa62-f8cd-4860-85b4-5da2aa3e5935"
CREATING = "4e09b296-c811-4209-8c6d-f24282d9bd81"
LOCKED = "d16068d1-4ce9-471a-ae5f-7e56cd9771a0"

ELIGIBLE_CLUSTERS = (AWS_SINGLE, AWS_MULTI, GCP_SINGLE, GCP_MULTI)
"""ADVANCED, PRIVATE and CREATED: CMEK can be enabled right away."""

CUSTOMER_AWS_ACCOUNT = "111122223333"
CUSTOMER_GCP_PROJECT = "customer-kms-project"


@dataclass(frozen=True)
class ClusterSeed:
    """One seeded cluster (plain values; the simulator copies it into mutable state)."""

    id: str
    name: str
    cloud_provider: str
    plan: str
    network_visibility: str
    state: str
    account_id: str
    regions: tuple[tuple[str, int], ...]
    operation_status: str = "UNSPECIFIED"
    created_days_ago: int = 30


CLUSTERS: tuple[ClusterSeed, ...] = (
    ClusterSeed(AWS_SINGLE, "aws-single-region", "AWS", "ADVANCED", "PRIVATE", "CREATED",
                "548012347801", (("us-east-1", 3),)),
    ClusterSeed(AWS_MULTI, "aws-three-regions", "AWS", "ADVANCED", "PRIVATE", "CREATED",
                "548012347802", (("eu-west-1", 3), ("us-east-1", 3), ("us-west-2", 3))),
    ClusterSeed(GCP_SINGLE, "gcp-single-region", "GCP", "ADVANCED", "PRIVATE", "CREATED",
                "crl-prod-7qx", (("us-east1", 3),)),
    ClusterSeed(GCP_MULTI, "gcp-three-regions", "GCP", "ADVANCED", "PRIVATE", "CREATED",
                "crl-prod-9kd", (("europe-west1", 3), ("us-east1", 3), ("us-west1", 3))),
    ClusterSeed(BASIC, "basic-serverless", "AWS", "BASIC", "PUBLIC", "CREATED", "",
                (("us-east-1", 0),)),
    ClusterSeed(STANDARD, "standard-serverless", "GCP", "STANDARD", "PUBLIC", "CREATED", "",
                (("us-central1", 0),)),
    ClusterSeed(PUBLIC, "advanced-public", "AWS", "ADVANCED", "PUBLIC", "CREATED",
                "548012347803", (("us-east-1", 3),)),
    ClusterSeed(CREATING, "advanced-creating", "AWS", "ADVANCED", "PRIVATE", "CREATING",
                "548012347804", (("us-east-1", 3),), created_days_ago=0),
    ClusterSeed(LOCKED, "advanced-locked", "GCP", "ADVANCED", "PRIVATE", "LOCKED",
                "crl-prod-3mv", (("us-east1", 3),), operation_status="CRDB_EDIT_CLUSTER_RUNNING"),
)

BY_ID: dict[str, ClusterSeed] = {seed.id: seed for seed in CLUSTERS}

_FLEET_NAMESPACE = uuid.UUID("5f0c3b7e-2a4d-4e8f-9b1a-6c7d8e9f0a1b")
MAX_FLEET_CLUSTERS = 1000


def fleet_cluster_id(index: int) -> str:
    """The id of fleet cluster ``index`` (0-based): a stable UUID."""
    return str(uuid.uuid5(_FLEET_NAMESPACE, f"fleet-{index}"))


def fleet_clusters(count: int) -> tuple[ClusterSeed, ...]:
    """``count`` more eligible clusters (``SimulatorSettings.fleet_clusters``): AWS, ADVANCED,
    PRIVATE, CREATED, one region ``us-east-1`` with 3 nodes, named ``fleet-000`` ..."""
    return tuple(
        ClusterSeed(fleet_cluster_id(index), f"fleet-{index:03d}", "AWS", "ADVANCED", "PRIVATE",
                    "CREATED", f"5480{index:08d}", (("us-east-1", 3),))
        for index in range(count)
    )


# --------------------------------------------------------------------------------------------
# Well-formed customer keys (deterministic, so tests can compare them)
# --------------------------------------------------------------------------------------------

_KEY_NAMESPACE = uuid.UUID("0b6d2c1e-6f5a-4c1b-9a8e-3d2f1e0c9b8a")


def aws_key_arn(region: str, generation: int = 1, account: str = CUSTOMER_AWS_ACCOUNT) -> str:
    """``arn:aws:kms:<region>:<account>:key/<uuid>``; another ``generation`` gives another key."""
    key_id = uuid.uuid5(_KEY_NAMESPACE, f"aws/{account}/{region}/{generation}")
    return f"arn:aws:kms:{region}:{account}:key/{key_id}"


def aws_role_arn(name: str = "crdb-cmek", account: str = CUSTOMER_AWS_ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def gcp_key_uri(region: str, generation: int = 1, project: str = CUSTOMER_GCP_PROJECT) -> str:
    """``projects/<p>/locations/<region>/keyRings/crdb-cmek/cryptoKeys/cmek-<region>-<generation>``."""
    return f"projects/{project}/locations/{region}/keyRings/crdb-cmek/cryptoKeys/cmek-{region}-{generation}"


def gcp_service_account(name: str = "crdb-cmek-sa", project: str = CUSTOMER_GCP_PROJECT) -> str:
    return f"{name}@{project}.iam.gserviceaccount.com"


def key_spec(cloud: str, region: str, generation: int = 1) -> dict[str, str]:
    """An API-shaped ``key_spec`` for ``cloud`` (``AWS`` or ``GCP``) in ``region``."""
    if cloud == "AWS":
        return {"type": "AWS_KMS", "uri": aws_key_arn(region, generation), "auth_principal": aws_role_arn()}
    if cloud == "GCP":
        return {"type": "GCP_CLOUD_KMS", "uri": gcp_key_uri(region, generation),
                "auth_principal": gcp_service_account()}
    raise ValueError(f"cloud: expected 'AWS' or 'GCP', got {cloud!r}")


def region_specs(cluster_id: str, generation: int = 1, regions: list[str] | None = None) -> list[dict[str, Any]]:
    """API-shaped ``region_specs`` covering every region of a seeded cluster (or ``regions``)."""
    seed = BY_ID.get(cluster_id) or next(s for s in fleet_clusters(MAX_FLEET_CLUSTERS) if s.id == cluster_id)
    names = regions if regions is not None else [name for name, _ in seed.regions]
    return [{"region": name, "key_spec": key_spec(seed.cloud_provider, name, generation)} for name in names]
