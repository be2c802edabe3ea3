"""Region and key specifications: models, validation and the ``cmek_config.json`` document.

Pure logic: no Pulumi, no network. Everything that decides whether a CMEK specification is
well formed lives here, so the dynamic provider's ``check``, the component and the stack config
all give the same answer with the same words.

Every error names the field, the rule and the value received, for example::

    region_specs[1].key_spec.uri: expected a KMS key ARN
    (arn:aws:kms:<region>:<account>:key/<id>), got 'alias/foo'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

AWS_KMS = "AWS_KMS"
GCP_CLOUD_KMS = "GCP_CLOUD_KMS"
SUPPORTED_KEY_TYPES = (AWS_KMS, GCP_CLOUD_KMS)

Cloud = Literal["AWS", "GCP"]
KEY_TYPE_FOR_CLOUD: dict[str, str] = {"AWS": AWS_KMS, "GCP": GCP_CLOUD_KMS}

_AWS_PARTITION = r"aws(?:-cn|-us-gov)?"
_AWS_KEY_ID = r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
AWS_KEY_ARN_RE = re.compile(
    rf"^arn:{_AWS_PARTITION}:kms:(?P<region>[a-z]{{2}}(?:-gov)?-[a-z]+-\d):(?P<account>\d{{12}}):key/{_AWS_KEY_ID}$"
)
AWS_ROLE_ARN_RE = re.compile(rf"^arn:{_AWS_PARTITION}:iam::\d{{12}}:role/[\w+=,.@/-]{{1,512}}$")
GCP_KEY_URI_RE = re.compile(
    r"^projects/(?P<project>[a-z][a-z0-9.:-]{4,61}[a-z0-9])"
    r"/locations/(?P<location>[a-z0-9-]+)"
    r"/keyRings/(?P<key_ring>[A-Za-z0-9_-]{1,63})"
    r"/cryptoKeys/(?P<crypto_key>[A-Za-z0-9_-]{1,63})$"
)
GCP_SERVICE_ACCOUNT_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.:-]+\.gserviceaccount\.com$")
AWS_REGION_RE = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d$")
GCP_REGION_RE = re.compile(r"^[a-z]+-[a-z]+\d+$")

AWS_KEY_ARN_FORM = "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
AWS_ROLE_ARN_FORM = "an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
GCP_KEY_URI_FORM = (
    "a Cloud KMS crypto key name without a version "
    "(projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>)"
)
GCP_SERVICE_ACCOUNT_FORM = "a service account email (<name>@<project>.iam.gserviceaccount.com)"


class SpecError(ValueError):
    """A specification that breaks a rule. ``field`` is a path such as ``region_specs[0].region``."""

    def __init__(self, field: str, rule: str, value: object) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        super().__init__(f"{field}: {rule}, got {value!r}")


@dataclass(frozen=True)
class Problem:
    """One validation failure: where, and what is wrong (rule and value already in ``message``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


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
# Region names
# --------------------------------------------------------------------------------------------


def suggest_region(cloud: str, region: str) -> str | None:
    """The same region in ``cloud``'s spelling, when ``region`` is in the other cloud's spelling."""
    if cloud == "GCP" and re.match(r"^[a-z]+(?:-[a-z]+)+-\d+$", region):
        head, _, digit = region.rpartition("-")
        candidate = f"{head}{digit}"
        return candidate if GCP_REGION_RE.match(candidate) else None
    if cloud == "AWS" and GCP_REGION_RE.match(region):
        m = re.match(r"^(.*?)(\d+)$", region)
        if m and AWS_REGION_RE.match(f"{m.group(1)}-{m.group(2)}"):
            return f"{m.group(1)}-{m.group(2)}"
    return None


def region_problem(cloud: str, field: str, region: object) -> Problem | None:
    """Checks a region name against ``cloud``'s naming (AWS ``us-east-1``, GCP ``us-east1``)."""
    article = "an" if cloud == "AWS" else "a"
    if not isinstance(region, str) or not region:
        return Problem(field, f"expected {article} {cloud} region name, got {region!r}")
    pattern = AWS_REGION_RE if cloud == "AWS" else GCP_REGION_RE
    if pattern.match(region):
        return None
    example = "us-east-1" if cloud == "AWS" else "us-east1"
    message = f"expected {article} {cloud} region name such as '{example}', got {region!r}"
    hint = suggest_region(cloud, region)
    if hint:
        message += f"; did you mean {hint!r}?"
    return Problem(field, message)


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
        return [Problem(field, f"expected an object with type, uri and auth_principal, got {raw!r}")]
    problems: list[Problem] = []
    key_type = raw.get("type")
    if not is_unknown(key_type):
        if key_type not in SUPPORTED_KEY_TYPES:
            problems.append(
                Problem(f"{field}.type", f"expected one of {', '.join(SUPPORTED_KEY_TYPES)}, got {key_type!r}")
            )
            key_type = None
        elif expected_type is not None and key_type != expected_type:
            problems.append(
                Problem(f"{field}.type", f"expected {expected_type} like the other regions, got {key_type!r}")
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
        if not isinstance(value, str) or not pattern.match(value):
            rule = f"expected {form}"
            if name == "uri" and isinstance(value, str) and "/cryptoKeyVersions/" in value:
                rule += "; drop the /cryptoKeyVersions/<n> suffix"
            problems.append(Problem(f"{field}.{name}", f"{rule}, got {value!r}"))
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
        return [Problem(field, f"expected a list of {{region, key_spec}} objects, got {raw!r}")]
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
            problems.append(Problem(item_field, f"expected an object with region and key_spec, got {item!r}"))
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
                    f"regions must be unique; {region!r} is already given at {field}[{seen[region]}], got {region!r}",
                )
            )
            continue
        if isinstance(region, str):
            seen[region] = index
        cloud = {AWS_KMS: "AWS", GCP_CLOUD_KMS: "GCP"}.get(str(key_type)) if key_type else None
        if cloud is None:
            if not isinstance(region, str) or not region:
                problems.append(Problem(f"{item_field}.region", f"expected a region name, got {region!r}"))
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


