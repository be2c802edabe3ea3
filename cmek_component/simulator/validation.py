"""Semantic checks of region specs against a cluster (after the body decoded).

Messages name the field, the rule and the value, and are prefixed with the gRPC code text by
``errors.ApiError``: ``invalid argument: region_specs[0].key_spec.type: ...``. Every problem in a
request is reported at once, separated by ``; ``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from cmek_component.manifest.identifiers import KEY_TYPE_FOR_CLOUD, region_problem, suggest_region
from cmek_component.manifest.region_specs import key_spec_problems

from .errors import invalid_argument
from .model import ClusterRecord


def region_name_problem(cloud: str, field: str, region: str) -> str | None:
    """The Cloud API's own wording for a region spelled for the other cloud (contract C9)."""
    hint = suggest_region(cloud, region)
    if hint:
        return f"{field}: invalid region name '{region}' for {cloud}. Did you mean to use '{hint}'"
    problem = region_problem(cloud, field, region)
    return str(problem) if problem else None


def check_region_specs(
    cluster: ClusterRecord,
    specs: Sequence[dict[str, Any]],
    *,
    field: str,
    region_rule: Callable[[str], str | None],
    required_regions: Collection[str] = (),
    validate_formats: bool = True,
) -> None:
    """Raises ``ApiError`` (400 INVALID_ARGUMENT) listing every problem with ``specs``.

    ``region_rule``: the problem with a (well-spelled, unique) region name, or None when allowed.
    ``required_regions``: regions that must each have a spec (POST: every cluster region).
    """
    problems: list[str] = []
    if not specs:
        expected = "one per cluster region" if required_regions else "one per region to change"
        problems.append(f"{field}: expected at least one region spec ({expected}), got []")
    seen: set[str] = set()
    expected_type = KEY_TYPE_FOR_CLOUD.get(cluster.cloud_provider, f"{cluster.cloud_provider}_KMS")
    for index, spec in enumerate(specs):
        item = f"{field}[{index}]"
        region = spec.get("region", "")
        if not region:
            problems.append(f"{item}.region: expected a region name, got ''")
        elif (naming := region_name_problem(cluster.cloud_provider, f"{item}.region", region)) is not None:
            problems.append(naming)
        elif region in seen:
            problems.append(f"{item}.region: regions must be unique; '{region}' is given more than once")
        elif (rule := region_rule(region)) is not None:
            problems.append(f"{item}.region: {rule}, got '{region}'")
        if region:
            seen.add(region)
        problems.extend(_key_spec_problems(spec.get("key_spec"), f"{item}.key_spec", cluster, expected_type,
                                           validate_formats))
    missing = sorted(set(required_regions) - seen)
    if specs and missing:
        problems.append(
            f"{field}: missing a spec for cluster region(s) {', '.join(missing)}; CMEK must be enabled "
            "in every region of the cluster at once (one region spec per region)"
        )
    if problems:
        raise invalid_argument("; ".join(problems))


def _key_spec_problems(
    key_spec: Any, field: str, cluster: ClusterRecord, expected_type: str, validate_formats: bool
) -> list[str]:
    if not key_spec:
        return [f"{field}: expected a key spec with type, uri and auth_principal, got nothing"]
    problems: list[str] = []
    key_type = key_spec.get("type")
    if key_type is None:
        problems.append(f"{field}.type: expected {expected_type} for a {cluster.cloud_provider} cluster, got nothing")
    elif key_type == "NULL_KMS":
        problems.append(f"{field}.type: NULL_KMS is internal and cannot be used by customers, got 'NULL_KMS'")
    elif key_type != expected_type:
        problems.append(
            f"{field}.type: cluster {cluster.id} runs on {cluster.cloud_provider}, so the key type must be "
            f"{expected_type}, got '{key_type}'"
        )
    for name in ("uri", "auth_principal"):
        if not key_spec.get(name):
            problems.append(f"{field}.{name}: expected a non-empty value, got ''")
    if not problems and validate_formats:
        problems.extend(str(p) for p in key_spec_problems(key_spec, field, expected_type=expected_type))
    return problems


def raise_if(problems: list[str]) -> None:
    """Raises one 400 INVALID_ARGUMENT listing ``problems``, if any."""
    if problems:
        raise invalid_argument("; ".join(problems))


def contact_support(cluster_id: str) -> str:
    return (
        f"CMEK was revoked for cluster {cluster_id}; enabling, rotating or adding regions after a revoke "
        "needs Cockroach Labs: contact support (https://support.cockroachlabs.com) or your account team"
    )
