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
write it whole (:mod:`.gcp_records`). This module holds the type tokens and the dispatch; the
service accounts and IAM members are :mod:`.gcp_accounts`', key rings and crypto keys :mod:`.gcp_kms`'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmek_component.gcp.rules import project_problem

from ..errors import RehearsalError
from .applied import Applied
from .gcp_accounts import GcpAccounts
from .gcp_kms import GcpKms
from .gcp_records import digits, etag, problem_text

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


class GcpStore(GcpAccounts, GcpKms):
    """The GCP stand-in: validation, deterministic ids, and GCP's never-delete rules."""

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
                raise RehearsalError(f"gcp.organizations.getProject: {problem_text(problem)}")
            return {"id": f"projects/{project}", "projectId": project, "name": project,
                    "number": digits(project, 12), "labels": {}}
        raise RehearsalError(f"the rehearsal has no GCP stand-in for the invoke {token}")

    # ------------------------------------------------------------------ resources

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
                return Applied(id_, {**inputs, "etag": etag(id_)})
            members = (holder.get("bindings") or {}).get(str(inputs.get("role")), [])
            return Applied(id_, {**inputs, "etag": etag(id_)}) if inputs.get("member") in members else None
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
