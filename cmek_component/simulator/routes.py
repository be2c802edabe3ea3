"""The API operations the simulator serves: path, method, required roles, body shape, handler.

Roles are those the OpenAPI document lists for each operation. Every API key also holds
ORG_MEMBER (the role every member of a Cloud organization has).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .decoding import (
    CMEK_CLUSTER_SPECIFICATION,
    UPDATE_CLUSTER_SPECIFICATION,
    UPDATE_CMEK_STATUS_REQUEST,
    FieldType,
)
from .errors import NOT_FOUND, UNIMPLEMENTED, error
from .settings import ROLES
from .world import World

Handler = Callable[[World, Mapping[str, str], dict[str, Any], Mapping[str, str]], dict[str, Any]]

CLUSTER_READ_ROLES = frozenset(ROLES) - {"ORG_MEMBER"}
"""Every role but ORG_MEMBER may read clusters."""
CLUSTER_WRITE_ROLES = frozenset({"CLUSTER_ADMIN", "CLUSTER_OPERATOR_WRITER"})
CMEK_ROLES = frozenset({"CLUSTER_ADMIN", "CLUSTER_OPERATOR_WRITER"})
ORGANIZATION_ROLES = frozenset({"ORG_ADMIN", "ORG_MEMBER"})


@dataclass(frozen=True)
class Operation:
    operation_id: str
    roles: frozenset[str]
    body: FieldType | None
    handler: Handler


def _organization(world: World, _p: Mapping[str, str], _b: dict[str, Any], _q: Mapping[str, str]) -> dict[str, Any]:
    return world.get_organization()


def _list_clusters(world: World, _p: Mapping[str, str], _b: dict[str, Any], q: Mapping[str, str]) -> dict[str, Any]:
    return world.list_clusters(q)


def _get_cluster(world: World, p: Mapping[str, str], _b: dict[str, Any], _q: Mapping[str, str]) -> dict[str, Any]:
    return world.get_cluster(p["cluster_id"])


def _update_cluster(world: World, p: Mapping[str, str], b: dict[str, Any], _q: Mapping[str, str]) -> dict[str, Any]:
    return world.update_cluster(p["cluster_id"], b)


def _get_cmek(world: World, p: Mapping[str, str], _b: dict[str, Any], _q: Mapping[str, str]) -> dict[str, Any]:
    return world.get_cmek(p["cluster_id"])


def _enable_cmek(world: World, p: Mapping[str, str], b: dict[str, Any], _q: Mapping[str, str]) -> dict[str, Any]:
    return world.enable_cmek(p["cluster_id"], b)


def _update_cmek(world: World, p: Mapping[str, str], b: dict[str, Any], _q: Mapping[str, str]) -> dict[str, Any]:
    return world.update_cmek(p["cluster_id"], b)


def _update_cmek_status(
    world: World, p: Mapping[str, str], b: dict[str, Any], _q: Mapping[str, str]
) -> dict[str, Any]:
    return world.update_cmek_status(p["cluster_id"], b)


ROUTES: tuple[tuple[re.Pattern[str], dict[str, Operation]], ...] = (
    (
        re.compile(r"^/api/v1/organization$"),
        {"GET": Operation("CockroachCloud_GetOrganizationInfo", ORGANIZATION_ROLES, None, _organization)},
    ),
    (
        re.compile(r"^/api/v1/clusters$"),
        {"GET": Operation("CockroachCloud_ListClusters", CLUSTER_READ_ROLES, None, _list_clusters)},
    ),
    (
        re.compile(r"^/api/v1/clusters/(?P<cluster_id>[^/]+)$"),
        {
            "GET": Operation("CockroachCloud_GetCluster", CLUSTER_READ_ROLES, None, _get_cluster),
            "PATCH": Operation(
                "CockroachCloud_UpdateCluster", CLUSTER_WRITE_ROLES, UPDATE_CLUSTER_SPECIFICATION, _update_cluster
            ),
        },
    ),
    (
        re.compile(r"^/api/v1/clusters/(?P<cluster_id>[^/]+)/cmek$"),
        {
            "GET": Operation("CockroachCloud_GetCMEKClusterInfo", CMEK_ROLES, None, _get_cmek),
            "POST": Operation("CockroachCloud_EnableCMEKSpec", CMEK_ROLES, CMEK_CLUSTER_SPECIFICATION, _enable_cmek),
            "PUT": Operation("CockroachCloud_UpdateCMEKSpec", CMEK_ROLES, CMEK_CLUSTER_SPECIFICATION, _update_cmek),
            "PATCH": Operation(
                "CockroachCloud_UpdateCMEKStatus", CMEK_ROLES, UPDATE_CMEK_STATUS_REQUEST, _update_cmek_status
            ),
        },
    ),
)


def resolve(method: str, path: str) -> tuple[Operation, dict[str, str]]:
    """The operation for ``method path`` and its path parameters; ApiError 404/501 otherwise."""
    for pattern, operations in ROUTES:
        match = pattern.match(path)
        if not match:
            continue
        operation = operations.get(method)
        if operation is None:
            allowed = ", ".join(sorted(operations))
            raise error(UNIMPLEMENTED, f"the simulator serves {allowed} on {path}, not {method}")
        return operation, match.groupdict()
    raise error(NOT_FOUND, f"no API operation at {path}")

