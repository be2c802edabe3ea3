"""Region and key specifications: models, validation and the ``cmek_config.json`` document.

Pure logic: no Pulumi, no network. Everything that decides whether a CMEK specification is
well formed lives here, so the dynamic provider's ``check``, the component and the stack config
all give the same answer with the same words.

Every error names the field, the rule and the value received, for example::

    region_specs[1].key_spec.uri: expected a KMS key ARN
    (arn:aws:kms:<region>:<account>:key/<id>), got 'alias/foo'
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

AWS_KMS = "AWS_KMS"
GCP_CLOUD_KMS = "GCP_CLOUD_KMS"
SUPPORTED_KEY_TYPES = (AWS_KMS, GCP_CLOUD_KMS)

Cloud = Literal["AWS", "GCP"]
KEY_TYPE_FOR_CLOUD: dict[str, str] = {"AWS": AWS_KMS, "GCP": GCP_CLOUD_KMS}

# Every identifier pattern is matched against the whole string (``re.fullmatch``, never
# ``re.match`` with ``$``, which accepts a trailing newline) and uses explicit ASCII classes
# (``[0-9]``, never ``\d`` or ``\w``, which accept other scripts' digits and letters).
_AWS_PARTITION = r"aws(?:-cn|-us-gov)?"
_AWS_ACCOUNT = r"[0-9]{12}"
_AWS_IAM_NAME = r"[A-Za-z0-9_+=,.@/-]{1,512}"
_AWS_KEY_ID = r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
AWS_REGION_PATTERN = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]"
AWS_KEY_ARN_RE = re.compile(
    rf"arn:{_AWS_PARTITION}:kms:(?P<region>{AWS_REGION_PATTERN}):(?P<account>{_AWS_ACCOUNT}):key/{_AWS_KEY_ID}"
)
AWS_ROLE_ARN_RE = re.compile(rf"arn:{_AWS_PARTITION}:iam::{_AWS_ACCOUNT}:role/{_AWS_IAM_NAME}")
AWS_PRINCIPAL_RE = re.compile(rf"arn:{_AWS_PARTITION}:iam::{_AWS_ACCOUNT}:(?:root|(?:user|role)/{_AWS_IAM_NAME})")
AWS_POLICY_ARN_RE = re.compile(rf"arn:{_AWS_PARTITION}:iam::(?:{_AWS_ACCOUNT}|aws):policy/{_AWS_IAM_NAME}")
AWS_ACCOUNT_RE = re.compile(_AWS_ACCOUNT)
AWS_PARTITION_RE = re.compile(_AWS_PARTITION)
GCP_PROJECT_PATTERN = r"[a-z][a-z0-9.:-]{4,61}[a-z0-9]"
GCP_KEY_URI_RE = re.compile(
    rf"projects/(?P<project>{GCP_PROJECT_PATTERN})"
    r"/locations/(?P<location>[a-z0-9-]+)"
    r"/keyRings/(?P<key_ring>[A-Za-z0-9_-]{1,63})"
    r"/cryptoKeys/(?P<crypto_key>[A-Za-z0-9_-]{1,63})"
)
GCP_SERVICE_ACCOUNT_RE = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.:-]+\.gserviceaccount\.com")
AWS_REGION_RE = re.compile(AWS_REGION_PATTERN)
GCP_REGION_RE = re.compile(r"[a-z]+-[a-z]+[0-9]+")
CLUSTER_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""A CockroachDB Cloud cluster id in its canonical form only: 8-4-4-4-12 lower-case hex digits,
as the Cloud console's URL and the API show it. Other spellings of the same UUID (upper case,
``{...}``, ``urn:uuid:...``, 32 digits without hyphens) are refused, not normalised: the id is
part of resource names (the default alias and key ring) and of the CockroachDB principal's
email on GCP, which must be the ones CockroachDB Cloud uses."""

