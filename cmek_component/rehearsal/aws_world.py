"""AWS as the mini-engine rehearsal sees it: IAM, KMS and STS served by moto, in this process.

The resource types and the calls they make are :class:`standins.aws_resources.AwsResources`
(shared with the AWS stand-in provider, which talks to moto in server mode instead); moto's
lenience is corrected by :mod:`standins.moto_fixes` (trust policies validated on ``CreateRole``,
KMS's lockout safety check, ``ReplicateKey``'s policy and description, AWS's ``mrk-`` id format).

moto keeps its state in memory only. Every mutating call is appended to a journal
(``aws-journal.jsonl``) and replayed into a fresh moto at the next start, with moto's random
generator seeded per call, so the same ids come back: a second run finds exactly the keys,
replicas, aliases and roles the first one made.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from moto import mock_aws
from moto.moto_api._internal import mock_random

from .calls import ApiCall, Journal, is_mutating_aws
from .errors import RehearsalError
from .standins.aws_resources import (
    ALIAS,
    CALLER_IDENTITY,
    GET_PARTITION,
    GET_REGION,
    INVOKES,
    KEY,
    KEY_POLICY,
    REPLACE_ON,
    REPLICA_KEY,
    RESOURCE_TYPES,
    ROLE,
    Applied,
    AwsResources,
    key_id_from,
    region_from_arn,
)
from .standins.moto_fixes import (
    fix_replica,
    install_key_id_format,
    key_policy_problem,
    lockout_problem,
    policy_json_problem,
    trust_policy_problem,
)

__all__ = [
    "ALIAS", "CALLER_IDENTITY", "GET_PARTITION", "GET_REGION", "INVOKES", "KEY", "KEY_POLICY", "REPLACE_ON",
    "REPLICA_KEY", "RESOURCE_TYPES", "ROLE", "Applied", "AwsWorld", "key_id_from", "lockout_problem",
    "policy_json_problem", "region_from_arn",
]

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "rehearsal",
    "AWS_SECRET_ACCESS_KEY": "rehearsal",
    "AWS_SESSION_TOKEN": "rehearsal",
}


@dataclass
class AwsWorld(AwsResources):
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
    _restore_moto: Callable[[], None] | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Starts moto and replays the journal into it (the state of every earlier run)."""
        for name, value in FAKE_CREDENTIALS.items():
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        self._restore_moto = install_key_id_format()
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
        if self._restore_moto is not None:
            self._restore_moto()
            self._restore_moto = None
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
        if operation == "ReplicateKey":
            fix_replica(params, response)
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


    def check_trust_policy(self, document: Any, where: str) -> None:
        problem = trust_policy_problem(document)
        if problem:
            raise RehearsalError(f"{where}: assumeRolePolicy: MalformedPolicyDocument: {problem}")

    def check_key_policy(self, policy: Any, where: str, bypass: bool) -> None:
        if policy_json_problem(policy) is None and not bypass:
            caller = self.caller()
            problem = key_policy_problem(policy, bypass, caller["arn"], caller["accountId"])
        else:
            problem = policy_json_problem(policy)
        if problem:
            raise RehearsalError(f"{where}: policy: MalformedPolicyDocumentException: {problem}")

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

