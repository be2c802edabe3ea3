"""Stack configuration -> validated ``ClusterCmekArgs``, one per cluster.

Pure logic: no Pulumi import. ``__main__.py`` hands :func:`parse_stack_config` a plain mapping
of every configuration key (``"cmek:clusters"``, ``"cockroach:apiUrl"``, ...) to its value as
Pulumi passes it (structured values as JSON text), plus the set of keys that are secrets.

The schema (the full reference is docs/configuration.md, generated from this module and
``component/args.py`` by ``scripts/gen_config_reference.py``):

- ``cmek:clusters`` (required): a list of cluster objects. Each object's keys are the fields of
  ``ClusterCmekArgs`` (``cluster_id``, ``cloud``, ``regions``, ``account_id``,
  ``organization_id``, ``add_regions``, ``key_generation``, ``region_key_generations``,
  ``rotation_trigger``, ``revoke``, ``aws``, ``gcp``, ``activation``) plus ``name``, the Pulumi
  resource name of the cluster's ``ClusterCmek`` (default ``cluster-<first 8 characters of the
  cluster id>``). Set with ``pulumi config set --path 'clusters[0].cluster_id' <id>``.
- ``cmek:aws`` / ``cmek:gcp`` (optional): stack-wide defaults for every cluster's ``aws`` /
  ``gcp`` options; a cluster's own options win key by key (``tags`` are merged).
- ``cockroach:apiKey`` (secret) and ``cockroach:apiUrl``: read by the activation's provider,
  not here; this module only checks the key is a secret and the URL is an https URL (http only
  for a loopback host, see ``cmek_component.cloud_api.api_url``).

The allowed keys, their types and their enum values are read from the TypedDicts in
``component/args.py``, so the schema cannot drift from the component's arguments. Every problem names the
full key path, the rule and the value received::

    cmek:clusters[0].key_generation: expected an integer >= 1, got 'two'
    cmek:clusters[1].aws.key_mod: unknown key; did you mean 'key_mode'?

All problems are collected and raised together as one :class:`ConfigError`, before any resource
is declared. Values of secret keys never appear in a message.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import (
    Any,
    Literal,
    NotRequired,
    Required,
    cast,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from cmek_component.activation.inputs import (
    MAX_IAM_PROPAGATION_TIMEOUT_SECONDS,
    MAX_WAIT_TIMEOUT_SECONDS,
)
from cmek_component.cloud_api.api_url import api_url_problem
from cmek_component.component.args import AwsKeyOptions, ClusterCmekArgs, GcpKeyOptions
from cmek_component.manifest.specs import (
    AWS_ACCOUNT_RE,
    AWS_KEY_ARN_FORM,
    AWS_KEY_ARN_RE,
    AWS_POLICY_ARN_RE,
    AWS_PRINCIPAL_RE,
    CLUSTER_ID_FORM,
    CLUSTER_ID_RE,
    GCP_KEY_URI_FORM,
    GCP_KEY_URI_RE,
    MAX_KEY_GENERATION,
    SECRET,
    Problem,
    SpecProblems,
    canonical_cluster_id,
    masked_values,
    region_problem,
    shown,
    shown_names,
    suggestion,
)
from cmek_component.vault import rules as vault_rules

PROJECT = "cmek"
"""The Pulumi project name (``Pulumi.yaml``): the namespace of this project's keys."""

PROVIDER_NAMESPACE = "cockroach"
"""Namespace of the keys read by the CMEK activation's provider."""

CLUSTERS = "clusters"
STACK_DEFAULTS = ("aws", "gcp")
PROJECT_KEYS = (CLUSTERS, *STACK_DEFAULTS)
PROVIDER_KEYS = ("apiKey", "apiUrl")
OTHER_PROVIDER_KEYS = ("apikey", "apijwt")
"""Keys of the ``cockroach`` namespace that belong to the Pulumiverse CockroachDB provider
(``pulumiverse_cockroach``, its ``apikey`` and ``apijwt`` settings), which shares the namespace:
a stack may manage its cluster with that provider and its CMEK with this project. Unknown
``cockroach:*`` keys are only refused when they look like a misspelling of ours."""
CLUSTERS_OUTPUT = "clusters"
"""The stack output listing every cluster (resource name -> cluster id)."""
RESERVED_NAMES: tuple[str, ...] = (CLUSTERS_OUTPUT,)
"""Resource names a cluster cannot take: each cluster's outputs are exported under its name,
beside the ``clusters`` output, which would overwrite them (and hide them from the next revoke
check)."""
MAX_CONFIG_DEPTH = 16
"""Deepest nesting of a structured configuration value. The deepest key of the schema,
``cmek:clusters[i].aws.tags.<name>``, is 4 levels down; a value nested more than 16 levels
cannot be valid, and Python's JSON reader would fail with a RecursionError near 1000 levels."""
VAULT_CREDENTIAL_KEYS: tuple[str, ...] = tuple(
    key for keys in vault_rules.CREDENTIAL_CONFIG_KEYS.values() for key in keys.values()
)
"""Keys of the ``cmek-vault`` namespace: the KMS credentials handed to Vault (all secrets)."""
NAME = "name"

SET_API_KEY = "pulumi config set --secret cockroach:apiKey <key>"

PER_CLUSTER_ONLY: dict[str, tuple[str, ...]] = {
    "aws": ("alias", "role_name", "byo_keys", "primary_region"),
    "gcp": ("service_account_id", "key_ring_name", "byo_keys", "key_locations"),
}
"""Options that name or locate one cluster's resources, so they cannot be stack-wide defaults:
two clusters with one alias, role, service account or key ring would collide."""

