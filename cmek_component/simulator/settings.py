"""``SimulatorSettings``: delays, limits and every guessed behaviour as a named switch.

The full description of each setting is in the package docstring
(``cmek_component.simulator``); the comments here are the short form.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

SEED_API_KEY = "sim-admin-key"
"""Accepted by default with role CLUSTER_ADMIN."""
OPERATOR_API_KEY = "sim-operator-key"
"""Accepted by default with role CLUSTER_OPERATOR_WRITER."""
DEVELOPER_API_KEY = "sim-developer-key"
"""Accepted by default with role CLUSTER_DEVELOPER (may read clusters, not CMEK)."""

ROLES = (
    "ORG_ADMIN",
    "ORG_MEMBER",
    "CLUSTER_ADMIN",
    "CLUSTER_OPERATOR_WRITER",
    "CLUSTER_DEVELOPER",
    "FOLDER_ADMIN",
    "FOLDER_MOVER",
    "METRICS_VIEWER",
    "CLUSTER_MONITOR",
)

KNOWN_CC_VERSIONS = ("2022-03-31", "2022-09-20", "2023-04-10", "2024-09-16")
LATEST_CC_VERSION = "2024-09-16"

KMS_CHECKED_OPERATIONS = ("enable", "rotate", "add_region")


def default_api_keys() -> dict[str, str]:
    return {
        SEED_API_KEY: "CLUSTER_ADMIN",
        OPERATOR_API_KEY: "CLUSTER_OPERATOR_WRITER",
        DEVELOPER_API_KEY: "CLUSTER_DEVELOPER",
    }


@dataclass
class SimulatorSettings:
    """How the simulated CockroachDB Cloud API behaves. Every field has a safe default.

    Delays are simulated seconds (0 = the next request already sees the result). Fields marked
    *guess* choose between plausible answers of the real API, which the public material does
    not settle (contract notes §6, rows marked G).
    """

    # --- delays (simulated seconds) ------------------------------------------------------------
    enable_seconds: float = 30.0
    """POST /cmek: ENABLING -> ENABLED (or ENABLE_FAILED)."""
    rotate_seconds: float = 30.0
    """PUT /cmek: ROTATING -> ENABLED (or ROTATE_FAILED)."""
    revoke_seconds: float = 10.0
    """PATCH /cmek REVOKE: REVOKING -> REVOKED."""
    add_region_seconds: float = 60.0
    """PATCH cluster region changes: LOCKED/CRDB_SCALE_RUNNING -> CREATED, new regions ENABLING -> ENABLED."""
    disable_seconds: float = 30.0
    """Support-only disable (``Simulator.support_disable``): DISABLING -> DISABLED."""
    iam_propagation_seconds: float = 0.0
    """A (key uri, auth_principal) pair is refused with 400 until this long after it was first seen."""

    # --- transport -------------------------------------------------------------------------------
    api_keys: dict[str, str] = field(default_factory=default_api_keys)
    """Accepted bearer keys -> role (one of ROLES; several roles comma-separated)."""
    accepted_cc_versions: tuple[str, ...] = KNOWN_CC_VERSIONS
    """Cc-Version values accepted (guess for the older dates); others get 400 "invalid Cc-Version."."""
    rate_limit_per_second: float | None = 10.0
    """Requests per second per key (token bucket, burst = the same number); None disables the limit."""
    rate_limit_status: int = 429
    """guess: HTTP status of a rate-limited answer (always with Retry-After and "rate limit exceeded")."""
    unknown_fields: Literal["ignore", "reject"] = "ignore"
    """guess: unknown JSON fields in request bodies are ignored, or refused with a protojson 400."""
    failed_precondition_status: int = 400
    """guess: HTTP status for FAILED_PRECONDITION (grpc-gateway v2: 400; v1: 412)."""

    # --- CMEK endpoints --------------------------------------------------------------------------
    cmek_absent: Literal["404", "DISABLED"] = "404"
    """guess: GET /cmek before the first enable: 404 NOT_FOUND, or 200 {"status": "DISABLED", "region_infos": []}."""
    enable_twice_status: Literal[400, 409] = 400
    """guess: POST /cmek when CMEK is already on: 400 FAILED_PRECONDITION or 409 ALREADY_EXISTS."""
    put_when_disabled: Literal["reject", "enable"] = "reject"
    """guess: PUT /cmek before the first enable: 400 FAILED_PRECONDITION, or treated as POST."""
    cmek_busy_status: Literal[400, 409, 503] = 409
    """guess: POST/PUT/REVOKE/add-region while a CMEK operation runs (message mentions the lock)."""
    lock_cluster_during_cmek: bool = False
    """guess: cluster state is LOCKED while a CMEK operation runs (then mutations get 503)."""
    same_uri_rotation: Literal["new_key_info", "in_place"] = "new_key_info"
    """guess: PUT with an unchanged spec appends a new key_info (old one DISABLED) or re-wraps in place."""
    revoke_when_absent_status: Literal[400, 404] = 404
    """guess: PATCH /cmek REVOKE before the first enable: 404 NOT_FOUND or 400 FAILED_PRECONDITION."""
    revoke_twice_status: Literal[400, 409] = 400
    """guess: REVOKE when already REVOKING/REVOKED: 400 FAILED_PRECONDITION or 409 ABORTED."""
    validate_key_formats: bool = True
    """guess: the server checks key URI / principal formats synchronously (400) or accepts any string."""
    kms_check_operations: tuple[str, ...] = KMS_CHECKED_OPERATIONS
    """guess for rotate/add_region: operations that check KMS access synchronously (enable is documented)."""
    ineligible_cluster_grpc_code: Literal[3, 9] = 9
    """guess: gRPC code for CMEK on a non-ADVANCED or PUBLIC cluster (9 FAILED_PRECONDITION or 3 INVALID_ARGUMENT)."""

    # --- cluster endpoint ------------------------------------------------------------------------
    add_region_without_cmek_spec: Literal["reject", "allow"] = "reject"
    """guess: adding a region to a CMEK cluster without a cmek_region_specs entry."""
    cmek_spec_outside_region_nodes: Literal["reject", "ignore"] = "reject"
    """guess: a cmek_region_specs entry for a region missing from region_nodes."""
    empty_cluster_update: Literal["reject", "accept"] = "reject"
    """guess: PATCH cluster with nothing to change (e.g. the seed's {"region_specs": ...} body)."""
    min_nodes_per_region: int = 3
    """Advanced clusters need at least this many nodes per region (documented: 3)."""
    include_is_customer_cloud_account: bool = False
    """guess: Cluster bodies carry ``is_customer_cloud_account`` (the spec requires but never defines it)."""

    # --- world ----------------------------------------------------------------------------------
    fleet_clusters: int = 0
    """Extra eligible clusters besides the seeds (``seeds.fleet_clusters``: AWS, one region
    us-east-1, ids ``seeds.fleet_cluster_id(i)``), for stacks of many activations; 0 to 1000."""

    def __post_init__(self) -> None:
        for name in ("enable_seconds", "rotate_seconds", "revoke_seconds", "add_region_seconds",
                     "disable_seconds", "iam_propagation_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name}: expected a number of seconds >= 0, got {value!r}")
        if not isinstance(self.fleet_clusters, int) or not 0 <= self.fleet_clusters <= 1000:
            raise ValueError(f"fleet_clusters: expected a whole number from 0 to 1000, got {self.fleet_clusters!r}")
        if self.rate_limit_per_second is not None and self.rate_limit_per_second <= 0:
            raise ValueError(
                f"rate_limit_per_second: expected a positive rate or None, got {self.rate_limit_per_second!r}"
            )
        if not 400 <= self.rate_limit_status <= 599:
            raise ValueError(f"rate_limit_status: expected an HTTP error status, got {self.rate_limit_status!r}")
        for key, role in self.api_keys.items():
            for part in role.split(","):
                if part.strip() not in ROLES:
                    raise ValueError(f"api_keys[...]: expected roles from {', '.join(ROLES)}, got {role!r}")
            if not key:
                raise ValueError("api_keys: expected non-empty keys, got ''")
        for op in self.kms_check_operations:
            if op not in KMS_CHECKED_OPERATIONS:
                raise ValueError(
                    f"kms_check_operations: expected names from {', '.join(KMS_CHECKED_OPERATIONS)}, got {op!r}"
                )
        _check_choice(self, "cmek_absent", ("404", "DISABLED"))
        _check_choice(self, "enable_twice_status", (400, 409))
        _check_choice(self, "put_when_disabled", ("reject", "enable"))
        _check_choice(self, "unknown_fields", ("ignore", "reject"))
        _check_choice(self, "cmek_busy_status", (400, 409, 503))
        _check_choice(self, "same_uri_rotation", ("new_key_info", "in_place"))
        _check_choice(self, "revoke_when_absent_status", (400, 404))
        _check_choice(self, "revoke_twice_status", (400, 409))
        _check_choice(self, "ineligible_cluster_grpc_code", (3, 9))
        _check_choice(self, "add_region_without_cmek_spec", ("reject", "allow"))
        _check_choice(self, "cmek_spec_outside_region_nodes", ("reject", "ignore"))
        _check_choice(self, "empty_cluster_update", ("reject", "accept"))
        _check_choice(self, "failed_precondition_status", (400, 412))

    def __repr__(self) -> str:
        # API keys are secrets, even simulated ones: never in reprs or logs.
        shown = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "api_keys"}
        fields = ", ".join(f"{k}={v!r}" for k, v in shown.items())
        return f"SimulatorSettings({fields}, api_keys=<{len(self.api_keys)} keys>)"


def _check_choice(settings: SimulatorSettings, name: str, choices: tuple[object, ...]) -> None:
    value = getattr(settings, name)
    if value not in choices:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {value!r}")
