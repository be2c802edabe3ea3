"""AWS as the rehearsal sees it: IAM, KMS and STS served by moto, in this process.

Each Pulumi AWS resource type the component declares is applied with the boto3 calls the real
provider makes (``aws:iam/role:Role`` -> ``CreateRole`` / ``UpdateAssumeRolePolicy``,
``aws:kms/key:Key`` -> ``CreateKey`` + ``EnableKeyRotation``, ``aws:kms/replicaKey:ReplicaKey``
-> ``ReplicateKey`` from the primary's region, ``aws:kms/alias:Alias`` -> ``CreateAlias``,
``aws:kms/keyPolicy:KeyPolicy`` -> ``PutKeyPolicy``), so ARNs, key ids and stored documents are
moto's.

Where moto is more lenient than AWS, the rehearsal adds AWS's rule before calling it:

- trust policies are validated on ``CreateRole`` as AWS does (moto validates them only on
  ``UpdateAssumeRolePolicy``), with moto's own validator;
- key policies must be JSON and pass KMS's lockout safety check (the deploying principal must
  keep ``kms:PutKeyPolicy``) unless ``bypassPolicyLockoutSafetyCheck`` is set;
- ``ReplicateKey`` with ``Policy``/``Description``: moto copies the primary's instead, and its
  replica shares the primary's aliases, so the rehearsal writes the requested policy and
  description onto moto's replica and gives it its own (regional) aliases (the call list still
  shows one ``ReplicateKey``, as on AWS);
- multi-region key ids: moto makes ``mrk-<uuid with dashes>``; AWS makes ``mrk-`` and 32 hex
  digits, which is what CockroachDB Cloud (and ``manifest.AWS_KEY_ARN_RE``) expect, so moto's
  id generator and its key-id check are given AWS's format while the rehearsal runs.

moto keeps its state in memory only. Every mutating call is appended to a journal
(``aws-journal.jsonl``) and replayed into a fresh moto at the next start, with moto's random
generator seeded per call, so the same ids come back: a second run finds exactly the keys,
replicas, aliases and roles the first one made.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import moto.kms.models as moto_kms_models
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.policy_validation import IAMTrustPolicyDocumentValidator
from moto.kms.exceptions import NotFoundException
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse
from moto.moto_api._internal import mock_random

from .calls import ApiCall, Journal, is_mutating_aws
from .errors import RehearsalError

ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
ALIAS = "aws:kms/alias:Alias"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
GET_REGION = "aws:index/getRegion:getRegion"
GET_PARTITION = "aws:index/getPartition:getPartition"

RESOURCE_TYPES = (ROLE, KEY, REPLICA_KEY, ALIAS, KEY_POLICY)
INVOKES = (CALLER_IDENTITY, GET_REGION, GET_PARTITION)

REPLACE_ON: dict[str, tuple[str, ...]] = {
    ROLE: ("name", "namePrefix", "path"),
    KEY: ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId", "region"),
    REPLICA_KEY: ("primaryKeyArn", "region"),
    ALIAS: ("name", "namePrefix", "region"),
    KEY_POLICY: ("keyId", "region"),
}
"""Inputs whose change makes the real provider replace the resource (ForceNew in its schema)."""

LOCKOUT_MESSAGE = (
    "The new key policy will not allow you to update the key policy in the future "
    "(KMS lockout safety check: grant kms:PutKeyPolicy to {caller} or its account root)"
)
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
}


@dataclass
class Applied:
    """The result of a create or update: the resource id and its outputs (camelCase)."""

    id: str
    outputs: dict[str, Any]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _tags(value: Any) -> list[dict[str, str]]:
    return [{"TagKey": k, "TagValue": v} for k, v in sorted((value or {}).items())]


def _role_tags(value: Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted((value or {}).items())]


def key_id_from(value: str) -> str:
    """``arn:aws:kms:<r>:<a>:key/<id>`` -> ``<id>``; a key id stays as it is."""
    return value.split(":key/", 1)[1] if ":key/" in value else value


def region_from_arn(value: str) -> str | None:
    parts = value.split(":")
    return parts[3] if value.startswith("arn:") and len(parts) > 4 and parts[3] else None


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


@dataclass
class AwsWorld:
    """moto for IAM, KMS and STS, started and stopped by the rehearsal."""

    journal: Journal
    default_region: str = "us-east-1"
    read_only: bool = False
    """A preview: any mutating call raises instead of reaching moto."""
    calls: list[ApiCall] = field(default_factory=list)
    _mock: Any = None
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    _replaying: bool = False
    _original_key_id: Any = None
    _original_validate: Any = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Starts moto and replays the journal into it (the state of every earlier run)."""
        for name, value in FAKE_CREDENTIALS.items():
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        self._original_key_id = moto_kms_models.generate_key_id
        self._original_validate = KmsResponse._validate_cmk_id
        moto_kms_models.generate_key_id = _aws_key_id
        KmsResponse._validate_cmk_id = _validate_cmk_id  # type: ignore[method-assign]
        self._mock = mock_aws()
        self._mock.start()
        self._replaying = True
        try:
            for sequence, entry in enumerate(self.journal, start=1):
                self._invoke(entry["service"], entry["region"], entry["operation"], entry["params"], sequence)
        except ClientError as error:
            raise RehearsalError(
                f"{self.journal.path}: replaying call {entry['operation']} failed ({error}); "
                "the AWS journal no longer matches moto: delete the state directory to start over"
            ) from None
        finally:
            self._replaying = False

    def stop(self) -> None:
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._original_key_id is not None:
            moto_kms_models.generate_key_id = self._original_key_id
            KmsResponse._validate_cmk_id = self._original_validate  # type: ignore[method-assign]
            self._original_key_id = None
        self._clients.clear()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    # ------------------------------------------------------------------ calls

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(service, region_name=region)
        return self._clients[key]

    def _invoke(self, service: str, region: str, operation: str, params: dict[str, Any], sequence: int) -> Any:
        """Calls moto; mutating calls are seeded by their journal position so ids replay."""
        snake = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
        mock_random.seed(int(hashlib.sha256(f"aws-call-{sequence}".encode()).hexdigest()[:12], 16))
        response = getattr(self.client(service, region), snake)(**params)
        fixup = _FIXUPS.get(operation)
        if fixup is not None:
            fixup(region, params, response)
        return response

    def call(self, service: str, region: str, operation: str, target: str = "", **params: Any) -> Any:
        """One AWS API call (``operation`` in AWS spelling, e.g. ``CreateKey``), recorded; a
        mutating one is also journaled. Raises ``RehearsalError`` with AWS's message on failure."""
        mutating = is_mutating_aws(operation)
        shown = {k: v for k, v in params.items() if k not in ("Policy", "AssumeRolePolicyDocument")}
        where = target if service in ("iam", "sts") else f"{target} ({region})" if target else region
        record = ApiCall("aws", f"{service}:{operation}", where, mutating, body=shown or None, at=time.time())
        if mutating and self.read_only:
            raise RehearsalError(f"preview attempted a mutating AWS call: {service}:{operation} {target}")
        self.calls.append(record)
        sequence = len(self.journal) + 1
        try:
            response = self._invoke(service, region, operation, params, sequence)
        except ClientError as error:
            err = error.response.get("Error", {})
            raise RehearsalError(
                f"AWS {service}:{operation} {target or region} failed: {err.get('Code')}: {err.get('Message')}"
            ) from None
        if mutating:
            self.journal.append({"service": service, "region": region, "operation": operation, "params": params})
        return response

    def caller(self) -> dict[str, str]:
        identity = self.call("sts", self.default_region, "GetCallerIdentity")
        return {"accountId": identity["Account"], "arn": identity["Arn"], "userId": identity["UserId"]}

    # ------------------------------------------------------------------ invokes

    def invoke(self, token: str, args: Mapping[str, Any]) -> dict[str, Any]:
        if token == CALLER_IDENTITY:
            identity = self.caller()
            return {**identity, "id": identity["accountId"]}
        if token == GET_REGION:
            region = str(args.get("region") or args.get("name") or self.default_region)
            return {"id": region, "name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com",
                    "description": region}
        if token == GET_PARTITION:
            return {"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
        raise RehearsalError(f"the rehearsal has no AWS stand-in for the invoke {token}")

    # ------------------------------------------------------------------ resources

    def create(self, typ: str, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        handler = {ROLE: self._create_role, KEY: self._create_key, REPLICA_KEY: self._create_replica,
                   ALIAS: self._create_alias, KEY_POLICY: self._put_key_policy}[typ]
        return handler(urn_name, urn, inputs, region)

    def update(self, typ: str, id_: str, old_inputs: dict[str, Any], old_outputs: dict[str, Any],
               inputs: dict[str, Any], region: str, changed: list[str]) -> Applied:
        handler = {ROLE: self._update_role, KEY: self._update_key, REPLICA_KEY: self._update_replica,
                   ALIAS: self._update_alias, KEY_POLICY: self._update_key_policy}[typ]
        return handler(id_, old_inputs, old_outputs, inputs, region, changed)

    def delete(self, typ: str, id_: str, outputs: dict[str, Any], region: str) -> None:
        if typ == ROLE:
            self._delete_role(id_)
        elif typ in (KEY, REPLICA_KEY):
            window = int(outputs.get("deletionWindowInDays") or 30)
            self.call("kms", region, "ScheduleKeyDeletion", id_, KeyId=id_, PendingWindowInDays=window)
        elif typ == ALIAS:
            self.call("kms", region, "DeleteAlias", id_, AliasName=id_)
        elif typ == KEY_POLICY:
            # Destroying a KeyPolicy gives the key AWS's default policy (the account root).
            account = self.caller()["accountId"]
            self.call("kms", region, "PutKeyPolicy", id_, KeyId=id_, PolicyName="default",
                      Policy=json.dumps(_default_key_policy(account)))

    # --- role

    def _validate_trust_policy(self, document: Any, where: str) -> None:
        problem = policy_json_problem(document)
        if problem:
            raise RehearsalError(f"{where}: assumeRolePolicy: MalformedPolicyDocument: {problem}")
        try:
            IAMTrustPolicyDocumentValidator(document).validate()
        except Exception as error:  # noqa: BLE001 - moto raises its own exception types
            raise RehearsalError(f"{where}: assumeRolePolicy: MalformedPolicyDocument: {error}") from None

    def _create_role(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        name = inputs.get("name") or (
            f"{inputs['namePrefix']}{_suffix(urn, 26)}" if inputs.get("namePrefix") else _autoname(urn_name, urn, 64)
        )
        self._validate_trust_policy(inputs.get("assumeRolePolicy"), urn_name)
        params: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
                                  "Path": inputs.get("path") or "/"}
        if inputs.get("description"):
            params["Description"] = inputs["description"]
        if inputs.get("maxSessionDuration"):
            params["MaxSessionDuration"] = int(inputs["maxSessionDuration"])
        if inputs.get("permissionsBoundary"):
            params["PermissionsBoundary"] = inputs["permissionsBoundary"]
        if inputs.get("tags"):
            params["Tags"] = _role_tags(inputs["tags"])
        role = self.call("iam", "us-east-1", "CreateRole", name, **params)["Role"]
        return Applied(name, self._role_outputs(inputs, role))

    def _role_outputs(self, inputs: Mapping[str, Any], role: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **inputs,
            "arn": role["Arn"],
            "name": role["RoleName"],
            "path": role.get("Path", "/"),
            "uniqueId": role["RoleId"],
            "createDate": role["CreateDate"].isoformat() if hasattr(role["CreateDate"], "isoformat") else str(role["CreateDate"]),
            "maxSessionDuration": role.get("MaxSessionDuration", 3600),
            "description": role.get("Description", inputs.get("description", "")),
            "tagsAll": dict(inputs.get("tags") or {}),
            "managedPolicyArns": [],
            "inlinePolicies": [],
        }

    def _update_role(self, name: str, old: dict[str, Any], old_out: dict[str, Any], new: dict[str, Any],
                     region: str, changed: list[str]) -> Applied:
        if "assumeRolePolicy" in changed:
            self._validate_trust_policy(new.get("assumeRolePolicy"), name)
            self.call("iam", "us-east-1", "UpdateAssumeRolePolicy", name, RoleName=name,
                      PolicyDocument=new["assumeRolePolicy"])
        if "description" in changed or "maxSessionDuration" in changed:
            params: dict[str, Any] = {"RoleName": name, "Description": new.get("description") or ""}
            if new.get("maxSessionDuration"):
                params["MaxSessionDuration"] = int(new["maxSessionDuration"])
            self.call("iam", "us-east-1", "UpdateRole", name, **params)
        if "permissionsBoundary" in changed:
            if new.get("permissionsBoundary"):
                self.call("iam", "us-east-1", "PutRolePermissionsBoundary", name, RoleName=name,
                          PermissionsBoundary=new["permissionsBoundary"])
            else:
                self.call("iam", "us-east-1", "DeleteRolePermissionsBoundary", name, RoleName=name)
        if "tags" in changed:
            old_tags, new_tags = dict(old.get("tags") or {}), dict(new.get("tags") or {})
            removed = sorted(set(old_tags) - set(new_tags))
            if removed:
                self.call("iam", "us-east-1", "UntagRole", name, RoleName=name, TagKeys=removed)
            if new_tags:
                self.call("iam", "us-east-1", "TagRole", name, RoleName=name, Tags=_role_tags(new_tags))
        role = self.call("iam", "us-east-1", "GetRole", name, RoleName=name)["Role"]
        return Applied(name, self._role_outputs(new, role))

    def _delete_role(self, name: str) -> None:
        attached = self.call("iam", "us-east-1", "ListAttachedRolePolicies", name, RoleName=name)
        for policy in attached.get("AttachedPolicies", []):
            self.call("iam", "us-east-1", "DetachRolePolicy", name, RoleName=name, PolicyArn=policy["PolicyArn"])
        inline = self.call("iam", "us-east-1", "ListRolePolicies", name, RoleName=name)
        for policy_name in inline.get("PolicyNames", []):
            self.call("iam", "us-east-1", "DeleteRolePolicy", name, RoleName=name, PolicyName=policy_name)
        self.call("iam", "us-east-1", "DeleteRole", name, RoleName=name)

    # --- keys

    def _check_key_policy(self, policy: Any, where: str, bypass: bool) -> None:
        problem = policy_json_problem(policy)
        if problem:
            raise RehearsalError(f"{where}: policy: MalformedPolicyDocumentException: {problem}")
        if not bypass:
            caller = self.caller()
            lockout = lockout_problem(policy, caller["arn"], caller["accountId"])
            if lockout:
                raise RehearsalError(f"{where}: policy: MalformedPolicyDocumentException: {lockout}")

    def _key_outputs(self, inputs: Mapping[str, Any], metadata: Mapping[str, Any], rotation: bool) -> dict[str, Any]:
        return {
            **inputs,
            "arn": metadata["Arn"],
            "keyId": metadata["KeyId"],
            "keyUsage": metadata.get("KeyUsage", inputs.get("keyUsage", "ENCRYPT_DECRYPT")),
            "customerMasterKeySpec": metadata.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "multiRegion": bool(metadata.get("MultiRegion", False)),
            "isEnabled": bool(metadata.get("Enabled", True)),
            "enableKeyRotation": rotation,
            "rotationPeriodInDays": int(inputs.get("rotationPeriodInDays") or 365) if rotation else 0,
            "deletionWindowInDays": int(inputs.get("deletionWindowInDays") or 30),
            "description": metadata.get("Description", ""),
            "tagsAll": dict(inputs.get("tags") or {}),
        }

    def _create_key(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        bypass = bool(inputs.get("bypassPolicyLockoutSafetyCheck"))
        params: dict[str, Any] = {
            "KeyUsage": inputs.get("keyUsage") or "ENCRYPT_DECRYPT",
            "KeySpec": inputs.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT",
            "MultiRegion": bool(inputs.get("multiRegion")),
            "BypassPolicyLockoutSafetyCheck": bypass,
        }
        if inputs.get("policy"):
            self._check_key_policy(inputs["policy"], urn_name, bypass)
            params["Policy"] = inputs["policy"]
        if inputs.get("description"):
            params["Description"] = inputs["description"]
        if inputs.get("tags"):
            params["Tags"] = _tags(inputs["tags"])
        metadata = self.call("kms", region, "CreateKey", urn_name, **params)["KeyMetadata"]
        key_id = metadata["KeyId"]
        rotation = bool(inputs.get("enableKeyRotation"))
        if rotation:
            self.call("kms", region, "EnableKeyRotation", key_id, KeyId=key_id,
                      RotationPeriodInDays=int(inputs.get("rotationPeriodInDays") or 365))
        if inputs.get("isEnabled") is False:
            self.call("kms", region, "DisableKey", key_id, KeyId=key_id)
            metadata = {**metadata, "Enabled": False}
        return Applied(key_id, self._key_outputs(inputs, metadata, rotation))

    def _update_key_common(self, key_id: str, old: Mapping[str, Any], new: Mapping[str, Any], region: str,
                           changed: list[str], enabled_field: str) -> None:
        if "description" in changed:
            self.call("kms", region, "UpdateKeyDescription", key_id, KeyId=key_id,
                      Description=new.get("description") or "")
        if "policy" in changed and new.get("policy"):
            bypass = bool(new.get("bypassPolicyLockoutSafetyCheck"))
            self._check_key_policy(new["policy"], key_id, bypass)
            self.call("kms", region, "PutKeyPolicy", key_id, KeyId=key_id, PolicyName="default",
                      Policy=new["policy"], BypassPolicyLockoutSafetyCheck=bypass)
        if enabled_field in changed:
            operation = "DisableKey" if new.get(enabled_field) is False else "EnableKey"
            self.call("kms", region, operation, key_id, KeyId=key_id)
        if "tags" in changed:
            old_tags, new_tags = dict(old.get("tags") or {}), dict(new.get("tags") or {})
            removed = sorted(set(old_tags) - set(new_tags))
            if removed:
                self.call("kms", region, "UntagResource", key_id, KeyId=key_id, TagKeys=removed)
            if new_tags:
                self.call("kms", region, "TagResource", key_id, KeyId=key_id, Tags=_tags(new_tags))

    def _update_key(self, key_id: str, old: dict[str, Any], old_out: dict[str, Any], new: dict[str, Any],
                    region: str, changed: list[str]) -> Applied:
        self._update_key_common(key_id, old, new, region, changed, "isEnabled")
        rotation = bool(new.get("enableKeyRotation"))
        if "enableKeyRotation" in changed or "rotationPeriodInDays" in changed:
            if rotation:
                self.call("kms", region, "EnableKeyRotation", key_id, KeyId=key_id,
                          RotationPeriodInDays=int(new.get("rotationPeriodInDays") or 365))
            else:
                self.call("kms", region, "DisableKeyRotation", key_id, KeyId=key_id)
        metadata = self.call("kms", region, "DescribeKey", key_id, KeyId=key_id)["KeyMetadata"]
        return Applied(key_id, self._key_outputs(new, metadata, rotation))

    def _create_replica(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        primary_arn = str(inputs.get("primaryKeyArn") or "")
        primary_region = region_from_arn(primary_arn)
        if not primary_region or ":key/" not in primary_arn:
            raise RehearsalError(f"{urn_name}: primaryKeyArn: expected a KMS key ARN, got {primary_arn!r}")
        if primary_region == region:
            raise RehearsalError(
                f"{urn_name}: region: ValidationException: a replica must be in another region than its "
                f"primary ({primary_region}), got {region!r}"
            )
        key_id = key_id_from(primary_arn)
        bypass = bool(inputs.get("bypassPolicyLockoutSafetyCheck"))
        params: dict[str, Any] = {"KeyId": key_id, "ReplicaRegion": region, "BypassPolicyLockoutSafetyCheck": bypass}
        if inputs.get("policy"):
            self._check_key_policy(inputs["policy"], urn_name, bypass)
            params["Policy"] = inputs["policy"]
        if inputs.get("description"):
            params["Description"] = inputs["description"]
        if inputs.get("tags"):
            params["Tags"] = _tags(inputs["tags"])
        self.call("kms", primary_region, "ReplicateKey", f"{key_id} -> {region}", **params)
        if inputs.get("enabled") is False:
            self.call("kms", region, "DisableKey", key_id, KeyId=key_id)
        metadata = self.call("kms", region, "DescribeKey", key_id, KeyId=key_id)["KeyMetadata"]
        return Applied(key_id, self._replica_outputs(inputs, metadata))

    def _replica_outputs(self, inputs: Mapping[str, Any], metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **inputs,
            "arn": metadata["Arn"],
            "keyId": metadata["KeyId"],
            "keyUsage": metadata.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "keySpec": metadata.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "keyRotationEnabled": False,
            "enabled": bool(metadata.get("Enabled", True)),
            "deletionWindowInDays": int(inputs.get("deletionWindowInDays") or 30),
            "description": metadata.get("Description", ""),
            "tagsAll": dict(inputs.get("tags") or {}),
        }

    def _update_replica(self, key_id: str, old: dict[str, Any], old_out: dict[str, Any], new: dict[str, Any],
                        region: str, changed: list[str]) -> Applied:
        self._update_key_common(key_id, old, new, region, changed, "enabled")
        metadata = self.call("kms", region, "DescribeKey", key_id, KeyId=key_id)["KeyMetadata"]
        return Applied(key_id, self._replica_outputs(new, metadata))

    # --- aliases and key policies

    def _alias_outputs(self, inputs: Mapping[str, Any], name: str, region: str, key_id: str) -> dict[str, Any]:
        metadata = self.call("kms", region, "DescribeKey", key_id, KeyId=key_id)["KeyMetadata"]
        account = metadata.get("AWSAccountId", DEFAULT_ACCOUNT_ID)
        return {
            **inputs,
            "name": name,
            "arn": f"arn:aws:kms:{region}:{account}:{name}",
            "targetKeyId": inputs.get("targetKeyId"),
            "targetKeyArn": metadata["Arn"],
        }

    def _create_alias(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        name = str(inputs.get("name") or (f"{inputs['namePrefix']}{_suffix(urn, 26)}" if inputs.get("namePrefix") else ""))
        if not name.startswith("alias/") or name.startswith("alias/aws/"):
            raise RehearsalError(
                f"{urn_name}: name: ValidationException: an alias name must start with 'alias/' and not "
                f"'alias/aws/', got {name!r}"
            )
        target = str(inputs.get("targetKeyId") or "")
        self.call("kms", region, "CreateAlias", name, AliasName=name, TargetKeyId=target)
        return Applied(name, self._alias_outputs(inputs, name, region, target))

    def _update_alias(self, name: str, old: dict[str, Any], old_out: dict[str, Any], new: dict[str, Any],
                      region: str, changed: list[str]) -> Applied:
        target = str(new.get("targetKeyId") or "")
        if "targetKeyId" in changed:
            self.call("kms", region, "UpdateAlias", name, AliasName=name, TargetKeyId=target)
        return Applied(name, self._alias_outputs(new, name, region, target))

    def _put_key_policy(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        key_id = key_id_from(str(inputs.get("keyId") or ""))
        bypass = bool(inputs.get("bypassPolicyLockoutSafetyCheck"))
        self._check_key_policy(inputs.get("policy"), urn_name, bypass)
        self.call("kms", region, "PutKeyPolicy", key_id, KeyId=key_id, PolicyName="default",
                  Policy=inputs["policy"], BypassPolicyLockoutSafetyCheck=bypass)
        return Applied(key_id, {**inputs, "keyId": inputs.get("keyId")})

    def _update_key_policy(self, key_id: str, old: dict[str, Any], old_out: dict[str, Any], new: dict[str, Any],
                           region: str, changed: list[str]) -> Applied:
        if "policy" in changed or "bypassPolicyLockoutSafetyCheck" in changed:
            bypass = bool(new.get("bypassPolicyLockoutSafetyCheck"))
            self._check_key_policy(new.get("policy"), key_id, bypass)
            self.call("kms", region, "PutKeyPolicy", key_id, KeyId=key_id, PolicyName="default",
                      Policy=new["policy"], BypassPolicyLockoutSafetyCheck=bypass)
        return Applied(key_id, {**new, "keyId": new.get("keyId")})

    # ------------------------------------------------------------------ inspection

    def verify(self, typ: str, id_: str, outputs: Mapping[str, Any], region: str) -> str | None:
        """After a replay: ``None`` when moto holds the resource as the state describes it, else
        what differs. Direct reads, not recorded: they are the rehearsal's check, not the stack's."""
        try:
            if typ == ROLE:
                arn = self.client("iam", "us-east-1").get_role(RoleName=id_)["Role"]["Arn"]
            elif typ in (KEY, REPLICA_KEY):
                arn = self.client("kms", region).describe_key(KeyId=id_)["KeyMetadata"]["Arn"]
            elif typ == ALIAS:
                aliases = self.client("kms", region).list_aliases()["Aliases"]
                arn = next((a["AliasArn"] for a in aliases if a["AliasName"] == id_), "")
            else:
                return None
        except ClientError as error:
            return f"{id_}: {error.response.get('Error', {}).get('Code')}"
        expected = outputs.get("arn")
        if expected and arn != expected:
            return f"{id_}: moto has {arn or 'nothing'}, the state says {expected}"
        return None

    def key_policy(self, region: str, key_id: str) -> str:
        """The policy moto holds for a key (a read, recorded like any other)."""
        return str(self.call("kms", region, "GetKeyPolicy", key_id, KeyId=key_id, PolicyName="default")["Policy"])

    def role_trust_policy(self, name: str) -> Any:
        return self.call("iam", "us-east-1", "GetRole", name, RoleName=name)["Role"]["AssumeRolePolicyDocument"]


def _default_key_policy(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def _aws_key_id(multi_region: bool = False) -> str:
    """A key id in AWS's format: a UUID, or ``mrk-`` and 32 hex digits for multi-region keys."""
    value = mock_random.uuid4()
    return f"mrk-{value.hex}" if multi_region else str(value)


_KEY_ID_RE = re.compile(r"^(?:mrk-[0-9a-f]{32}|(?:mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$", re.I)


def _validate_cmk_id(self: KmsResponse, key_id: str) -> None:
    """moto's key-id check, accepting AWS's multi-region id format."""
    is_arn = key_id.startswith("arn:") and ":key/" in key_id
    if not is_arn and not _KEY_ID_RE.match(key_id):
        raise NotFoundException(f"Invalid keyId {key_id}")
    if self.kms_backend.get_key_id(key_id) not in self.kms_backend.keys:
        raise NotFoundException(f"Key '{self._display_arn(key_id)}' does not exist")


def _suffix(urn: str, length: int) -> str:
    return hashlib.sha256(urn.encode()).hexdigest()[:length]


def _autoname(name: str, urn: str, limit: int) -> str:
    """Pulumi's auto-name: ``<resource name>-<7 hex>`` (deterministic here, from the URN)."""
    suffix = _suffix(urn, 7)
    return f"{name[: limit - len(suffix) - 1]}-{suffix}"


def _fix_replica(region: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    """moto ignores ``Policy``/``Description`` on ``ReplicateKey`` (AWS applies them), and its
    replica is a shallow copy of the primary sharing its aliases and grants (on AWS aliases and
    grants are regional: the same alias name may exist in every region)."""
    replica_region = str(params["ReplicaRegion"])
    key_id = response["ReplicaKeyMetadata"]["KeyId"]
    replica = kms_backends[DEFAULT_ACCOUNT_ID][replica_region].keys[key_id]
    replica.aliases = {}
    replica.grants = {}
    if "Policy" in params:
        replica.policy = params["Policy"]
    if "Description" in params:
        replica.description = params["Description"]


_FIXUPS: dict[str, Callable[[str, Mapping[str, Any], Mapping[str, Any]], None]] = {"ReplicateKey": _fix_replica}