REGION_KEYED: tuple[str, ...] = (
    "add_regions",
    "region_key_generations",
    "aws.byo_keys",
    "gcp.byo_keys",
    "gcp.key_locations",
    "vault.key_collections",
)
"""Maps whose keys are cluster regions (checked against ``regions`` and the cloud's spelling)."""

# Matched against the whole value (``fullmatch``), ASCII classes only (see manifest/specs.py).
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
UUID_RE = CLUSTER_ID_RE
GCP_PROJECT_RE = re.compile(r"[a-z][a-z0-9.:-]{4,61}[a-z0-9]")
AWS_ALIAS_RE = re.compile(r"alias/[A-Za-z0-9:/_-]{1,250}")
AWS_ROLE_NAME_RE = re.compile(r"[A-Za-z0-9_+=,.@-]{1,64}")
AWS_ROLE_PATH_RE = re.compile(r"/(?:[\x21-\x2e\x30-\x7e]+/)*")
GCP_SERVICE_ACCOUNT_ID_RE = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
GCP_RESOURCE_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,63}")
GCP_LOCATION_RE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
GCP_DURATION_RE = re.compile(r"([0-9]+)(?:\.[0-9]+)?s")
VAULT_PATH_RE = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")
VAULT_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
URL_RE = re.compile(r"https?://[!-.0-~]+(?:/[!-~]*)?")
"""An http(s) URL of printable ASCII without spaces (``[!-~]``; the host part without ``/``)."""
GCP_DISPLAY_NAME_MAX = 100
"""Longest service account display name GCP accepts."""


# --------------------------------------------------------------------------------------------
# Schema, read from the TypedDicts of component/args.py
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaField:
    """One key of a configuration object: its name, its Python type and whether it is required."""

    name: str
    type: Any
    required: bool


@functools.cache
def schema_fields(typed_dict: type) -> dict[str, SchemaField]:
    """The keys of a TypedDict in declaration order, with ``Required``/``NotRequired`` resolved.

    ``__required_keys__`` is not used: with ``from __future__ import annotations`` Python 3.11
    reports every key of ``ClusterCmekArgs`` as required.
    """
    total = bool(getattr(typed_dict, "__total__", True))
    fields: dict[str, SchemaField] = {}
    for name, hint in get_type_hints(typed_dict, include_extras=True).items():
        required = total
        origin = get_origin(hint)
        if origin is Required or origin is NotRequired:
            required = origin is Required
            hint = get_args(hint)[0]
        fields[name] = SchemaField(name, hint, required)
    return fields


def cluster_fields() -> dict[str, SchemaField]:
    """The keys of one ``cmek:clusters[i]`` object: ``ClusterCmekArgs`` plus ``name``."""
    return {**schema_fields(ClusterCmekArgs), NAME: SchemaField(NAME, str, False)}


def type_label(tp: Any) -> str:
    """A reader's name for a schema type: ``integer``, ``list of strings``, ``one of `AWS`, `GCP` ``."""
    origin = get_origin(tp)
    if tp is str:
        return "string"
    if tp is bool:
        return "boolean"
    if tp is int:
        return "integer"
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(tp))
    if origin is list:
        return f"list of {_plural(type_label(get_args(tp)[0]))}"
    if origin is dict:
        key, value = get_args(tp)
        return f"map of {type_label(key)} to {type_label(value)}"
    if is_typeddict(tp):
        return "object"
    return str(tp)


def _plural(label: str) -> str:
    return label + "s" if label in ("string", "integer", "boolean") else label


@dataclass(frozen=True)
class StackKey:
    """A configuration key that is not a field of ``ClusterCmekArgs`` (for the reference)."""

    key: str
    type: str
    default: str
    description: str


STACK_KEYS: tuple[StackKey, ...] = (
    StackKey(
        f"{PROJECT}:{CLUSTERS}",
        "list of cluster objects",
        "required (at least one)",
        "The clusters of this stack, one `ClusterCmek` each. Keys of a cluster object are listed "
        "under *Cluster keys*. Set with `pulumi config set --path 'clusters[0].cluster_id' <id>`.",
    ),
    StackKey(
        f"{PROJECT}:aws",
        "object (AWS options)",
        "none",
        "Stack-wide defaults merged under every AWS cluster's `aws` options (the cluster's own "
        "value wins key by key; `tags` are merged). Not allowed here: "
        + ", ".join(f"`{k}`" for k in PER_CLUSTER_ONLY["aws"])
        + " (they belong to one cluster).",
    ),
    StackKey(
        f"{PROJECT}:gcp",
        "object (GCP options)",
        "none",
        "Stack-wide defaults merged under every GCP cluster's `gcp` options. Not allowed here: "
        + ", ".join(f"`{k}`" for k in PER_CLUSTER_ONLY["gcp"])
        + ".",
    ),
    StackKey(
        f"{PROVIDER_NAMESPACE}:apiKey",
        "string, **secret**",
        "env `COCKROACH_API_KEY`",
        f"CockroachDB Cloud API key of a service account with the Cluster Admin role. Set with "
        f"`{SET_API_KEY}`; a plain-text value is refused. Read by the activation's provider at "
        "run time, never stored in state or outputs.",
    ),
    StackKey(
        f"{PROVIDER_NAMESPACE}:apiUrl",
        "string (URL)",
        "env `COCKROACH_SERVER`, else `https://cockroachlabs.cloud`",
        "Base URL of the CockroachDB Cloud API: `https://`, or `http://` for a loopback host only "
        "(127.0.0.1, ::1, localhost: the local simulator in the `local` stack), since the API key "
        "travels in a request header.",
    ),
)