AWS_KEY_ARN_FORM = "a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
AWS_ROLE_ARN_FORM = "an IAM role ARN (arn:aws:iam::<account>:role/<name>)"
GCP_KEY_URI_FORM = (
    "a Cloud KMS crypto key name without a version "
    "(projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>)"
)
GCP_SERVICE_ACCOUNT_FORM = "a service account email (<name>@<project>.iam.gserviceaccount.com)"
CLUSTER_ID_FORM = (
    "a CockroachDB Cloud cluster id: a UUID in canonical form, 8-4-4-4-12 lower-case hex digits "
    "as in the cluster's URL (such as 8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f)"
)

MAX_KEY_GENERATION = 100
"""Upper bound of ``key_generation`` and of each ``region_key_generations`` value. Every
generation stays declared (data written with an old key needs it forever), so generation ``n``
means ``n`` keys per region (plus aliases, replicas or grants): 100 generations is a rotation
every month for eight years, or every year for a century, and already 600 keys for a
six-region cluster. Larger values are refused at once instead of planning thousands of keys."""


# --------------------------------------------------------------------------------------------
# Values in messages
# --------------------------------------------------------------------------------------------

SHOWN_MAX_CHARS = 120
"""Longest rendering of one value in a message: longer values are cut, with their length."""
SHOWN_MAX_DIGITS = 30
"""Integers with more digits are shown by their number of digits (Python refuses to print
integers of more than 4300 digits, and a 5000-digit value helps nobody)."""
SECRET = "[secret]"
"""What a message shows instead of a value from secret configuration."""

_MASKED: contextvars.ContextVar[bool] = contextvars.ContextVar("cmek_masked_values", default=False)


@contextlib.contextmanager
def masked_values(masked: bool = True) -> Iterator[None]:
    """Inside the block (when ``masked``), :func:`shown` and :func:`shown_names` print
    ``[secret]`` instead of values: used while checking secret configuration."""
    token = _MASKED.set(masked or _MASKED.get())
    try:
        yield
    finally:
        _MASKED.reset(token)


def values_masked() -> bool:
    """Whether messages must hide values now (inside :func:`masked_values`)."""
    return _MASKED.get()


def _digits(value: int) -> int:
    """About the number of decimal digits of ``value`` (off by at most one), without
    converting it to text."""
    return int(abs(value).bit_length() * math.log10(2)) + 1


def shown(value: object) -> str:
    """``value`` as a message shows it: its ``repr``, cut to :data:`SHOWN_MAX_CHARS` characters
    (with the full length), integers of more than :data:`SHOWN_MAX_DIGITS` digits by their
    number of digits, values nested too deeply to print named as such, and ``[secret]`` inside
    :func:`masked_values`."""
    if _MASKED.get():
        return SECRET
    if isinstance(value, int) and not isinstance(value, bool):
        digits = _digits(value)
        if digits > SHOWN_MAX_DIGITS:
            return f"an integer of about {digits} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a {type(value).__name__} nested too deeply to show"
    if len(text) <= SHOWN_MAX_CHARS:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters as text"
    return f"{text[: SHOWN_MAX_CHARS - 3]}... ({size})"


def plain(text: str) -> str:
    """``text`` (an id or a name, printed without quotes) or ``[secret]`` inside
    :func:`masked_values`."""
    return SECRET if _MASKED.get() else text


def suggestion(hint: str | None) -> str:
    """``; did you mean '<hint>'?``, or nothing when there is no hint or values are masked (a
    hint derived from a secret value would reveal it)."""
    return f"; did you mean {hint!r}?" if hint and not _MASKED.get() else ""


def shown_names(names: Iterable[object]) -> str:
    """Names (regions, keys) listed in a message, comma-separated, each cut like :func:`shown`;
    ``[secret]`` inside :func:`masked_values`."""
    if _MASKED.get():
        return SECRET
    parts = []
    for name in names:
        text = name if isinstance(name, str) else shown(name)
        parts.append(text if len(text) <= SHOWN_MAX_CHARS else f"{text[: SHOWN_MAX_CHARS - 3]}...")
    return ", ".join(parts)


def matches(pattern: re.Pattern[str], value: object) -> re.Match[str] | None:
    """``pattern`` matched against the whole of ``value`` (``None`` for a non-string)."""
    return pattern.fullmatch(value) if isinstance(value, str) else None


