"""What the stand-ins' backends hold for the resources of a stack: the policies a user checks.

Given the resources of ``pulumi stack export``, ``stored_policies`` reads from moto the trust
policy of every role and the key policy of every key and replica, and from the GCP store the IAM
bindings of every service account and crypto key, as the backends store them (not as the program
declared them). Keys with the same document are listed together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .standins.harness import StandinBackends

ROLE = "aws:iam/role:Role"
KEYS = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")
GCP_BOUND = ("gcp:serviceaccount/account:Account", "gcp:kms/cryptoKey:CryptoKey")


@dataclass(frozen=True)
class StoredPolicy:
    """One document and every subject (role, key, account) that has it."""

    title: str
    subjects: tuple[str, ...]
    document: Any


def _plain(value: Any) -> Any:
    """An exported value with Pulumi's secret wrapper removed (policies are not secrets)."""
    if isinstance(value, Mapping) and "plaintext" in value:
        try:
            return json.loads(str(value["plaintext"]))
        except json.JSONDecodeError:
            return value["plaintext"]
    return value


def _document(resource: Mapping[str, Any], backends: StandinBackends) -> tuple[str, str, Any] | None:
    """(kind, subject, document) for one exported resource, or None for other types."""
    outputs = {k: _plain(v) for k, v in (resource.get("outputs") or {}).items()}
    kind = resource.get("type")
    if kind == ROLE:
        name = str(outputs.get("name") or resource.get("id"))
        role = backends.aws("iam", "us-east-1").get_role(RoleName=name)["Role"]
        return "Trust policy of role", str(outputs.get("arn") or name), role["AssumeRolePolicyDocument"]
    if kind in KEYS:
        arn = str(outputs.get("arn") or "")
        parts = arn.split(":")
        if len(parts) < 6:
            return None
        policy = backends.aws("kms", parts[3]).get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
        return "Key policy of", arn, json.loads(policy)
    if kind in GCP_BOUND:
        name = str(outputs.get("name") or resource.get("id"))
        return "IAM bindings on", name, backends.gcp().bindings(name)
    return None


def stored_policies(resources: Iterable[Mapping[str, Any]], backends: StandinBackends) -> list[StoredPolicy]:
    """The policies of ``resources`` as moto and the GCP store hold them, grouped by document."""
    groups: dict[tuple[str, str], list[str]] = {}
    documents: dict[tuple[str, str], Any] = {}
    for resource in resources:
        found = _document(resource, backends)
        if found is None:
            continue
        kind, subject, document = found
        key = (kind, json.dumps(document, sort_keys=True))
        groups.setdefault(key, []).append(subject)
        documents[key] = document
    shown = []
    for (kind, text), subjects in groups.items():
        where = "" if kind.startswith("IAM") else " (as stored in moto)"
        shown.append(StoredPolicy(f"{kind} {', '.join(subjects)}{where}", tuple(subjects), documents[(kind, text)]))
    return shown