STACK_KEYS += (
    StackKey(
        f"{vault_rules.CONFIG_NAMESPACE}:{vault_rules.AWS_ACCESS_KEY_CONFIG}",
        "string, **secret**",
        "none",
        "With `vault` on AWS and `vault.credentials: config`: the AWS access key id Vault uses to "
        "reach KMS. Plain-text values are refused.",
    ),
    StackKey(
        f"{vault_rules.CONFIG_NAMESPACE}:{vault_rules.AWS_SECRET_KEY_CONFIG}",
        "string, **secret**",
        "none",
        "With `vault` on AWS and `vault.credentials: config`: the matching AWS secret access key.",
    ),
    StackKey(
        f"{vault_rules.CONFIG_NAMESPACE}:{vault_rules.GCP_SERVICE_ACCOUNT_FILE_CONFIG}",
        "string, **secret**",
        "none",
        "With `vault` on GCP and `vault.credentials: config`: the service account key file (JSON "
        "text) Vault uses to reach Cloud KMS.",
    ),
    StackKey(
        vault_rules.VAULT_TOKEN_CONFIG,
        "string, **secret**",
        "env `VAULT_TOKEN`",
        "The Vault provider's token (with `vault:address` / `VAULT_ADDR` and `vault:namespace` / "
        "`VAULT_NAMESPACE`), only with `vault`. Plain-text values are refused.",
    ),
)

NAME_DOC = (
    "Pulumi resource name of the cluster's `ClusterCmek` (and the prefix of its children's names). "
    "1-40 characters `A-Za-z0-9_-`, starting with a letter; unique in the stack; not `clusters` "
    "(the stack output listing every cluster, which would overwrite this cluster's outputs). "
    "Changing it renames the cluster's resources in place (Pulumi aliases from this stack's state: "
    "nothing is created, replaced or deleted); a name another cluster had in the last update "
    "cannot be taken in the same update. Default "
    "`cluster-<first 8 characters of cluster_id>`."
)


# --------------------------------------------------------------------------------------------
# Errors and results
# --------------------------------------------------------------------------------------------


