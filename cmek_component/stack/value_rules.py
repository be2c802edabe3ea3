"""Value rules that are not types, keyed by schema path: what a string must look like, the range
of an integer, and which maps are keyed by cluster regions.

A schema path names a key of the configuration schema (:mod:`cmek_component.stack.schema`):
field names joined by ``.``, ``*`` for the values of a map and ``[]`` for the items of a list
(``aws.byo_keys.*``, ``regions[]``). The checker applies these rules; the configuration reference
(README.md) shows each rule's ``form`` as the key's valid values. Pure: no Pulumi import.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cmek_component.activation.inputs import (
    MAX_IAM_PROPAGATION_TIMEOUT_SECONDS,
    MAX_WAIT_TIMEOUT_SECONDS,
)
from cmek_component.manifest.generations import MAX_KEY_GENERATION
from cmek_component.manifest.identifiers import (
    AWS_KEY_ARN_FORM,
    AWS_KEY_ARN_RE,
    AWS_POLICY_ARN_RE,
    AWS_PRINCIPAL_RE,
    CLUSTER_ID_FORM,
    CLUSTER_ID_RE,
    GCP_KEY_URI_FORM,
    GCP_KEY_URI_RE,
    canonical_cluster_id,
)
from cmek_component.manifest.problems import suggestion
from cmek_component.stack.keys import NAME, RESERVED_NAMES

REGION_KEYED: tuple[str, ...] = (
    "add_regions",
    "region_key_generations",
    "aws.byo_keys",
    "gcp.byo_keys",
    "gcp.key_locations",
    "vault.key_collections",
)
"""Maps whose keys are cluster regions (checked against ``regions`` and the cloud's spelling)."""

# Matched against the whole value (``fullmatch``), ASCII classes only (see manifest/identifiers.py).
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
generation stays declared) and ``activation.inputs.MAX_WAIT_TIMEOUT_SECONDS`` /
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
