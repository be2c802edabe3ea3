"""AWS policy documents for CMEK, built as plain dictionaries.

Pure logic: no Pulumi, no network. The component serialises these with ``json.dumps`` instead of
``aws.iam.get_policy_document``, so a preview and the tests see the exact document AWS will get.

- :func:`trust_policy`: the cross-account role CockroachDB Cloud assumes (seed, step 1).
- :func:`key_policy`: the ``crdb-cmek-kms`` key policy (seed, step 2 and appendix) plus an
  administration statement, so the key can never be locked out.
- :func:`validate_alias` / :func:`alias_name`: KMS alias rules and the component's alias names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from cmek_component.manifest.problems import SpecError

POLICY_VERSION = "2012-10-17"
KEY_POLICY_ID = "crdb-cmek-kms"
"""The ``Id`` of the seed's key policy."""

CMEK_USAGE_SID = "Allow use of the key for CMEK"
"""The seed's ``Sid`` for the statement that lets the cross-account role use the key."""

KEY_ADMINISTRATION_SID = "Allow administration of the key"
"""``Sid`` of the statement that keeps the key manageable."""

CMEK_USAGE_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
    "kms:ReEncrypt*",
)
"""Exactly the five actions the seed grants the cross-account role, in the seed's order."""

KEY_ADMINISTRATION_ACTIONS: tuple[str, ...] = (
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
    "kms:ReplicateKey",
    "kms:UpdatePrimaryRegion",
)
"""What key administrators may do: AWS's default "Allow access for Key Administrators" list
plus ``kms:ReplicateKey`` and ``kms:UpdatePrimaryRegion`` for multi-region keys.

Deliberately not ``kms:*``: none of these actions encrypts, decrypts or generates data keys, so
a reader of the key policy sees exactly one principal that can *use* the key (the CockroachDB
role). An administrator can still change the policy or create a grant (that is what
administration means, and what prevents a lockout), but only through a visible, logged change.
"""

TRUST_ACTION = "sts:AssumeRole"
EXTERNAL_ID_CONDITION_KEY = "sts:ExternalId"

_ACCOUNT_ID_RE = re.compile(r"[0-9]{12}")
_PARTITION_RE = re.compile(r"aws(?:-cn|-us-gov)?")
ADMIN_PRINCIPAL_RE = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:(?:root|(?:role|user)/[A-Za-z0-9_+=,.@/-]{1,512})"
)
ADMIN_PRINCIPAL_FORM = (
    "an IAM principal ARN (arn:aws:iam::<account>:root, "
    "arn:aws:iam::<account>:role/<name> or arn:aws:iam::<account>:user/<name>)"
)
ROLE_ARN_RE = re.compile(r"arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]{1,512}")

ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/aws/"
ALIAS_MAX_LENGTH = 256
_ALIAS_CHARS_RE = re.compile(r"[a-zA-Z0-9:/_-]+")


def account_root(account_id: str, partition: str = "aws", field: str = "account_id") -> str:
    """``arn:<partition>:iam::<account_id>:root``: the whole account as an IAM principal."""
    if not isinstance(account_id, str) or not _ACCOUNT_ID_RE.fullmatch(account_id):
        raise SpecError(field, "expected a 12-digit AWS account id", account_id)
    if not _PARTITION_RE.fullmatch(partition):
        raise SpecError("partition", "expected aws, aws-cn or aws-us-gov", partition)
    return f"arn:{partition}:iam::{account_id}:root"


def trust_policy(account_id: str, organization_id: str) -> dict[str, Any]:
    """Trust policy of the cross-account role CockroachDB Cloud assumes.

    ``account_id``: the cluster's ``account_id`` from ``GET /api/v1/clusters/{id}`` (the AWS
    account CockroachDB manages, 12 digits). ``organization_id``: the CockroachDB Cloud
    organization id, required as ``sts:ExternalId`` so no other CockroachDB customer can make
    CockroachDB Cloud assume this role (confused-deputy protection).
    """
    principal = account_root(account_id, field="account_id")
    if not isinstance(organization_id, str) or not organization_id.strip():
        raise SpecError(
            "organization_id",
            "expected the CockroachDB Cloud organization id (the role's sts:ExternalId)",
            organization_id,
        )
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": TRUST_ACTION,
                "Condition": {"StringEquals": {EXTERNAL_ID_CONDITION_KEY: organization_id}},
            }
        ],
    }