class ConfigError(SpecProblems):
    """The stack configuration breaks one or more rules; ``problems`` lists each one."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(list(problems))
        count = len(self.problems)
        lines = [f"invalid stack configuration ({count} problem{'s' if count != 1 else ''}; "
                 "see docs/configuration.md):"]
        lines += [f"  {problem}" for problem in self.problems]
        self.args = ("\n".join(lines),)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class ClusterConfig:
    """One cluster of the stack: the Pulumi resource name and the validated arguments."""

    name: str
    args: ClusterCmekArgs
    key: str
    """Where the cluster is configured, such as ``cmek:clusters[1]`` (prefix of error paths)."""
    stack_defaults: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """Options of ``args`` taken from a stack-wide default, by path (``aws.key_mode``) -> the
    configuration key that set them (``cmek:aws.key_mode``)."""
    secret: bool = False
    """Whether ``args`` came from secret configuration (``cmek:clusters``, ``cmek:aws`` or
    ``cmek:gcp`` set with ``--secret``): their values must not appear in messages or outputs."""


_INVALID = object()


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _is_api_key_name(key: str) -> bool:
    return "apikey" in re.sub(r"[^a-z]", "", key.lower())


def _plausibly_ours(key: str) -> bool:
    """Whether an unknown ``cockroach:<key>`` looks like a misspelling of one of ours
    (``apiKey``, ``apiUrl``): the same letters in another case or with separators
    (``api_key``, ``ApiUrl``), or a close typo (``apiKy``). Keys of the Pulumiverse CockroachDB
    provider (:data:`OTHER_PROVIDER_KEYS`) and anything else are left to their owner."""
    if key in OTHER_PROVIDER_KEYS:
        return False
    letters = re.sub(r"[^a-z]", "", key.lower())
    ours = [name.lower() for name in PROVIDER_KEYS]
    return letters in ours or bool(difflib.get_close_matches(letters, ours, n=1, cutoff=0.8))


def _map_path(path: str, key: str) -> str:
    return f'{path}["{key}"]'


# --------------------------------------------------------------------------------------------
# Value rules that are not types: keyed by schema path (field names, ``*`` for map values,
# ``[]`` for list items).
# --------------------------------------------------------------------------------------------

INT_RANGES: dict[str, tuple[int, int | None]] = {
    "key_generation": (1, MAX_KEY_GENERATION),
    "region_key_generations.*": (1, MAX_KEY_GENERATION),
    "add_regions.*": (3, None),
    "aws.deletion_window_in_days": (7, 30),
    "activation.wait_timeout_seconds": (1, MAX_WAIT_TIMEOUT_SECONDS),
    "activation.iam_propagation_timeout_seconds": (1, MAX_IAM_PROPAGATION_TIMEOUT_SECONDS),
    "vault.credentials_version": (1, None),
}
"""Integer ranges by schema path. Upper bounds: ``manifest.MAX_KEY_GENERATION`` (every
generation stays declared) and ``activation_inputs.MAX_WAIT_TIMEOUT_SECONDS`` /
``MAX_IAM_PROPAGATION_TIMEOUT_SECONDS`` (their docstrings give the reasons)."""


def _no_hint(_value: str) -> str:
    return ""


@dataclass(frozen=True)
class ValueRule:
    """What a string value must look like: ``form`` completes "expected ..." in messages and is
    the *valid values* column of the reference; ``hint`` adds advice for a wrong value."""

    form: str
    test: Callable[[str], bool]
    hint: Callable[[str], str] = _no_hint

    def problem(self, value: str, got: str, *, hints: bool = True) -> str | None:
        """``expected <form>, got <got>[; hint]``, or ``None`` when ``value`` is valid;
        ``hints=False`` leaves out the hint (it may quote the value: secret configuration)."""
        if self.test(value):
            return None
        return f"expected {self.form}, got {got}{self.hint(value) if hints else ''}"


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: bool(pattern.fullmatch(value))


def _non_empty(value: str) -> bool:
    return bool(value.strip())


def _is_alias(value: str) -> bool:
    return bool(AWS_ALIAS_RE.fullmatch(value)) and not value.startswith("alias/aws/")


def _is_resource_name(value: str) -> bool:
    return bool(NAME_RE.fullmatch(value)) and value not in RESERVED_NAMES


def _reserved_hint(value: str) -> str:
    if value in RESERVED_NAMES:
        return f"; {value!r} is reserved: the stack exports the list of its clusters under that name"
    return ""


def _cluster_id_hint(value: str) -> str:
    return suggestion(canonical_cluster_id(value))


def _is_display_name(value: str) -> bool:
    return 1 <= len(value) <= GCP_DISPLAY_NAME_MAX and bool(value.strip())


def _is_rotation_period(value: str) -> bool:
    match = GCP_DURATION_RE.fullmatch(value)
    return match is not None and int(match.group(1)) >= 86400


def _version_hint(value: str) -> str:
    return "; drop the /cryptoKeyVersions/<n> suffix" if "/cryptoKeyVersions/" in value else ""


NON_EMPTY = ValueRule("a non-empty string", _non_empty)
KMS_NAME = ValueRule("1-63 characters of A-Za-z0-9_-", _matches(GCP_RESOURCE_NAME_RE))
VAULT_NAME = ValueRule("a name of letters, digits, '_' and '-'", _matches(VAULT_NAME_RE))

STRING_RULES: dict[str, ValueRule] = {
    "cluster_id": ValueRule(CLUSTER_ID_FORM, _matches(UUID_RE), _cluster_id_hint),
    NAME: ValueRule(
        "a resource name of 1-40 characters A-Za-z0-9_- starting with a letter, not 'clusters'",
        _is_resource_name,
        _reserved_hint,
    ),
    "account_id": ValueRule("a non-empty string (AWS: 12 digits; GCP: a project id)", _non_empty),
    "organization_id": NON_EMPTY,
    "regions[]": ValueRule("a region name in the cloud's spelling (AWS 'us-east-1', GCP 'us-east1')", _non_empty),
    "aws.primary_region": ValueRule("one of the cluster regions", _non_empty),
    "aws.alias": ValueRule(
        "'alias/<name>' with at most 256 characters of a-zA-Z0-9:/_-, not starting with 'alias/aws/' "
        "(reserved for AWS managed keys)",
        _is_alias,
    ),
    "aws.admin_principals[]": ValueRule(
        "an IAM principal ARN (arn:aws:iam::<account>:root, :role/<name> or :user/<name>)",
        _matches(AWS_PRINCIPAL_RE),
    ),
    "aws.role_name": ValueRule("an IAM role name of 1-64 characters a-zA-Z0-9+=,.@_-", _matches(AWS_ROLE_NAME_RE)),
    "aws.role_path": ValueRule("an IAM path: '/' or '/<segments>/'", _matches(AWS_ROLE_PATH_RE)),
    "aws.permissions_boundary": ValueRule(
        "a managed policy ARN (arn:aws:iam::<account or aws>:policy/<name>)", _matches(AWS_POLICY_ARN_RE)
    ),
    "aws.byo_keys.*": ValueRule(AWS_KEY_ARN_FORM, _matches(AWS_KEY_ARN_RE)),
    "gcp.project": ValueRule("a GCP project id such as 'my-project-123'", _matches(GCP_PROJECT_RE)),
    "gcp.service_account_id": ValueRule(
        "6-30 characters of a-z0-9- starting with a letter, not ending with '-'", _matches(GCP_SERVICE_ACCOUNT_ID_RE)
    ),
    "gcp.display_name": ValueRule(f"1-{GCP_DISPLAY_NAME_MAX} characters, not only spaces", _is_display_name),
    "gcp.key_locations.*": ValueRule("a Cloud KMS location such as 'global', 'us' or 'us-east1'", _matches(GCP_LOCATION_RE)),
    "gcp.key_ring_name": KMS_NAME,
    "gcp.crypto_key_name": KMS_NAME,
    "gcp.rotation_period": ValueRule(
        "a duration in seconds of at least one day, such as '7776000s' (90 days)", _is_rotation_period
    ),
    "gcp.byo_keys.*": ValueRule(GCP_KEY_URI_FORM, _matches(GCP_KEY_URI_RE), _version_hint),
    "vault.mount_path": ValueRule(
        "a mount path without a leading or trailing '/', such as 'keymgmt'", _matches(VAULT_PATH_RE)
    ),
    "vault.namespace": NON_EMPTY,
    "vault.kms_name": VAULT_NAME,
    "vault.key_name": VAULT_NAME,
    "vault.key_collection": ValueRule("an AWS region, or on GCP an existing key ring path", _non_empty),
    "vault.key_collections.*": ValueRule("an AWS region, or on GCP an existing key ring path", _non_empty),
}
"""String rules by schema path (``*`` for map values, ``[]`` for list items)."""


def int_range(schema_path: str) -> tuple[int | None, int | None]:
    """The allowed range of an integer key (``None``: unbounded)."""
    return INT_RANGES.get(schema_path, (None, None))


def int_form(schema_path: str) -> str:
    """``an integer >= 1`` / ``an integer from 7 to 30`` / ``an integer``."""
    low, high = int_range(schema_path)
    if low is not None and high is not None:
        return f"an integer from {low} to {high}"
    if low is not None:
        return f"an integer >= {low}"
    return "an integer"


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------


class _Checker:
    """Collects problems while checking values against the schema."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.secret = False

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def got(self, value: object) -> str:
        return SECRET if self.secret else shown(value)

    def check(self, value: object, tp: Any, path: str, schema_path: str) -> Any:
        """``value`` if it matches ``tp`` (objects: with invalid keys dropped), else ``_INVALID``."""
        origin = get_origin(tp)
        if is_typeddict(tp):
            return self.check_object(value, schema_fields(tp), path, schema_path)
        if origin is Literal:
            return self._check_literal(value, get_args(tp), path)
        if tp is bool:
            if isinstance(value, bool):
                return value
            self.add(path, f"expected true or false, got {self.got(value)}")
            return _INVALID
        if tp is int:
            return self._check_int(value, path, schema_path)
        if tp is str:
            return self._check_str(value, path, schema_path)
        if origin is list:
            return self._check_list(value, get_args(tp)[0], path, schema_path)
        if origin is dict:
            return self._check_map(value, get_args(tp)[1], path, schema_path, type_label(tp))
        raise TypeError(f"{schema_path}: unsupported schema type {tp!r}")  # a new type in component/args.py

    def check_object(
        self, value: object, fields: Mapping[str, SchemaField], path: str, schema_path: str
    ) -> dict[str, Any] | object:
        if not isinstance(value, Mapping):
            self.add(path, f"expected an object with keys {', '.join(fields)}, got {self.got(value)}")
            return _INVALID
        checked: dict[str, Any] = {}
        for key, item in value.items():
            key_path = f"{path}.{key}"
            if not isinstance(key, str) or key not in fields:
                self.unknown_key(key_path, str(key), fields)
                continue
            sub_schema = f"{schema_path}.{key}" if schema_path else key
            result = self.check(item, fields[key].type, key_path, sub_schema)
            if result is not _INVALID:
                checked[key] = result
        for name, field in fields.items():
            if field.required and name not in value:
                self.add(f"{path}.{name}", f"required key is missing ({type_label(field.type)})")
        return checked

    def unknown_key(self, path: str, key: str, known: Iterable[str]) -> None:
        if _is_api_key_name(key):
            self.add(
                path,
                "the CockroachDB Cloud API key is not project configuration; remove this key and "
                f"run `{SET_API_KEY}`",
            )
            return
        known = list(known)
        hint = _suggest(key, known) or f"; valid keys: {', '.join(known)}"
        self.add(path, f"unknown key{hint}")

    def _check_literal(self, value: object, options: tuple[Any, ...], path: str) -> Any:
        if value in options and isinstance(value, str):
            return value
        listed = ", ".join(repr(o) for o in options)
        hint = ""
        if isinstance(value, str) and not self.secret:
            same_case = [o for o in options if isinstance(o, str) and o.lower() == value.lower()]
            hint = f"; did you mean {same_case[0]!r}?" if same_case else _suggest(value, map(str, options))
        self.add(path, f"expected one of {listed}, got {self.got(value)}{hint}")
        return _INVALID

    def _check_int(self, value: object, path: str, schema_path: str) -> Any:
        low, high = int_range(schema_path)
        expected = int_form(schema_path)
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, f"expected {expected}, got {self.got(value)} (not a finite number)")
            return _INVALID
        if isinstance(value, int) and not isinstance(value, bool):
            if (low is None or value >= low) and (high is None or value <= high):
                return value
            self.add(path, f"expected {expected}, got {self.got(value)}")
            return _INVALID
        hint = " (a string: write the number without quotes)" if isinstance(value, str) and value.strip().isdigit() else ""
        self.add(path, f"expected {expected}, got {self.got(value)}{hint}")
        return _INVALID

    def _check_str(self, value: object, path: str, schema_path: str) -> Any:
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                hint = (
                    " (a number: quote it in the stack file, or set it with "
                    "`pulumi config set --path --type string`)"
                )
            self.add(path, f"expected a string, got {self.got(value)}{hint}")
            return _INVALID
        rule = STRING_RULES.get(schema_path)
        message = rule.problem(value, self.got(value), hints=not self.secret) if rule else None
        if message:
            self.add(path, message)
            return _INVALID
        return value

    def _check_list(self, value: object, item_type: Any, path: str, schema_path: str) -> Any:
        if not isinstance(value, list):
            self.add(path, f"expected a list of {_plural(type_label(item_type))}, got {self.got(value)}")
            return _INVALID
        items = [self.check(item, item_type, f"{path}[{i}]", f"{schema_path}[]") for i, item in enumerate(value)]
        return [item for item in items if item is not _INVALID]

    def _check_map(self, value: object, value_type: Any, path: str, schema_path: str, label: str) -> Any:
        if not isinstance(value, Mapping):
            self.add(path, f"expected a {label}, got {self.got(value)}")
            return _INVALID
        checked: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                self.add(path, f"expected non-empty string keys, got key {key!r}")
                continue
            result = self.check(item, value_type, _map_path(path, key), f"{schema_path}.*")
            if result is not _INVALID:
                checked[key] = result
        return checked


