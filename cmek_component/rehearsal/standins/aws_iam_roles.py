"""The AWS stand-in's IAM roles (``aws:iam/role:Role``): created, updated, read and deleted with
the IAM calls pulumi-aws makes (``CreateRole``, ``UpdateAssumeRolePolicy``, ``UpdateRole``, the
permissions-boundary and tag calls; detach and delete on destroy). IAM is global: every call goes
to ``us-east-1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .applied import Applied
from .aws_calls import AwsCalls, autoname, urn_suffix


class IamRoles(AwsCalls):
    """``aws:iam/role:Role`` through ``call``."""

    def _create_role(self, urn_name: str, urn: str, inputs: dict[str, Any], region: str) -> Applied:
        name = inputs.get("name") or (
            f"{inputs['namePrefix']}{urn_suffix(urn, 26)}" if inputs.get("namePrefix") else autoname(urn_name, urn, 64)
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
            self.retag("iam", "us-east-1", name, {"RoleName": name}, old, new, ("UntagRole", "TagRole"), _role_tags)
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


def _role_tags(value: Any) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted((value or {}).items())]
