"""GCP as the stand-ins see it: names and enums checked by GCP's rules, ids of GCP's formats.

There is no faithful offline GCP emulator for IAM and Cloud KMS, so this stand-in validates what
the real APIs would refuse (service account ids, project ids, key ring and crypto key names,
locations, the crypto key purpose / algorithm / protection level enums, rotation periods, IAM
role and member syntax, grants on objects that do not exist) and answers with deterministic ids
of the real formats:

- service account: ``projects/<p>/serviceAccounts/<id>@<p>.iam.gserviceaccount.com``, a 21-digit
  ``uniqueId``;
- key ring: ``projects/<p>/locations/<l>/keyRings/<r>``; crypto key: ``<key ring>/cryptoKeys/<k>``;
- IAM members: ``<resource>/<role>/<member>``.

It also keeps GCP's permanence rules: key rings and crypto keys can never be deleted, so their
names can never be used again in the same project and location (a second ``create`` is refused
with ALREADY_EXISTS), and destroying a crypto key destroys its versions only.

State lives in one JSON file (the GCP stand-in provider's store, or ``gcp-world.json`` in the
mini-engine rehearsal's state directory); :meth:`GcpStore.load` and :meth:`GcpStore.save` read and
write it whole.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmek_component.gcp.rules import (
    kms_name_problem,
    location_problem,
    project_problem,
    rotation_period_problem,
    service_account_email,
    service_account_id_problem,
)

from ..calls import ApiCall
from ..errors import RehearsalError
from .applied import Applied

ACCOUNT = "gcp:serviceaccount/account:Account"
ACCOUNT_IAM_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
KEY_RING = "gcp:kms/keyRing:KeyRing"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
CRYPTO_KEY_IAM_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
CLIENT_CONFIG = "gcp:organizations/getClientConfig:getClientConfig"
GET_PROJECT = "gcp:organizations/getProject:getProject"

RESOURCE_TYPES = (ACCOUNT, ACCOUNT_IAM_MEMBER, KEY_RING, CRYPTO_KEY, CRYPTO_KEY_IAM_MEMBER)
INVOKES = (CLIENT_CONFIG, GET_PROJECT)

REPLACE_ON: dict[str, tuple[str, ...]] = {
    ACCOUNT: ("accountId", "project"),
    ACCOUNT_IAM_MEMBER: ("serviceAccountId", "role", "member", "condition"),
    KEY_RING: ("name", "location", "project"),
    CRYPTO_KEY: ("name", "keyRing", "purpose", "skipInitialVersionCreation", "importOnly", "cryptoKeyBackend",
                 "destroyScheduledDuration"),
    CRYPTO_KEY_IAM_MEMBER: ("cryptoKeyId", "role", "member", "condition"),
}
"""Inputs whose change makes the real provider replace the resource (ForceNew in its schema)."""

PURPOSES = ("ENCRYPT_DECRYPT", "ASYMMETRIC_SIGN", "ASYMMETRIC_DECRYPT", "RAW_ENCRYPT_DECRYPT", "MAC",
            "KEY_ENCAPSULATION")
PROTECTION_LEVELS = ("SOFTWARE", "HSM", "EXTERNAL", "EXTERNAL_VPC")
SYMMETRIC_ALGORITHMS = {
    "SOFTWARE": "GOOGLE_SYMMETRIC_ENCRYPTION",
    "HSM": "GOOGLE_SYMMETRIC_ENCRYPTION",
    "EXTERNAL": "EXTERNAL_SYMMETRIC_ENCRYPTION",
    "EXTERNAL_VPC": "EXTERNAL_SYMMETRIC_ENCRYPTION",
}
DELETION_POLICIES = ("DELETE", "PREVENT", "ABANDON")
ROLE_RE = re.compile(r"^(?:roles/[A-Za-z0-9_.]+|(?:projects|organizations)/[A-Za-z0-9_.:-]+/roles/[A-Za-z0-9_.]+)$")
MEMBER_RE = re.compile(
    r"^(?:(?:serviceAccount|user|group):[^@\s]+@[^@\s]+\.[a-z]+|domain:[a-z0-9.-]+\.[a-z]+|"
    r"principal(?:Set)?://\S+|allUsers|allAuthenticatedUsers|projectOwner:\S+|projectEditor:\S+|projectViewer:\S+)$"
)
ACCOUNT_NAME_RE = re.compile(r"^projects/(?P<project>[^/]+)/serviceAccounts/(?P<email>[^/]+)$")
DURATION_RE = re.compile(r"^(?P<seconds>\d+)(?:\.\d{1,9})?s$")


def _problem_text(problem: Any) -> str:
    return f"{problem.field}: {problem.message}"


def _digits(text: str, length: int) -> str:
    number = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return ("1" + str(number))[:length]


def _etag(text: str) -> str:
    return "BwY" + base64.b64encode(hashlib.sha256(text.encode()).digest()[:6]).decode()


@dataclass
class GcpStore:
    """The GCP stand-in: validation, deterministic ids, and GCP's never-delete rules."""

    path: Path
    default_project: str | None = None
    default_region: str | None = None
    read_only: bool = False
    calls: list[ApiCall] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Resource name -> what GCP holds (kind, fields, IAM bindings)."""
    names_used: list[str] = field(default_factory=list)
    """Key ring and crypto key names ever created: never reusable."""

    def load(self) -> None:
        if self.path.exists():
            data = json.loads(self.path.read_text())
            self.objects = dict(data.get("objects") or {})
            self.names_used = list(data.get("names_used") or [])

    def save(self) -> None:
        if self.read_only:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".gcp-", dir=self.path.parent)
        with os.fdopen(handle, "w") as stream:
            json.dump({"objects": self.objects, "names_used": self.names_used}, stream, indent=2, sort_keys=True)
        os.replace(temp, self.path)

    def _call(self, operation: str, target: str, mutating: bool = True, body: Any = None) -> None:
        if mutating and self.read_only:
            raise RehearsalError(f"preview attempted a mutating GCP call: {operation} {target}")
        self.calls.append(ApiCall("gcp", operation, target, mutating, body=body, at=time.time()))

    # ------------------------------------------------------------------ invokes

    def invoke(self, token: str, args: Mapping[str, Any]) -> dict[str, Any]:
        if token == CLIENT_CONFIG:
            project = self.default_project or ""
            return {"id": project, "project": project, "region": self.default_region or "", "zone": "",
                    "accessToken": "rehearsal-not-a-token"}
        if token == GET_PROJECT:
            project = str(args.get("projectId") or self.default_project or "")
            problem = project_problem("projectId", project)
            if problem:
                raise RehearsalError(f"gcp.organizations.getProject: {_problem_text(problem)}")
            return {"id": f"projects/{project}", "projectId": project, "name": project,
                    "number": _digits(project, 12), "labels": {}}
        raise RehearsalError(f"the rehearsal has no GCP stand-in for the invoke {token}")

    # ------------------------------------------------------------------ resources

    def _project(self, inputs: Mapping[str, Any], where: str) -> str:
        project = inputs.get("project") or self.default_project
        if not project:
            raise RehearsalError(f"{where}: project: required (set it or `gcp:project` in the stack config)")
        problem = project_problem(f"{where}: project", project)
        if problem:
            raise RehearsalError(_problem_text(problem))
        return str(project)

    def create(self, typ: str, urn_name: str, inputs: dict[str, Any]) -> Applied:
        handler = {ACCOUNT: self._create_account, ACCOUNT_IAM_MEMBER: self._add_account_member,
                   KEY_RING: self._create_key_ring, CRYPTO_KEY: self._create_crypto_key,
                   CRYPTO_KEY_IAM_MEMBER: self._add_key_member}[typ]
        return handler(urn_name, inputs)

    def update(self, typ: str, id_: str, old_inputs: dict[str, Any], inputs: dict[str, Any],
               changed: list[str]) -> Applied:
        where = id_
        if typ == ACCOUNT:
            return self._update_account(id_, inputs, changed)
        if typ == CRYPTO_KEY:
            crypto_key = self.objects[id_]
            if "rotationPeriod" in changed:
                self._check_rotation(where, inputs)
            self._check_version_template(where, inputs)
            for name in ("rotationPeriod", "labels", "versionTemplate"):
                if name in changed:
                    crypto_key[name] = inputs.get(name)
            self._call("kms:cryptoKeys.patch", id_, body={k: inputs.get(k) for k in changed if k != "deletionPolicy"})
            return Applied(id_, self._crypto_key_outputs(inputs, crypto_key, id_))
        # Everything else is immutable: the plan replaces instead.
        return Applied(id_, dict(inputs))

    def read(self, typ: str, id_: str, inputs: Mapping[str, Any]) -> Applied | None:
        """``pulumi refresh``: the resource as the store holds it, or ``None`` when it is gone (an
        IAM member whose binding was removed; a service account that was deleted)."""
        if typ == ACCOUNT:
            account = self.objects.get(id_)
            self._call("iam:serviceAccounts.get", id_, mutating=False)
            return Applied(id_, {**self._account_outputs(inputs, account), "disabled": bool(account.get("disabled"))}) \
                if account else None
        if typ == KEY_RING:
            self._call("kms:keyRings.get", id_, mutating=False)
            return Applied(id_, dict(inputs)) if id_ in self.objects else None
        if typ == CRYPTO_KEY:
            self._call("kms:cryptoKeys.get", id_, mutating=False)
            key = self.objects.get(id_)
            return Applied(id_, self._crypto_key_outputs(inputs, key, id_)) if key else None
        if typ in (ACCOUNT_IAM_MEMBER, CRYPTO_KEY_IAM_MEMBER):
            target = str(inputs.get("serviceAccountId") or inputs.get("cryptoKeyId") or "")
            service = "iam:serviceAccounts" if typ == ACCOUNT_IAM_MEMBER else "kms:cryptoKeys"
            self._call(f"{service}.getIamPolicy", target, mutating=False)
            holder = self.objects.get(target)
            if holder is None:  # a bring-your-own key: the store cannot know its bindings
                return Applied(id_, {**inputs, "etag": _etag(id_)})
            members = (holder.get("bindings") or {}).get(str(inputs.get("role")), [])
            return Applied(id_, {**inputs, "etag": _etag(id_)}) if inputs.get("member") in members else None
        raise RehearsalError(f"the GCP stand-in cannot read resource type {typ}")

    def delete(self, typ: str, id_: str, outputs: Mapping[str, Any]) -> str:
        """Deletes (or, where GCP cannot delete, forgets) a resource; returns what happened."""
        if typ == ACCOUNT:
            self._call("iam:serviceAccounts.delete", id_)
            self.objects.pop(id_, None)
            return "deleted"
        if typ in (ACCOUNT_IAM_MEMBER, CRYPTO_KEY_IAM_MEMBER):
            target = str(outputs.get("serviceAccountId") or outputs.get("cryptoKeyId") or "")
            service = "iam:serviceAccounts" if typ == ACCOUNT_IAM_MEMBER else "kms:cryptoKeys"
            self._call(f"{service}.getIamPolicy", target, mutating=False)
            self._call(f"{service}.setIamPolicy", target, body={"remove": [outputs.get("role"), outputs.get("member")]})
            holder = self.objects.get(target)
            if holder is not None:
                members = holder.setdefault("bindings", {}).get(str(outputs.get("role")), [])
                if outputs.get("member") in members:
                    members.remove(outputs.get("member"))
            return "deleted"
        if typ == KEY_RING:
            return "removed from state (GCP cannot delete key rings)"
        if typ == CRYPTO_KEY:
            if outputs.get("deletionPolicy") == "ABANDON":
                return "abandoned (deletion_policy ABANDON: left in GCP)"
            if outputs.get("deletionPolicy") == "PREVENT":
                raise RehearsalError(f"{id_}: deletion_policy is PREVENT: the crypto key cannot be destroyed")
            key = self.objects.get(id_, {})
            for version in key.get("versions", []):
                self._call("kms:cryptoKeyVersions.destroy", f"{id_}/cryptoKeyVersions/{version['id']}")
                version["state"] = "DESTROY_SCHEDULED"
            if key:
                key["rotationPeriod"] = None
                self._call("kms:cryptoKeys.patch", id_, body={"rotationPeriod": None})
            return "versions destroyed (GCP cannot delete crypto keys; the name stays taken)"
        return "deleted"

    # --- service accounts

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
            raise RehearsalError(_problem_text(problem))
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
                   "uniqueId": _digits(email, 21), "displayName": display,
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
        return Applied(id_, {**inputs, "etag": _etag(id_)})

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

    # --- key rings and crypto keys

    def _create_key_ring(self, urn_name: str, inputs: dict[str, Any]) -> Applied:
        project = self._project(inputs, urn_name)
        for problem in (
            kms_name_problem(f"{urn_name}: name", inputs.get("name")),
            location_problem(f"{urn_name}: location", inputs.get("location")),
        ):
            if problem:
                raise RehearsalError(_problem_text(problem))
        name = f"projects/{project}/locations/{inputs['location']}/keyRings/{inputs['name']}"
        if name in self.names_used:
            raise RehearsalError(
                f"{urn_name}: ALREADY_EXISTS: key ring {name} already exists (key rings can never be deleted, "
                "so their names can never be reused)"
            )
        self._call("kms:keyRings.create", name)
        self.names_used.append(name)
        self.objects[name] = {"kind": "keyRing", "project": project, "location": inputs["location"]}
        return Applied(name, {**inputs, "project": project})

    def _check_rotation(self, where: str, inputs: Mapping[str, Any]) -> None:
        period = inputs.get("rotationPeriod")
        if period is None:
            return
        if (inputs.get("purpose") or "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
            raise RehearsalError(f"{where}: rotationPeriod: only ENCRYPT_DECRYPT keys rotate automatically, got {period!r}")
        problem = rotation_period_problem(f"{where}: rotationPeriod", period)
        if problem:
            raise RehearsalError(_problem_text(problem))

    def _check_version_template(self, where: str, inputs: Mapping[str, Any]) -> None:
        template = inputs.get("versionTemplate") or {}
        level = template.get("protectionLevel") or "SOFTWARE"
        if level not in PROTECTION_LEVELS:
            raise RehearsalError(
                f"{where}: versionTemplate.protectionLevel: expected one of {', '.join(PROTECTION_LEVELS)}, got {level!r}"
            )
        algorithm = template.get("algorithm")
        purpose = inputs.get("purpose") or "ENCRYPT_DECRYPT"
        if purpose == "ENCRYPT_DECRYPT" and algorithm is not None and algorithm != SYMMETRIC_ALGORITHMS[level]:
            raise RehearsalError(
                f"{where}: versionTemplate.algorithm: expected {SYMMETRIC_ALGORITHMS[level]} for an "
                f"ENCRYPT_DECRYPT key at protection level {level}, got {algorithm!r}"
            )

    def _crypto_key_outputs(self, inputs: Mapping[str, Any], key: Mapping[str, Any], name: str) -> dict[str, Any]:
        versions = key.get("versions") or []
        primary = versions[-1] if versions else None
        return {
            **inputs,
            "purpose": inputs.get("purpose") or "ENCRYPT_DECRYPT",
            "deletionPolicy": inputs.get("deletionPolicy") or "DELETE",
            "destroyScheduledDuration": inputs.get("destroyScheduledDuration") or "2592000s",
            "primaries": [{"name": f"{name}/cryptoKeyVersions/{primary['id']}", "state": primary["state"]}]
            if primary else [],
            "effectiveLabels": dict(inputs.get("labels") or {}),
        }

    def _create_crypto_key(self, urn_name: str, inputs: dict[str, Any]) -> Applied:
        ring = str(inputs.get("keyRing") or "")
        problem = kms_name_problem(f"{urn_name}: name", inputs.get("name"))
        if problem:
            raise RehearsalError(_problem_text(problem))
        purpose = inputs.get("purpose") or "ENCRYPT_DECRYPT"
        if purpose not in PURPOSES:
            raise RehearsalError(f"{urn_name}: purpose: expected one of {', '.join(PURPOSES)}, got {purpose!r}")
        self._check_rotation(urn_name, inputs)
        self._check_version_template(urn_name, inputs)
        policy = inputs.get("deletionPolicy") or "DELETE"
        if policy not in DELETION_POLICIES:
            raise RehearsalError(f"{urn_name}: deletionPolicy: expected one of {', '.join(DELETION_POLICIES)}, got {policy!r}")
        duration = inputs.get("destroyScheduledDuration")
        if duration is not None:
            match = DURATION_RE.match(str(duration))
            if not match or int(match.group("seconds")) < 86_400:
                raise RehearsalError(
                    f"{urn_name}: destroyScheduledDuration: expected at least '86400s' (one day), got {duration!r}"
                )
        if ring not in self.objects or self.objects[ring].get("kind") != "keyRing":
            raise RehearsalError(f"{urn_name}: keyRing: NOT_FOUND: key ring {ring!r} does not exist")
        name = f"{ring}/cryptoKeys/{inputs['name']}"
        if name in self.names_used:
            raise RehearsalError(
                f"{urn_name}: ALREADY_EXISTS: crypto key {name} already exists (crypto keys can never be "
                "deleted, so their names can never be reused)"
            )
        self._call("kms:cryptoKeys.create", name, body={"purpose": purpose, "versionTemplate": inputs.get("versionTemplate"),
                                                          "rotationPeriod": inputs.get("rotationPeriod")})
        self.names_used.append(name)
        versions = [] if inputs.get("skipInitialVersionCreation") else [{"id": 1, "state": "ENABLED"}]
        key: dict[str, Any] = {"kind": "cryptoKey", "rotationPeriod": inputs.get("rotationPeriod"), "labels": inputs.get("labels"),
               "versionTemplate": inputs.get("versionTemplate"), "versions": versions, "bindings": {}}
        self.objects[name] = key
        return Applied(name, self._crypto_key_outputs(inputs, key, name))

    def bindings(self, name: str) -> dict[str, list[str]]:
        """IAM bindings (role -> members) the stand-in holds on a service account or crypto key."""
        return {k: list(v) for k, v in (self.objects.get(name, {}).get("bindings") or {}).items()}
