"""Region and key specifications: the :class:`KeySpec` and :class:`RegionSpec` models, the
validation of a ``region_specs`` list, and the ``cmek_config.json`` document.

Pure logic: no Pulumi, no network. Everything that decides whether a ``region_specs`` list is
well formed lives here, so the dynamic provider's ``check``, the component and the stack config
all give the same answer with the same words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cmek_component.manifest.identifiers import (
    AWS_KEY_ARN_FORM,
    AWS_KEY_ARN_RE,
    AWS_KMS,
    AWS_ROLE_ARN_FORM,
    AWS_ROLE_ARN_RE,
    GCP_CLOUD_KMS,
    GCP_KEY_URI_FORM,
    GCP_KEY_URI_RE,
    GCP_SERVICE_ACCOUNT_FORM,
    GCP_SERVICE_ACCOUNT_RE,
    SUPPORTED_KEY_TYPES,
    region_problem,
)
from cmek_component.manifest.problems import Problem, SpecProblems, shown


@dataclass(frozen=True)
class KeySpec:
    """A customer key as CockroachDB Cloud sees it.

    ``type``: ``AWS_KMS`` or ``GCP_CLOUD_KMS``. ``uri``: the KMS key ARN (AWS) or the crypto key
    name without a version (GCP). ``auth_principal``: the IAM role ARN (AWS) or service account
    email (GCP) that CockroachDB Cloud impersonates to use the key.
    """

    type: str
    uri: str
    auth_principal: str

    def to_api(self) -> dict[str, str]:
        return {"type": self.type, "uri": self.uri, "auth_principal": self.auth_principal}

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> KeySpec:
        data = data or {}
        return cls(
            type=str(data.get("type") or ""),
            uri=str(data.get("uri") or ""),
            auth_principal=str(data.get("auth_principal") or ""),
        )


@dataclass(frozen=True)
class RegionSpec:
    """The key used in one cluster region (``region`` in the cloud's own spelling)."""

    region: str
    key_spec: KeySpec

    def to_api(self) -> dict[str, Any]:
        return {"region": self.region, "key_spec": self.key_spec.to_api()}

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> RegionSpec:
        return cls(region=str(data.get("region") or ""), key_spec=KeySpec.from_api(data.get("key_spec")))


def region_specs_to_api(specs: Iterable[RegionSpec]) -> list[dict[str, Any]]:
    return [spec.to_api() for spec in specs]


def cmek_config_document(specs: Iterable[RegionSpec]) -> dict[str, Any]:
    """The seed's ``cmek_config.json`` document: ``{"region_specs": [...]}``, sorted by region."""
    return {"region_specs": region_specs_to_api(sorted(specs, key=lambda s: s.region))}


def render_cmek_config(specs: Iterable[RegionSpec]) -> str:
    """``cmek_config.json`` as text, exactly what the seed's ``curl --data @cmek_config.json`` sends."""
    return json.dumps(cmek_config_document(specs), indent=2) + "\n"


# --------------------------------------------------------------------------------------------
# Key specs
# --------------------------------------------------------------------------------------------


def _never_unknown(_value: object) -> bool:
    return False


def key_spec_problems(
    raw: object,
    field: str,
    *,
    expected_type: str | None = None,
    is_unknown: Callable[[object], bool] = _never_unknown,
) -> list[Problem]:
    """Problems with one ``key_spec`` mapping (``type``, ``uri``, ``auth_principal``).

    Values for which ``is_unknown`` is true (values a preview cannot know yet) are not checked.
    """
    if is_unknown(raw):
        return []
    if not isinstance(raw, Mapping):
        return [Problem(field, f"expected an object with type, uri and auth_principal, got {shown(raw)}")]
    problems: list[Problem] = []
    key_type = raw.get("type")
    if not is_unknown(key_type):
        if key_type not in SUPPORTED_KEY_TYPES:
            problems.append(
                Problem(f"{field}.type", f"expected one of {', '.join(SUPPORTED_KEY_TYPES)}, got {shown(key_type)}")
            )
            key_type = None
        elif expected_type is not None and key_type != expected_type:
            problems.append(
                Problem(f"{field}.type", f"expected {expected_type} like the other regions, got {shown(key_type)}")
            )
    uri = raw.get("uri")
    principal = raw.get("auth_principal")
    checks: tuple[tuple[object, str, re.Pattern[str], str], ...]
    if key_type == AWS_KMS:
        checks = ((uri, "uri", AWS_KEY_ARN_RE, AWS_KEY_ARN_FORM), (principal, "auth_principal", AWS_ROLE_ARN_RE, AWS_ROLE_ARN_FORM))
    elif key_type == GCP_CLOUD_KMS:
        checks = (
            (uri, "uri", GCP_KEY_URI_RE, GCP_KEY_URI_FORM),
            (principal, "auth_principal", GCP_SERVICE_ACCOUNT_RE, GCP_SERVICE_ACCOUNT_FORM),
        )
    else:
        checks = ()
    for value, name, pattern, form in checks:
        if is_unknown(value):
            continue
        if not isinstance(value, str) or not pattern.fullmatch(value):
            rule = f"expected {form}"
            if name == "uri" and isinstance(value, str) and "/cryptoKeyVersions/" in value:
                rule += "; drop the /cryptoKeyVersions/<n> suffix"
            problems.append(Problem(f"{field}.{name}", f"{rule}, got {shown(value)}"))
    return problems


def region_specs_problems(
    raw: object,
    field: str = "region_specs",
    *,
    is_unknown: Callable[[object], bool] = _never_unknown,
) -> list[Problem]:
    """Problems with a whole ``region_specs`` list: shape, unique regions, one key type, formats.

    Region names are checked against the key type's cloud (``AWS_KMS`` -> AWS spelling).
    """
    if is_unknown(raw):
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        return [Problem(field, f"expected a list of {{region, key_spec}} objects, got {shown(raw)}")]
    if not raw:
        return [Problem(field, "expected at least one region spec (one per cluster region), got []")]
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    first_type: str | None = None
    for index, item in enumerate(raw):
        item_field = f"{field}[{index}]"
        if is_unknown(item):
            continue
        if not isinstance(item, Mapping):
            problems.append(Problem(item_field, f"expected an object with region and key_spec, got {shown(item)}"))
            continue
        key_spec = item.get("key_spec")
        key_type = key_spec.get("type") if isinstance(key_spec, Mapping) else None
        if first_type is None and key_type in SUPPORTED_KEY_TYPES and not is_unknown(key_type):
            first_type = str(key_type)
        problems.extend(
            key_spec_problems(key_spec, f"{item_field}.key_spec", expected_type=first_type, is_unknown=is_unknown)
        )
        region = item.get("region")
        if is_unknown(region):
            continue
        if isinstance(region, str) and region in seen:
            problems.append(
                Problem(
                    f"{item_field}.region",
                    f"regions must be unique; {shown(region)} is already given at {field}[{seen[region]}], got {shown(region)}",
                )
            )
            continue
        if isinstance(region, str):
            seen[region] = index
        cloud = {AWS_KMS: "AWS", GCP_CLOUD_KMS: "GCP"}.get(str(key_type)) if key_type else None
        if cloud is None:
            if not isinstance(region, str) or not region:
                problems.append(Problem(f"{item_field}.region", f"expected a region name, got {shown(region)}"))
        else:
            problem = region_problem(cloud, f"{item_field}.region", region)
            if problem:
                problems.append(problem)
    return problems


def parse_region_specs(raw: object, field: str = "region_specs") -> list[RegionSpec]:
    """Validated ``RegionSpec`` objects from API-shaped data; raises ``SpecError`` on the first problem."""
    problems = region_specs_problems(raw, field)
    if problems:
        raise SpecProblems(problems)
    assert isinstance(raw, Sequence)
    return [RegionSpec.from_api(item) for item in raw]

