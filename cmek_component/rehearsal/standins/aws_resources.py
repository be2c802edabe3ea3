"""The AWS resources the component declares, as the calls the real provider makes.

Each Pulumi AWS resource type is applied with the AWS API calls pulumi-aws makes
(``aws:iam/role:Role`` -> ``CreateRole`` / ``UpdateAssumeRolePolicy``, ``aws:kms/key:Key`` ->
``CreateKey`` + ``EnableKeyRotation``, ``aws:kms/replicaKey:ReplicaKey`` -> ``ReplicateKey`` from
the primary's region, ``aws:kms/alias:Alias`` -> ``CreateAlias``, ``aws:kms/keyPolicy:KeyPolicy``
-> ``PutKeyPolicy``), and answers with the output properties the real provider has, so ARNs, key
ids and stored documents are the backend's (moto's).

:class:`AwsResources` leaves the transport to a subclass (``call``): the stand-in provider talks
to moto in server mode over HTTP, the rehearsal's in-process world to ``mock_aws``. This module
holds the type tokens and the dispatch (create, update, read, delete, invokes); the roles are
:mod:`.aws_iam_roles`', the KMS resources :mod:`.aws_kms_resources`'.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import RehearsalError
from .applied import Applied
from .aws_calls import key_id_from
from .aws_iam_roles import IamRoles
from .aws_kms_resources import KmsResources

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


class AwsResources(IamRoles, KmsResources):
    """Creates, updates, reads and deletes the component's AWS resources, and answers its invokes,
    through ``call`` (see :class:`.aws_calls.AwsCalls`)."""

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


def _same_policy(given: Any, stored: Any) -> Any:
    """The stored policy document, as the inputs' text when both mean the same JSON."""
    document = stored if isinstance(stored, str) else json.dumps(stored)
    try:
        if isinstance(given, str) and json.loads(given) == json.loads(document):
            return given
    except json.JSONDecodeError:
        pass
    return document



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
