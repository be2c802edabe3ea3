"""The AWS resources the component declares, as the calls the real provider makes.

Each Pulumi AWS resource type is applied with the AWS API calls pulumi-aws makes
(``aws:iam/role:Role`` -> ``CreateRole`` / ``UpdateAssumeRolePolicy``, ``aws:kms/key:Key`` ->
``CreateKey`` + ``EnableKeyRotation``, ``aws:kms/replicaKey:ReplicaKey`` -> ``ReplicateKey`` from
the primary's region, ``aws:kms/alias:Alias`` -> ``CreateAlias``, ``aws:kms/keyPolicy:KeyPolicy``
-> ``PutKeyPolicy``), and answers with the output properties the real provider has, so ARNs, key
ids and stored documents are the backend's (moto's).

:class:`AwsResources` leaves the transport to a subclass (``call``): the stand-in provider talks
to moto in server mode over HTTP, the rehearsal's in-process world to ``mock_aws``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import RehearsalError

ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
ALIAS = "aws:kms/alias:Alias"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
GET_REGION = "aws:index/getRegion:getRegion"
GET_PARTITION = "aws:index/getPartition:getPartition"
GET_ALIAS = "aws:kms/getAlias:getAlias"

RESOURCE_TYPES = (ROLE, KEY, REPLICA_KEY, ALIAS, KEY_POLICY)
INVOKES = (CALLER_IDENTITY, GET_REGION, GET_PARTITION, GET_ALIAS)

REPLACE_ON: dict[str, tuple[str, ...]] = {
    ROLE: ("name", "namePrefix", "path"),
    KEY: ("customerMasterKeySpec", "keyUsage", "multiRegion", "customKeyStoreId", "xksKeyId", "region"),
    REPLICA_KEY: ("primaryKeyArn", "region"),
    ALIAS: ("name", "namePrefix", "region"),
    KEY_POLICY: ("region",),
}
"""Inputs whose change makes the real provider replace the resource: the ``ForceNew`` attributes
of the Terraform resources pulumi-aws bridges (``aws_iam_role``: name, name_prefix, path;
``aws_kms_key``: customer_master_key_spec, key_usage, multi_region, custom_key_store_id,
xks_key_id; ``aws_kms_replica_key``: primary_key_arn; ``aws_kms_alias``: name, name_prefix;
``aws_kms_key_policy``: none, its key_id is updated in place), plus ``region``, the per-resource
region of pulumi-aws 7 (a resource cannot move between regions). IAM is global: no region."""


@dataclass
class Applied:
    """The result of a create or update: the resource id and its outputs (camelCase)."""

    id: str
    outputs: dict[str, Any]



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


class AwsResources:
    """Creates, updates and deletes the component's AWS resources through ``call``.

    Subclasses provide ``call`` (one AWS API call in AWS spelling, e.g. ``CreateKey``; raises
    ``RehearsalError`` with AWS's message on failure) and may check policies before sending them
    (``check_trust_policy``, ``check_key_policy``: by default the backend does, as AWS does).
    """

    default_region: str = "us-east-1"

    def call(self, service: str, region: str, operation: str, target: str = "", **params: Any) -> Any:
        raise NotImplementedError

    def check_trust_policy(self, document: Any, where: str) -> None:
        """Raises ``RehearsalError`` for a trust policy IAM would refuse (default: IAM decides)."""

    def check_key_policy(self, policy: Any, where: str, bypass: bool) -> None:
        """Raises ``RehearsalError`` for a key policy KMS would refuse (default: KMS decides)."""

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
        if token == GET_ALIAS:
            return self._get_alias(str(args.get("name") or ""), str(args.get("region") or self.default_region))
        raise RehearsalError(f"the rehearsal has no AWS stand-in for the invoke {token}")

    def _get_alias(self, name: str, region: str) -> dict[str, Any]:
        """``aws.kms.getAlias``: the alias and the key it points at (``ListAliases`` + ``DescribeKey``)."""
        aliases = self.call("kms", region, "ListAliases", name)["Aliases"]
        found = next((alias for alias in aliases if alias["AliasName"] == name), None)
        if found is None or not found.get("TargetKeyId"):
            raise RehearsalError(f"aws.kms.getAlias: NotFoundException: alias {name!r} does not exist in {region}")
        target = found["TargetKeyId"]
        metadata = self.call("kms", region, "DescribeKey", target, KeyId=target)["KeyMetadata"]
        return {"id": found["AliasArn"], "arn": found["AliasArn"], "name": name, "region": region,
                "targetKeyId": target, "targetKeyArn": metadata["Arn"]}

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

    def read(self, typ: str, id_: str, inputs: dict[str, Any], region: str) -> Applied | None:
        """``pulumi refresh``: the resource as AWS holds it now, or ``None`` when it is gone (a key
        pending deletion counts as gone, as for the real provider). Policies AWS holds in a form
        equivalent to the inputs' are answered with the inputs' text (no spurious drift)."""
        not_found = ("NoSuchEntity", "NotFoundException")
        try:
            if typ == ROLE:
                role = self.call("iam", "us-east-1", "GetRole", id_, RoleName=id_)["Role"]
                outputs = self._role_outputs(inputs, role)
                outputs["assumeRolePolicy"] = _same_policy(inputs.get("assumeRolePolicy"), role["AssumeRolePolicyDocument"])
                return Applied(id_, outputs)
            if typ in (KEY, REPLICA_KEY):
                metadata = self.call("kms", region, "DescribeKey", id_, KeyId=id_)["KeyMetadata"]
                if metadata.get("KeyState") in ("PendingDeletion", "PendingReplicaDeletion"):
                    return None
                stored = self.call("kms", region, "GetKeyPolicy", id_, KeyId=id_, PolicyName="default")["Policy"]
                if typ == KEY:
                    status = self.call("kms", region, "GetKeyRotationStatus", id_, KeyId=id_)
                    outputs = self._key_outputs(inputs, metadata, bool(status.get("KeyRotationEnabled")))
                else:
                    outputs = self._replica_outputs(inputs, metadata)
                outputs["policy"] = _same_policy(inputs.get("policy"), stored)
                return Applied(id_, outputs)
            if typ == ALIAS:
                aliases = self.call("kms", region, "ListAliases", id_)["Aliases"]
                found = next((a for a in aliases if a["AliasName"] == id_), None)
                if found is None:
                    return None
                target = str(found.get("TargetKeyId") or "")
                wanted = str(inputs.get("targetKeyId") or "")
                kept = wanted if key_id_from(wanted) == target else target
                return Applied(id_, self._alias_outputs({**inputs, "targetKeyId": kept}, id_, region, target))
            if typ == KEY_POLICY:
                stored = self.call("kms", region, "GetKeyPolicy", id_, KeyId=key_id_from(id_), PolicyName="default")
                return Applied(id_, {**inputs, "policy": _same_policy(inputs.get("policy"), stored["Policy"])})
        except RehearsalError as error:
            if any(code in str(error) for code in not_found):
                return None
            raise
        raise RehearsalError(f"the AWS stand-in cannot read resource type {typ}")

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

    def _create_role(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        name = inputs.get("name") or (
            f"{inputs['namePrefix']}{_suffix(urn, 26)}" if inputs.get("namePrefix") else _autoname(urn_name, urn, 64)
        )
        self.check_trust_policy(inputs.get("assumeRolePolicy"), urn_name)
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
            self.check_trust_policy(new.get("assumeRolePolicy"), name)
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
            self.check_key_policy(inputs["policy"], urn_name, bypass)
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
            self.check_key_policy(new["policy"], key_id, bypass)
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
            self.check_key_policy(inputs["policy"], urn_name, bypass)
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
        account = metadata.get("AWSAccountId") or str(metadata["Arn"]).split(":")[4]
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
        self.check_key_policy(inputs.get("policy"), urn_name, bypass)
        self.call("kms", region, "PutKeyPolicy", key_id, KeyId=key_id, PolicyName="default",
                  Policy=inputs["policy"], BypassPolicyLockoutSafetyCheck=bypass)
        return Applied(key_id, {**inputs, "keyId": inputs.get("keyId")})

    def _update_key_policy(self, key_id: str, old: dict[str, Any], old_out: dict[str, Any], new: dict[str, Any],
                           region: str, changed: list[str]) -> Applied:
        if "policy" in changed or "bypassPolicyLockoutSafetyCheck" in changed:
            bypass = bool(new.get("bypassPolicyLockoutSafetyCheck"))
            self.check_key_policy(new.get("policy"), key_id, bypass)
            self.call("kms", region, "PutKeyPolicy", key_id, KeyId=key_id, PolicyName="default",
                      Policy=new["policy"], BypassPolicyLockoutSafetyCheck=bypass)
        return Applied(key_id, {**new, "keyId": new.get("keyId")})


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



def _same_policy(given: Any, stored: Any) -> Any:
    """The stored policy document, as the inputs' text when both mean the same JSON."""
    document = stored if isinstance(stored, str) else json.dumps(stored)
    try:
        if isinstance(given, str) and json.loads(given) == json.loads(document):
            return given
    except json.JSONDecodeError:
        pass
    return document


def _suffix(urn: str, length: int) -> str:
    return hashlib.sha256(urn.encode()).hexdigest()[:length]


def _autoname(name: str, urn: str, limit: int) -> str:
    """Pulumi's auto-name: ``<resource name>-<7 hex>`` (deterministic here, from the URN)."""
    suffix = _suffix(urn, 7)
    return f"{name[: limit - len(suffix) - 1]}-{suffix}"

