"""The AWS stand-in's KMS resources: keys (``CreateKey`` + ``EnableKeyRotation``), replica keys
(``ReplicateKey`` from the primary's region), aliases (``CreateAlias`` / ``UpdateAlias``) and key
policies (``PutKeyPolicy``), answered with the outputs pulumi-aws has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import RehearsalError
from .applied import Applied
from .aws_calls import AwsCalls, key_id_from, region_from_arn, urn_suffix


class KmsResources(AwsCalls):
    """``aws:kms/key:Key``, ``aws:kms/replicaKey:ReplicaKey``, ``aws:kms/alias:Alias`` and
    ``aws:kms/keyPolicy:KeyPolicy`` through ``call``."""

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

    def _optional_key_params(self, inputs: Mapping[str, Any], urn_name: str, bypass: bool) -> dict[str, Any]:
        """``Policy`` (checked first), ``Description`` and ``Tags`` of ``CreateKey`` and ``ReplicateKey``."""
        params: dict[str, Any] = {}
        if inputs.get("policy"):
            self.check_key_policy(inputs["policy"], urn_name, bypass)
            params["Policy"] = inputs["policy"]
        if inputs.get("description"):
            params["Description"] = inputs["description"]
        if inputs.get("tags"):
            params["Tags"] = _tags(inputs["tags"])
        return params

    def _create_key(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        bypass = bool(inputs.get("bypassPolicyLockoutSafetyCheck"))
        params: dict[str, Any] = {
            "KeyUsage": inputs.get("keyUsage") or "ENCRYPT_DECRYPT",
            "KeySpec": inputs.get("customerMasterKeySpec") or "SYMMETRIC_DEFAULT",
            "MultiRegion": bool(inputs.get("multiRegion")),
            "BypassPolicyLockoutSafetyCheck": bypass,
        }
        params.update(self._optional_key_params(inputs, urn_name, bypass))
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
            self.retag("kms", region, key_id, {"KeyId": key_id}, old, new, ("UntagResource", "TagResource"), _tags)

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
        params.update(self._optional_key_params(inputs, urn_name, bypass))
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
        name = str(inputs.get("name") or (f"{inputs['namePrefix']}{urn_suffix(urn, 26)}" if inputs.get("namePrefix") else ""))
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


def _tags(value: Any) -> list[dict[str, str]]:
    return [{"TagKey": k, "TagValue": v} for k, v in sorted((value or {}).items())]