def canonical_cluster_id(value: object) -> str | None:
    """The canonical form of another spelling of a UUID (``{...}``, ``urn:uuid:...``, 32 digits,
    upper case, surrounding spaces), or ``None`` when ``value`` is no UUID or already canonical."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        canonical = str(uuid.UUID(value.strip()))
    except ValueError:
        return None
    return canonical if canonical != value else None


def cluster_id_problem(field: str, value: object) -> Problem | None:
    """Checks a cluster id: the canonical UUID form only (:data:`CLUSTER_ID_RE`); another
    spelling of a UUID gets its canonical form suggested (not inside :func:`masked_values`)."""
    if matches(CLUSTER_ID_RE, value):
        return None
    return Problem(field, f"expected {CLUSTER_ID_FORM}, got {shown(value)}{suggestion(canonical_cluster_id(value))}")


class SpecError(ValueError):
    """A specification that breaks a rule. ``field`` is a path such as ``region_specs[0].region``."""

    def __init__(self, field: str, rule: str, value: object) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        super().__init__(f"{field}: {rule}, got {shown(value)}")


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
    if cloud == "GCP" and re.fullmatch(r"[a-z]+(?:-[a-z]+)+-[0-9]+", region):
        head, _, digit = region.rpartition("-")
        candidate = f"{head}{digit}"
        return candidate if GCP_REGION_RE.fullmatch(candidate) else None
    if cloud == "AWS" and GCP_REGION_RE.fullmatch(region):
        m = re.fullmatch(r"(.*?)([0-9]+)", region)
        if m and AWS_REGION_RE.fullmatch(f"{m.group(1)}-{m.group(2)}"):
            return f"{m.group(1)}-{m.group(2)}"
    return None


def region_problem(cloud: str, field: str, region: object) -> Problem | None:
    """Checks a region name against ``cloud``'s naming (AWS ``us-east-1``, GCP ``us-east1``)."""
    article = "an" if cloud == "AWS" else "a"
    if not isinstance(region, str) or not region:
        return Problem(field, f"expected {article} {cloud} region name, got {shown(region)}")
    pattern = AWS_REGION_RE if cloud == "AWS" else GCP_REGION_RE
    if pattern.fullmatch(region):
        return None
    example = "us-east-1" if cloud == "AWS" else "us-east1"
    message = f"expected {article} {cloud} region name such as '{example}', got {shown(region)}"
    message += suggestion(suggest_region(cloud, region))
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


GENERATION_RULE = f"expected a whole number from 1 to {MAX_KEY_GENERATION}"
"""The rule of ``key_generation`` and ``region_key_generations`` values (see :data:`MAX_KEY_GENERATION`)."""


def generation_problem(field: str, value: object) -> Problem | None:
    """Checks one key generation: a whole number from 1 to :data:`MAX_KEY_GENERATION`."""
    if is_whole_number(value) and 1 <= value <= MAX_KEY_GENERATION:  # type: ignore[operator]
        return None
    return Problem(field, f"{GENERATION_RULE} (every generation stays declared), got {shown(value)}")


def key_generations(args: Mapping[str, Any], regions: Sequence[str]) -> KeyGenerations:
    """Reads the key generations: ``key_generation`` a whole number from 1 to
    :data:`MAX_KEY_GENERATION` (default 1), and ``region_key_generations`` a mapping of cluster
    region -> whole number in the same range."""
    problems: list[Problem] = []
    base = args.get("key_generation", 1)
    problem = generation_problem("key_generation", base)
    if problem:
        problems.append(problem)
        base = 1
    raw = args.get("region_key_generations") or {}
    overrides: dict[str, int] = {}
    if not isinstance(raw, Mapping):
        problems.append(
            Problem("region_key_generations", f"expected a mapping of cluster region -> generation, got {shown(raw)}")
        )
        raw = {}
    for region, value in raw.items():
        where = f"region_key_generations.{region}"
        if region not in regions:
            problems.append(Problem(where, f"expected a cluster region as key ({shown_names(regions)}), got {shown(region)}"))
            continue
        problem = generation_problem(where, value)
        if problem:
            problems.append(problem)
        else:
            overrides[region] = value
    return KeyGenerations(base=base, overrides=overrides, raw_overrides=raw, problems=problems)