def validate_admin_principals(principals: object, field: str = "aws.admin_principals") -> list[str]:
    """The administrator principal ARNs, checked: a non-empty list of IAM principal ARNs."""
    if isinstance(principals, str) or not isinstance(principals, Sequence):
        raise SpecError(field, f"expected a list of {ADMIN_PRINCIPAL_FORM}", principals)
    if not principals:
        raise SpecError(field, "expected at least one administrator, so the key can never be locked out", principals)
    checked: list[str] = []
    for index, principal in enumerate(principals):
        if not isinstance(principal, str) or not ADMIN_PRINCIPAL_RE.fullmatch(principal):
            raise SpecError(f"{field}[{index}]", f"expected {ADMIN_PRINCIPAL_FORM}", principal)
        if principal not in checked:
            checked.append(principal)
    return checked


def cmek_usage_statement(role_arn: str) -> dict[str, Any]:
    """The seed's statement: the role may use the key with exactly :data:`CMEK_USAGE_ACTIONS`."""
    if not isinstance(role_arn, str) or not ROLE_ARN_RE.fullmatch(role_arn):
        raise SpecError("role_arn", "expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)", role_arn)
    return {
        "Sid": CMEK_USAGE_SID,
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": list(CMEK_USAGE_ACTIONS),
        "Resource": "*",
    }


def key_administration_statement(admin_principals: Sequence[str]) -> dict[str, Any]:
    """Administration of the key (never its use) for ``admin_principals``.

    One principal is written as a string, several as a list, as AWS writes them.
    """
    admins = validate_admin_principals(admin_principals)
    return {
        "Sid": KEY_ADMINISTRATION_SID,
        "Effect": "Allow",
        "Principal": {"AWS": admins[0] if len(admins) == 1 else admins},
        "Action": list(KEY_ADMINISTRATION_ACTIONS),
        "Resource": "*",
    }


def key_policy(role_arn: str, admin_principals: Sequence[str], *, grant_usage: bool = True) -> dict[str, Any]:
    """The ``crdb-cmek-kms`` key policy.

    ``role_arn``: the cross-account role CockroachDB Cloud assumes. ``admin_principals``: who
    administers the key (at least one). ``grant_usage=False`` leaves out the usage statement:
    step 1 of the revoke runbook ("cut KMS access first"), keeping only administration.
    """
    usage = cmek_usage_statement(role_arn)  # validates the role ARN in both cases
    statements = [usage] if grant_usage else []
    statements.append(key_administration_statement(admin_principals))
    return {"Version": POLICY_VERSION, "Id": KEY_POLICY_ID, "Statement": statements}


def to_json(document: dict[str, Any]) -> str:
    """A policy document as AWS shows it: JSON, two-space indented, keys in builder order."""
    return json.dumps(document, indent=2)


def validate_alias(alias: object, field: str = "aws.alias") -> str:
    """A KMS alias name, checked against KMS's rules; returns it unchanged.

    Rules: starts with ``alias/``, does not start with ``alias/aws/`` (reserved for AWS managed
    keys), has a name after the prefix, uses only ``a-zA-Z0-9:/_-``, at most 256 characters.
    """
    if not isinstance(alias, str):
        raise SpecError(field, "expected a string such as 'alias/crdb-cmek'", alias)
    if not alias.startswith(ALIAS_PREFIX):
        raise SpecError(field, f"must start with {ALIAS_PREFIX!r}", alias)
    if alias.startswith(RESERVED_ALIAS_PREFIX):
        raise SpecError(field, f"must not start with {RESERVED_ALIAS_PREFIX!r} (reserved for AWS managed keys)", alias)
    if len(alias) == len(ALIAS_PREFIX):
        raise SpecError(field, f"expected a name after {ALIAS_PREFIX!r}", alias)
    if not _ALIAS_CHARS_RE.fullmatch(alias):
        raise SpecError(field, "must use only the characters a-zA-Z0-9:/_-", alias)
    if len(alias) > ALIAS_MAX_LENGTH:
        raise SpecError(field, f"must be at most {ALIAS_MAX_LENGTH} characters (has {len(alias)})", alias)
    return alias


def default_alias(cluster_id: str) -> str:
    """``alias/crdb-cmek-<cluster id>``."""
    return f"{ALIAS_PREFIX}crdb-cmek-{cluster_id}"


def alias_name(base: str, generation: int, field: str = "aws.alias") -> str:
    """The alias of a key generation: ``base`` for generation 1, ``base-g<n>`` after.

    Aliases are regional in KMS, so the same name is used in every region that holds a key or
    replica of the generation; each generation keeps its own alias.
    """
    if generation < 1:
        raise SpecError("key_generation", "expected an integer of at least 1", generation)
    return validate_alias(base if generation == 1 else f"{base}-g{generation}", field)
