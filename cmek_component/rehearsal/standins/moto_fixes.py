"""Where moto is more lenient than AWS, AWS's rule; used inside the moto server process (and by
the rehearsal's in-process moto).

- trust policies are validated on ``CreateRole`` as AWS does (moto validates them only on
  ``UpdateAssumeRolePolicy``), with moto's own validator: :func:`trust_policy_problem`;
- key policies must be JSON and pass KMS's lockout safety check (the deploying principal must
  keep ``kms:PutKeyPolicy``) unless ``BypassPolicyLockoutSafetyCheck`` is set:
  :func:`policy_json_problem`, :func:`lockout_problem`;
- ``ReplicateKey`` with ``Policy``/``Description``: moto copies the primary's instead, and its
  replica shares the primary's aliases; :func:`fix_replica` writes the requested policy and
  description onto moto's replica and gives it its own (regional) aliases;
- multi-region key ids: moto makes ``mrk-<uuid with dashes>``; AWS makes ``mrk-`` and 32 hex
  digits, which is what CockroachDB Cloud (and ``manifest.AWS_KEY_ARN_RE``) expect:
  :func:`install_key_id_format` gives moto's id generator and key-id check AWS's format.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import moto.kms.models as moto_kms_models
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator
from moto.kms.exceptions import NotFoundException
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse
from moto.moto_api._internal import mock_random

LOCKOUT_MESSAGE = (
    "The new key policy will not allow you to update the key policy in the future "
    "(KMS lockout safety check: grant kms:PutKeyPolicy to {caller} or its account root)"
)
MOTO_CALLER_ARN = f"arn:aws:sts::{DEFAULT_ACCOUNT_ID}:user/moto"
"""Who moto says is calling (``GetCallerIdentity`` with any credentials)."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def lockout_problem(policy: str, caller_arn: str, account_id: str) -> str | None:
    """KMS's lockout safety check: ``None`` when an unconditional Allow statement still lets the
    caller (or its account root, which delegates to IAM) call ``kms:PutKeyPolicy``."""
    document = json.loads(policy)
    allowed = {"*", account_id, f"arn:aws:iam::{account_id}:root", caller_arn}
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        principals = _as_list(principal.get("AWS")) if isinstance(principal, Mapping) else _as_list(principal)
        if not allowed.intersection(str(p) for p in principals):
            continue
        actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
        if any(fnmatch.fnmatchcase("kms:putkeypolicy", action) for action in actions):
            return None
    return LOCKOUT_MESSAGE.format(caller=caller_arn)


def policy_json_problem(policy: Any) -> str | None:
    """A key or trust policy must be a JSON object with a ``Statement``."""
    try:
        document = json.loads(policy) if isinstance(policy, str) else None
    except json.JSONDecodeError as error:
        return f"not valid JSON ({error.msg} at {error.pos})"
    if not isinstance(document, dict) or "Statement" not in document:
        return "expected a JSON object with a Statement"
    return None


def trust_policy_problem(document: Any) -> str | None:
    """What IAM's ``CreateRole`` would answer MalformedPolicyDocument for, or ``None``."""
    problem = policy_json_problem(document)
    if problem:
        return problem
    try:
        IAMTrustPolicyDocumentValidator(document).validate()
    except Exception as error:  # noqa: BLE001 - moto raises its own exception types
        return str(error)
    return None


def key_policy_problem(policy: Any, bypass: bool, caller_arn: str = MOTO_CALLER_ARN,
                       account_id: str = DEFAULT_ACCOUNT_ID) -> str | None:
    """What KMS would answer MalformedPolicyDocumentException for (JSON, lockout), or ``None``."""
    problem = policy_json_problem(policy)
    if problem or bypass:
        return problem
    return lockout_problem(str(policy), caller_arn, account_id)


def aws_key_id(multi_region: bool = False) -> str:
    """A key id in AWS's format: a UUID, or ``mrk-`` and 32 hex digits for multi-region keys."""
    value = mock_random.uuid4()
    return f"mrk-{value.hex}" if multi_region else str(value)


_KEY_ID_RE = re.compile(r"^(?:mrk-[0-9a-f]{32}|(?:mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.I)


def validate_cmk_id(self: KmsResponse, key_id: str) -> None:
    """moto's key-id check, accepting AWS's multi-region id format."""
    is_arn = key_id.startswith("arn:") and ":key/" in key_id
    if not is_arn and not _KEY_ID_RE.match(key_id):
        raise NotFoundException(f"Invalid keyId {key_id}")
    if self.kms_backend.get_key_id(key_id) not in self.kms_backend.keys:
        raise NotFoundException(f"Key '{self._display_arn(key_id)}' does not exist")


def install_key_id_format() -> Callable[[], None]:
    """Gives moto AWS's key-id format; returns the function that puts moto's own back."""
    original_generate, original_validate = moto_kms_models.generate_key_id, KmsResponse._validate_cmk_id
    moto_kms_models.generate_key_id = aws_key_id
    KmsResponse._validate_cmk_id = validate_cmk_id  # type: ignore[method-assign]

    def restore() -> None:
        moto_kms_models.generate_key_id = original_generate
        KmsResponse._validate_cmk_id = original_validate  # type: ignore[method-assign]

    return restore


def fix_replica(params: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    """After moto's ``ReplicateKey``: the requested ``Policy``/``Description`` on the replica (AWS
    applies them, moto copies the primary's), and no aliases, grants or multi-Region configuration
    shared with the primary (on AWS aliases and grants are regional, and moto's shared
    configuration made the primary describe itself as a ``REPLICA`` once a replica was described)."""
    replica_region = str(params["ReplicaRegion"])
    key_id = response["ReplicaKeyMetadata"]["KeyId"]
    replica = kms_backends[DEFAULT_ACCOUNT_ID][replica_region].keys[key_id]
    replica.aliases = {}
    replica.grants = {}
    configuration = json.loads(json.dumps(replica.multi_region_configuration))
    replica.multi_region_configuration = {**configuration, "MultiRegionKeyType": "REPLICA"}
    primary_region = str(configuration.get("PrimaryKey", {}).get("Region") or "")
    primary = kms_backends[DEFAULT_ACCOUNT_ID][primary_region].keys.get(key_id) if primary_region else None
    if primary is not None:
        primary.multi_region_configuration = {**json.loads(json.dumps(configuration)), "MultiRegionKeyType": "PRIMARY"}
    if "Policy" in params:
        replica.policy = params["Policy"]
    if "Description" in params:
        replica.description = params["Description"]