class SpecProblems(ValueError):
    """One or more validation problems, each naming its field, rule and value."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def key_type_for_cloud(cloud: str) -> str:
    """``AWS`` -> ``AWS_KMS``, ``GCP`` -> ``GCP_CLOUD_KMS``; raises ``SpecError`` otherwise."""
    try:
        return KEY_TYPE_FOR_CLOUD[cloud]
    except KeyError:
        raise SpecError("cloud", "expected 'AWS' or 'GCP' (CMEK on Azure is not supported here)", cloud) from None


def crl_kms_principal(cluster_id: str, account_id: str) -> str:
    """The CockroachDB-managed GCP service account for a cluster.

    ``crl-kms-user-<last 12 characters of the cluster id>@<account_id>.iam.gserviceaccount.com``.
    """
    if len(cluster_id) < 12:
        raise SpecError("cluster_id", "expected a cluster id of at least 12 characters", cluster_id)
    if not account_id:
        raise SpecError("account_id", "expected the cluster's GCP project (account_id from GET cluster)", account_id)
    return f"crl-kms-user-{cluster_id[-12:]}@{account_id}.iam.gserviceaccount.com"


def is_whole_number(value: object) -> bool:
    """An ``int`` that is not a ``bool`` (YAML and JSON ``true`` must not count as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class KeyGenerations:
    """``key_generation`` and ``region_key_generations`` read from the component's arguments.

    ``base``: the generation of every region (1 when absent or invalid); ``overrides``: the valid
    per-region overrides; ``raw_overrides``: the mapping as given (``{}`` when absent);
    ``problems``: every rule broken, each naming the field, the rule and the value.
    """

    base: int
    overrides: dict[str, int]
    raw_overrides: Mapping[str, object]
    problems: list[Problem]

    def of(self, region: str) -> int:
        """The generation ``region`` uses now."""
        return self.overrides.get(region, self.base)


def key_generations(args: Mapping[str, Any], regions: Sequence[str]) -> KeyGenerations:
    """Reads the key generations: ``key_generation`` a whole number >= 1 (default 1), and
    ``region_key_generations`` a mapping of cluster region -> whole number >= 1."""
    problems: list[Problem] = []
    base = args.get("key_generation", 1)
    if not is_whole_number(base) or base < 1:
        problems.append(Problem("key_generation", f"expected a whole number of at least 1, got {base!r}"))
        base = 1
    raw = args.get("region_key_generations") or {}
    overrides: dict[str, int] = {}
    if not isinstance(raw, Mapping):
        problems.append(
            Problem("region_key_generations", f"expected a mapping of cluster region -> generation, got {raw!r}")
        )
        raw = {}
    for region, value in raw.items():
        where = f"region_key_generations.{region}"
        if region not in regions:
            problems.append(Problem(where, f"expected a cluster region as key ({', '.join(regions)}), got {region!r}"))
        elif not is_whole_number(value) or value < 1:
            problems.append(Problem(where, f"expected a whole number of at least 1, got {value!r}"))
        else:
            overrides[region] = value
    return KeyGenerations(base=base, overrides=overrides, raw_overrides=raw, problems=problems)