# --------------------------------------------------------------------------------------------
# Reading the stack configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LongInteger:
    """An integer in JSON text too long for Python to convert (more than 4300 digits): no key
    accepts it, and the message names its length instead of failing on it."""

    digits: int

    def __repr__(self) -> str:
        return f"an integer of {self.digits} digits"


def _parse_int(text: str) -> int | _LongInteger:
    try:
        return int(text)
    except ValueError:
        return _LongInteger(len(text.lstrip("-")))


class _TooDeep(Exception):
    """A structured value nested more than :data:`MAX_CONFIG_DEPTH` levels."""


def _check_depth(value: object) -> None:
    """Raises :class:`_TooDeep` when ``value`` nests more than :data:`MAX_CONFIG_DEPTH` levels
    (walked without recursion, so any depth is measured safely)."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise _TooDeep
        if isinstance(item, Mapping):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            pending.extend((child, depth + 1) for child in item)


def _decode(value: object) -> object:
    """Structured values arrive as JSON text; anything that is not JSON stays the raw string.
    Raises :class:`_TooDeep` for a value nested more than :data:`MAX_CONFIG_DEPTH` levels."""
    if isinstance(value, str):
        try:
            value = json.loads(value, parse_int=_parse_int)
        except RecursionError:
            raise _TooDeep from None
        except ValueError:
            return value
    _check_depth(value)
    return value


def parse_stack_config(
    values: Mapping[str, object],
    secret_keys: Collection[str] = (),
    project: str = PROJECT,
) -> list[ClusterConfig]:
    """Validated arguments for every cluster of the stack, in configuration order.

    ``values``: every configuration key (``"<namespace>:<name>"``) and its value as Pulumi gives
    it (strings; structured values as JSON text; already-decoded values are accepted too).
    Keys of other namespaces (``aws:region``, ``gcp:project`` ...) are ignored, and so are keys
    of the ``cockroach`` namespace that are not ours and do not look like a misspelling of ours
    (the Pulumiverse CockroachDB provider's ``cockroach:apikey``, ``cockroach:apijwt`` ...).
    ``secret_keys``: the keys whose values are secrets; when any project key is secret, no value
    of the project's keys appears in a message (``[secret]``). Raises :class:`ConfigError`
    listing every problem.
    """
    checker = _Checker()
    secret = any(f"{project}:{key}" in secret_keys for key in PROJECT_KEYS)
    own: dict[str, object] = {}
    for full_key, raw in values.items():
        namespace, _, key = full_key.partition(":")
        if namespace == project:
            if key in PROJECT_KEYS:
                own[key] = raw
            else:
                checker.unknown_key(full_key, key, PROJECT_KEYS)
        elif namespace == PROVIDER_NAMESPACE:
            _check_provider_key(checker, full_key, key, raw, full_key in secret_keys)
        elif namespace == vault_rules.CONFIG_NAMESPACE and key not in VAULT_CREDENTIAL_KEYS:
            checker.unknown_key(full_key, key, VAULT_CREDENTIAL_KEYS)
    plaintext = {
        key: key in secret_keys
        for key in values
        if key == vault_rules.VAULT_TOKEN_CONFIG or key.startswith(f"{vault_rules.CONFIG_NAMESPACE}:")
    }
    checker.problems.extend(vault_rules.plaintext_secret_problems(plaintext))

    checker.secret = secret
    with masked_values(secret):
        results = _check_project_keys(checker, own, project)
    if checker.problems:
        raise ConfigError(checker.problems)
    return [dataclasses.replace(found, secret=secret) for found in results]


def _decoded(checker: _Checker, own: Mapping[str, object], key: str, project: str) -> object:
    """``own[key]`` decoded from JSON, or ``_INVALID`` (with a problem) when nested too deeply."""
    try:
        return _decode(own.get(key))
    except _TooDeep:
        checker.add(
            f"{project}:{key}",
            f"expected a value nested at most {MAX_CONFIG_DEPTH} levels deep (the deepest key of "
            "the schema is 4 levels down), got one nested deeper",
        )
        return _INVALID


def _check_project_keys(checker: _Checker, own: Mapping[str, object], project: str) -> list[ClusterConfig]:
    """The clusters of the project's keys (``clusters``, ``aws``, ``gcp``), problems in ``checker``."""
    defaults: dict[str, dict[str, Any]] = {}
    for cloud_key, options_type in (("aws", AwsKeyOptions), ("gcp", GcpKeyOptions)):
        if cloud_key not in own:
            continue
        path = f"{project}:{cloud_key}"
        decoded = _decoded(checker, own, cloud_key, project)
        if decoded is _INVALID:
            continue
        checked = checker.check(decoded, options_type, path, cloud_key)
        if checked is _INVALID:
            continue
        stack_options = cast(dict[str, Any], checked)
        for key in PER_CLUSTER_ONLY[cloud_key]:
            if key in stack_options:
                checker.add(
                    f"{path}.{key}",
                    "belongs to one cluster and cannot be a stack-wide default; set it under "
                    f"{project}:clusters[<i>].{cloud_key}.{key}",
                )
                del stack_options[key]
        defaults[cloud_key] = stack_options

    clusters_path = f"{project}:{CLUSTERS}"
    raw_clusters = _decoded(checker, own, CLUSTERS, project) if CLUSTERS in own else None
    parsed: list[tuple[str, dict[str, Any]]] = []
    stack_defaults: dict[str, dict[str, str]] = {}
    if CLUSTERS not in own:
        checker.add(
            clusters_path,
            "required key is missing; add a cluster with "
            "`pulumi config set --path 'clusters[0].cluster_id' <cluster id>`",
        )
    elif raw_clusters is _INVALID:
        pass
    elif not isinstance(raw_clusters, list) or not raw_clusters:
        checker.add(
            clusters_path,
            f"expected a list of at least one cluster object, got {checker.got(raw_clusters)} "
            "(set it with `pulumi config set --path 'clusters[0].cluster_id' <cluster id>`)",
        )
    else:
        fields = cluster_fields()
        for index, raw_cluster in enumerate(raw_clusters):
            path = f"{clusters_path}[{index}]"
            checked = checker.check_object(raw_cluster, fields, path, "")
            if checked is _INVALID:
                continue
            cluster = cast(dict[str, Any], checked)
            taken = _merge_defaults(checker, cluster, defaults, path)
            _check_cluster(checker, cluster, path)
            parsed.append((path, cluster))
            stack_defaults[path] = {option: f"{project}:{option}" for option in taken}

    return [
        ClusterConfig(found.name, found.args, found.key, stack_defaults.get(found.key, {}))
        for found in _check_across_clusters(checker, parsed)
    ]


def _check_provider_key(checker: _Checker, full_key: str, key: str, raw: object, secret: bool) -> None:
    if key == "apiKey":
        if not secret:
            checker.add(
                full_key,
                f"must be a secret (it would be stored in plain text in the stack file); run `{SET_API_KEY}`",
            )
        elif not isinstance(raw, str) or not raw.strip():
            checker.add(full_key, f"expected a non-empty API key; run `{SET_API_KEY}`")
    elif key == "apiUrl":
        if not isinstance(raw, str) or not URL_RE.fullmatch(raw):
            got = SECRET if secret else shown(raw)
            checker.add(full_key, f"expected an http(s) URL such as 'https://cockroachlabs.cloud', got {got}")
        elif (url_problem := api_url_problem(raw)) is not None:
            checker.add(full_key, f"{url_problem}, got {SECRET if secret else shown(raw)}")
    elif not _plausibly_ours(key):
        return  # another provider's key (the Pulumiverse CockroachDB provider shares the namespace)
    elif _is_api_key_name(key):
        checker.add(full_key, f"unknown key; did you mean 'apiKey'? Run `{SET_API_KEY}`")
    else:
        checker.unknown_key(full_key, key, PROVIDER_KEYS)


def _merge_defaults(checker: _Checker, cluster: dict[str, Any], defaults: Mapping[str, dict[str, Any]], path: str) -> list[str]:
    """Puts the stack-wide ``aws``/``gcp`` options under the cluster's own; rejects options for
    the other cloud when ``cloud`` is given. Returns the options taken from the stack-wide
    defaults (``aws.key_mode`` ...; ``tags`` only when the cluster has none of its own)."""
    taken: list[str] = []
    cloud = cluster.get("cloud")
    for cloud_key, cloud_name in (("aws", "AWS"), ("gcp", "GCP")):
        if cloud is not None and cloud != cloud_name:
            if cloud_key in cluster:
                checker.add(
                    f"{path}.{cloud_key}",
                    f"{cloud_name} options given for a {cloud} cluster (cloud: {cloud}); remove them",
                )
                del cluster[cloud_key]
            continue
        stack_options = defaults.get(cloud_key)
        if not stack_options:
            continue
        merged = dict(stack_options)
        own_options = cluster.get(cloud_key, {})
        taken += [f"{cloud_key}.{key}" for key in stack_options if key not in own_options]
        for key, value in own_options.items():
            if key == "tags" and isinstance(merged.get("tags"), dict):
                merged["tags"] = {**merged["tags"], **value}
            else:
                merged[key] = value
        cluster[cloud_key] = merged
    return taken


def _check_region_names(checker: _Checker, cloud: str | None, named: Iterable[tuple[str, str]]) -> None:
    """Region names in ``cloud``'s spelling; ``named`` holds ``(key path, region)`` pairs."""
    if cloud is None:
        return
    for path, region in named:
        problem = region_problem(cloud, path, region)
        if problem:
            checker.problems.append(problem)


def _check_cluster(checker: _Checker, cluster: dict[str, Any], path: str) -> None:
    """Rules between the keys of one cluster (types are already checked)."""
    cloud: str | None = cluster.get("cloud")
    regions: list[str] | None = cluster.get("regions")
    add_regions: dict[str, int] = cluster.get("add_regions", {})
    aws: dict[str, Any] = cluster.get("aws", {})
    gcp: dict[str, Any] = cluster.get("gcp", {})
    vault: dict[str, Any] | None = cluster.get("vault")

    account_id = cluster.get("account_id")
    if isinstance(account_id, str) and cloud == "AWS" and not AWS_ACCOUNT_RE.fullmatch(account_id):
        checker.add(f"{path}.account_id", f"expected a 12-digit AWS account id, got {checker.got(account_id)}")
    if isinstance(account_id, str) and cloud == "GCP" and not GCP_PROJECT_RE.fullmatch(account_id):
        checker.add(f"{path}.account_id", f"expected a GCP project id, got {checker.got(account_id)}")

    if regions is not None:
        if not regions:
            checker.add(f"{path}.regions", "expected at least one region, got []")
        _check_region_names(checker, cloud, ((f"{path}.regions[{i}]", r) for i, r in enumerate(regions)))
        seen: set[str] = set()
        for index, region in enumerate(regions):
            if region in seen:
                checker.add(f"{path}.regions[{index}]", f"regions must be unique, got {shown(region)} twice")
            seen.add(region)

    _check_region_names(checker, cloud, ((_map_path(f"{path}.add_regions", r), r) for r in add_regions))
    for region in add_regions:
        if regions is not None and region in regions:
            checker.add(
                _map_path(f"{path}.add_regions", region),
                f"{shown(region)} is already a cluster region (listed in regions); remove it from add_regions",
            )

    # With explicit regions every add_regions entry is a new region (checked just above), so a
    # revoke beside it is two changes in one update. With regions read from the Cloud API an
    # entry may be a region added earlier; the component checks that case against the API.
    if cluster.get("revoke") is True and add_regions and regions is not None:
        checker.add(
            f"{path}.revoke",
            "true cannot be combined with add_regions: a revoke must be the only change of its "
            "update; remove add_regions or set revoke to false",
        )

    all_regions = None if regions is None else [*regions, *[r for r in add_regions if r not in regions]]
    region_maps: list[tuple[str, Mapping[str, object]]] = []
    for schema_path in REGION_KEYED:
        if schema_path == "add_regions":
            continue  # checked above, against regions only
        head, _, key = schema_path.rpartition(".")
        holder: Mapping[str, Any] = cluster.get(head) or {} if head else cluster
        region_maps.append((f"{path}.{schema_path}", holder.get(key) or {}))
    for map_path, mapping in region_maps:
        _check_region_names(checker, cloud, [(_map_path(map_path, r), r) for r in mapping])
        if all_regions is not None:
            for region in mapping:
                if region not in all_regions:
                    checker.add(
                        _map_path(map_path, region),
                        f"{shown(region)} is not a cluster region (regions and add_regions: "
                        f"{shown_names(all_regions)})",
                    )
    # AWS: bring-your-own keys replace the component's keys, so they cover every region. GCP may
    # mix them: regions without an entry in gcp.byo_keys get keys made by the component.
    byo = aws.get("byo_keys")
    missing = [r for r in all_regions or [] if byo and r not in byo]
    if missing:
        checker.add(
            f"{path}.aws.byo_keys",
            f"expected a key for every cluster region; missing {shown_names(missing)}",
        )

    if vault is not None:
        for cloud_key, options in (("aws", aws), ("gcp", gcp)):
            if options.get("byo_keys"):
                checker.add(
                    f"{path}.vault",
                    f"cannot be combined with {cloud_key}.byo_keys: keys come either from Vault or "
                    "from you; remove one of them",
                )
        collections = vault.get("key_collections", {})
        if cloud == "GCP" and "key_collection" not in vault and (
            not collections or (all_regions is not None and any(r not in collections for r in all_regions))
        ):
            checker.add(
                f"{path}.vault",
                "needs key_collection (an existing key ring, projects/<project>/locations/<location>/"
                "keyRings/<ring>) or key_collections for every cluster region on GCP",
            )

    if cloud == "AWS":
        key_mode = aws.get("key_mode", "multi-region")
        if cluster.get("region_key_generations") and key_mode != "per-region":
            checker.add(
                f"{path}.region_key_generations",
                f"needs aws.key_mode 'per-region' (a {shown(key_mode)} key rotates every region at once: "
                "raise key_generation instead)",
            )
        primary = aws.get("primary_region")
        if primary is not None:
            if key_mode != "multi-region":
                checker.add(f"{path}.aws.primary_region", f"only used with key_mode 'multi-region', got key_mode {shown(key_mode)}")
            _check_region_names(checker, cloud, [(f"{path}.aws.primary_region", primary)])
            if all_regions is not None and primary not in all_regions:
                checker.add(f"{path}.aws.primary_region", f"expected one of the cluster regions ({shown_names(all_regions)}), got {shown(primary)}")


def default_name(cluster_id: str) -> str:
    """The default resource name of a cluster's ``ClusterCmek``: ``cluster-<first 8 of the id>``."""
    return f"cluster-{cluster_id[:8].lower()}"


_UNIQUE_PER_CLOUD: tuple[tuple[str, str], ...] = (
    ("aws", "alias"),
    ("aws", "role_name"),
    ("gcp", "service_account_id"),
    ("gcp", "key_ring_name"),
)


def _check_across_clusters(checker: _Checker, parsed: list[tuple[str, dict[str, Any]]]) -> list[ClusterConfig]:
    """Cluster ids, resource names and explicitly named cloud resources are unique in a stack."""
    results: list[ClusterConfig] = []
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    explicit: dict[tuple[str, str, str, str], str] = {}
    for path, cluster in parsed:
        cluster_id = cluster.get("cluster_id")
        if not isinstance(cluster_id, str):
            continue  # missing or invalid: already reported
        key = cluster_id.lower()
        if key in ids:
            checker.add(
                f"{path}.cluster_id",
                f"cluster {shown(cluster_id)} is already configured at {ids[key]}; one entry per cluster",
            )
            continue
        ids[key] = path
        given_name = NAME in cluster
        name = cluster.pop(NAME, None) or default_name(cluster_id)
        if name in names:
            how = "" if given_name else f" (derived from cluster_id); set {path}.name to a distinct name"
            checker.add(f"{path}.name", f"resource name {shown(name)} is already used by {names[name]}{how}")
            continue
        names[name] = path
        for cloud_key, option in _UNIQUE_PER_CLOUD:
            value = cluster.get(cloud_key, {}).get(option)
            if value is None:
                continue
            scope = str(cluster.get(cloud_key, {}).get("project", "")) if cloud_key == "gcp" else ""
            seen_key = (cloud_key, option, scope, str(value))
            if seen_key in explicit:
                checker.add(
                    f"{path}.{cloud_key}.{option}",
                    f"{shown(value)} is already used by {explicit[seen_key]}; each cluster needs its own",
                )
            else:
                explicit[seen_key] = path
        results.append(ClusterConfig(name=name, args=cast(ClusterCmekArgs, cluster), key=path))
    return results
