"""Stack configuration -> validated ``ClusterCmekArgs``, one per cluster.

Pure logic: no Pulumi import. ``__main__.py`` hands :func:`parse_stack_config` a plain mapping
of every configuration key (``"cmek:clusters"``, ``"cockroach:apiUrl"``, ...) to its value as
Pulumi passes it (structured values as JSON text), plus the set of keys that are secrets.

The schema (the full reference is docs/configuration.md, generated from the modules of ``stack/``
and ``component/args.py`` by ``scripts/gen_config_reference.py``):

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

This module reads the keys and decodes their values; the parts it puts together: the key names
(``stack/keys.py``), the schema read from the TypedDicts of ``component/args.py``
(``stack/schema.py``), the value rules by schema path (``stack/value_rules.py``), the checker of
a value against both (``stack/checker.py``) and the rules between keys (``stack/cluster_rules.py``).
Every problem names the full key path, the rule and the value received::

    cmek:clusters[0].key_generation: expected an integer >= 1, got 'two'
    cmek:clusters[1].aws.key_mod: unknown key; did you mean 'key_mode'?

All problems are collected and raised together as one :class:`ConfigError`, before any resource
is declared. Values of secret keys never appear in a message.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from cmek_component.cloud_api.api_url import api_url_problem
from cmek_component.component.args import AwsKeyOptions, ClusterCmekArgs, GcpKeyOptions
from cmek_component.manifest.problems import SECRET, Problem, SpecProblems, masked_values, shown
from cmek_component.stack.checker import INVALID, Checker
from cmek_component.stack.cluster_rules import check_across_clusters, check_cluster, merge_defaults
from cmek_component.stack.keys import (
    CLUSTERS,
    OTHER_PROVIDER_KEYS,
    PER_CLUSTER_ONLY,
    PROJECT,
    PROJECT_KEYS,
    PROVIDER_KEYS,
    PROVIDER_NAMESPACE,
    SET_API_KEY,
    VAULT_CREDENTIAL_KEYS,
    is_api_key_name,
)
from cmek_component.stack.schema import cluster_fields
from cmek_component.stack.value_rules import URL_RE
from cmek_component.vault import rules as vault_rules

MAX_CONFIG_DEPTH = 16
"""Deepest nesting of a structured configuration value. The deepest key of the schema,
``cmek:clusters[i].aws.tags.<name>``, is 4 levels down; a value nested more than 16 levels
cannot be valid, and Python's JSON reader would fail with a RecursionError near 1000 levels."""


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
    checker = Checker()
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


def _decoded(checker: Checker, own: Mapping[str, object], key: str, project: str) -> object:
    """``own[key]`` decoded from JSON, or ``INVALID`` (with a problem) when nested too deeply."""
    try:
        return _decode(own.get(key))
    except _TooDeep:
        checker.add(
            f"{project}:{key}",
            f"expected a value nested at most {MAX_CONFIG_DEPTH} levels deep (the deepest key of "
            "the schema is 4 levels down), got one nested deeper",
        )
        return INVALID


def _check_project_keys(checker: Checker, own: Mapping[str, object], project: str) -> list[ClusterConfig]:
    """The clusters of the project's keys (``clusters``, ``aws``, ``gcp``), problems in ``checker``."""
    defaults: dict[str, dict[str, Any]] = {}
    for cloud_key, options_type in (("aws", AwsKeyOptions), ("gcp", GcpKeyOptions)):
        if cloud_key not in own:
            continue
        path = f"{project}:{cloud_key}"
        decoded = _decoded(checker, own, cloud_key, project)
        if decoded is INVALID:
            continue
        checked = checker.check(decoded, options_type, path, cloud_key)
        if checked is INVALID:
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
    elif raw_clusters is INVALID:
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
            if checked is INVALID:
                continue
            cluster = cast(dict[str, Any], checked)
            taken = merge_defaults(checker, cluster, defaults, path)
            check_cluster(checker, cluster, path)
            parsed.append((path, cluster))
            stack_defaults[path] = {option: f"{project}:{option}" for option in taken}

    return [
        ClusterConfig(name, args, key, stack_defaults.get(key, {}))
        for key, name, args in check_across_clusters(checker, parsed)
    ]


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


def _check_provider_key(checker: Checker, full_key: str, key: str, raw: object, secret: bool) -> None:
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
    elif is_api_key_name(key):
        checker.add(full_key, f"unknown key; did you mean 'apiKey'? Run `{SET_API_KEY}`")
    else:
        checker.unknown_key(full_key, key, PROVIDER_KEYS)
