"""The GCP stand-in's service accounts and IAM members (on service accounts and crypto keys).

Account ids, display names, IAM roles and members are checked as IAM checks them; a service
account's name, email and 21-digit ``uniqueId`` are of GCP's formats; an account that still exists
(retained, or deleted but recoverable) answers ALREADY_EXISTS when it is created again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cmek_component.gcp.rules import service_account_email, service_account_id_problem

from ..errors import RehearsalError
from .applied import Applied
from .gcp_records import GcpRecords, digits, etag, problem_text

ROLE_RE = re.compile(r"^(?:roles/[A-Za-z0-9_.]+|(?:projects|organizations)/[A-Za-z0-9_.:-]+/roles/[A-Za-z0-9_.]+)$")
MEMBER_RE = re.compile(
    r"^(?:(?:serviceAccount|user|group):[^@\s]+@[^@\s]+\.[a-z]+|domain:[a-z0-9.-]+\.[a-z]+|"
    r"principal(?:Set)?://\S+|allUsers|allAuthenticatedUsers|projectOwner:\S+|projectEditor:\S+|projectViewer:\S+)$"
)
ACCOUNT_NAME_RE = re.compile(r"^projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/]+)$")


class GcpAccounts(GcpRecords):
    """``gcp:serviceaccount/account:Account`` and the IAM members on accounts and crypto keys."""

    def _account_outputs(self, inputs: Mapping[str, Any], account: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **inputs,
            "project": account["project"],
            "email": account["email"],
            "name": account["name"],
            "member": f"serviceAccount:{account['email']}",
            "uniqueId": account["uniqueId"],
            "disabled": bool(account.get("disabled") or False),
        }

    def _create_account(self, urn_name: str, inputs: dict[str, Any]) -> Applied:
        project = self._project(inputs, urn_name)
        account_id = inputs.get("accountId")
        problem = service_account_id_problem(f"{urn_name}: accountId", account_id)
        if problem:
            raise RehearsalError(problem_text(problem))
        display = inputs.get("displayName")
        if display is not None and len(str(display)) > 100:
            raise RehearsalError(f"{urn_name}: displayName: expected at most 100 characters, got {display!r}")
        email = service_account_email(str(account_id), project)
        name = f"projects/{project}/serviceAccounts/{email}"
        if name in self.objects and not inputs.get("createIgnoreAlreadyExists"):
            raise RehearsalError(
                f"{urn_name}: Error 409: ALREADY_EXISTS: service account {email} already exists within "
                f"project projects/{project} (a retained or deleted-but-recoverable account keeps its id)"
            )
        self._call("iam:serviceAccounts.create", name, body={"accountId": account_id, "displayName": display})
        account: dict[str, Any] = {"kind": "serviceAccount", "project": project, "email": email, "name": name,
                   "uniqueId": digits(email, 21), "displayName": display,
                   # The real provider ignores ``disabled`` when it creates an account (GCP creates
                   # it enabled; the next update disables it), so the store does too.
                   "description": inputs.get("description"), "disabled": False,
                   "bindings": {}}
        self.objects[name] = account
        return Applied(name, self._account_outputs(inputs, account))

    def _update_account(self, id_: str, inputs: Mapping[str, Any], changed: list[str]) -> Applied:
        """The real provider's update (``resourceGoogleServiceAccountUpdate``): ``get``, then
        ``disable`` or ``enable`` when ``disabled`` changed, and ``patch`` (update mask
        ``description``, ``display_name``) only when one of those two changed."""
        self._call("iam:serviceAccounts.get", id_, mutating=False)
        account = self.objects.get(id_)
        if account is None:
            raise RehearsalError(f"{id_}: Error retrieving service account: NOT_FOUND")
        if "disabled" in changed:
            disabled = bool(inputs.get("disabled"))
            self._call("iam:serviceAccounts.disable" if disabled else "iam:serviceAccounts.enable", id_)
            account["disabled"] = disabled
        mask = [key for key in ("description", "displayName") if key in changed]
        if mask:
            for key in mask:
                account[key] = inputs.get(key)
            self._call("iam:serviceAccounts.patch", id_, body={"updateMask": mask, **{k: inputs.get(k) for k in mask}})
        return Applied(id_, self._account_outputs(inputs, account))

    def _check_binding(self, where: str, inputs: Mapping[str, Any]) -> None:
        role = inputs.get("role")
        if not isinstance(role, str) or not ROLE_RE.match(role):
            raise RehearsalError(
                f"{where}: role: expected 'roles/<name>' or 'projects|organizations/<id>/roles/<name>', got {role!r}"
            )
        member = inputs.get("member")
        if not isinstance(member, str) or not MEMBER_RE.match(member):
            raise RehearsalError(
                f"{where}: member: expected '<type>:<identity>' such as 'serviceAccount:<email>', got {member!r}"
            )

    def _add_member(self, where: str, target: str, service: str, inputs: Mapping[str, Any],
                    holder: dict[str, Any] | None) -> Applied:
        self._check_binding(where, inputs)
        role, member = str(inputs["role"]), str(inputs["member"])
        self._call(f"{service}.getIamPolicy", target, mutating=False)
        self._call(f"{service}.setIamPolicy", target, body={"add": [role, member]})
        if holder is not None:
            members = holder.setdefault("bindings", {}).setdefault(role, [])
            if member not in members:
                members.append(member)
        id_ = f"{target}/{role}/{member}"
        return Applied(id_, {**inputs, "etag": etag(id_)})

    def _add_account_member(self, urn_name: str, inputs: dict[str, Any]) -> Applied:
        target = str(inputs.get("serviceAccountId") or "")
        if not ACCOUNT_NAME_RE.match(target):
            raise RehearsalError(
                f"{urn_name}: serviceAccountId: expected projects/<project>/serviceAccounts/<email>, got {target!r}"
            )
        holder = self.objects.get(target)
        if holder is None:
            raise RehearsalError(f"{urn_name}: NOT_FOUND: service account {target} does not exist")
        return self._add_member(urn_name, target, "iam:serviceAccounts", inputs, holder)

    def _add_key_member(self, urn_name: str, inputs: dict[str, Any]) -> Applied:
        target = str(inputs.get("cryptoKeyId") or "")
        match = re.match(r"^projects/([^/]+)/locations/([^/]+)/keyRings/([^/]+)/cryptoKeys/([^/]+)$", target)
        if not match:
            raise RehearsalError(
                f"{urn_name}: cryptoKeyId: expected projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>, "
                f"got {target!r}"
            )
        holder = self.objects.get(target)
        if holder is None and target.rsplit("/cryptoKeys/", 1)[0] in self.objects:
            raise RehearsalError(f"{urn_name}: NOT_FOUND: crypto key {target} does not exist")
        # A key in a ring this rehearsal never made is a bring-your-own key: assumed to exist.
        return self._add_member(urn_name, target, "kms:cryptoKeys", inputs, holder)
