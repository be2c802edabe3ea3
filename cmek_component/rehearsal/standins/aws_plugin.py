"""The AWS stand-in provider (``pulumi-resource-aws``): the component's IAM and KMS resources on
moto in server mode.

Serves ``aws:iam/role:Role``, ``aws:kms/key:Key``, ``aws:kms/replicaKey:ReplicaKey``,
``aws:kms/alias:Alias``, ``aws:kms/keyPolicy:KeyPolicy`` and the invokes ``getCallerIdentity``,
``getRegion``, ``getPartition`` and ``kms/getAlias``, with the real provider's property names and
outputs (:mod:`.aws_resources`, :mod:`.aws_iam_roles`, :mod:`.aws_kms_resources`); a role without ``name`` is autonamed (``<name>-<7 hex>``).
Where the backend is: ``CMEK_STANDIN_AWS_URL`` (the harness's moto server). The region of a
resource is its ``region`` input, else the provider's ``aws:region``, else ``us-east-1``.
"""

from __future__ import annotations

import os
import sys
import threading
from importlib import metadata
from typing import Any

import boto3
from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from pulumi.provider.experimental import server

from ..calls import is_mutating_aws
from ..errors import RehearsalError
from . import call_journal
from .applied import Applied
from .aws_resources import (
    ALIAS,
    INVOKES,
    KEY,
    KEY_POLICY,
    REPLACE_ON,
    REPLICA_KEY,
    ROLE,
    AwsResources,
)
from .provider_base import ResourceKind, StandinProvider

AWS_URL_ENV = "CMEK_STANDIN_AWS_URL"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "standin", "AWS_SECRET_ACCESS_KEY": "standin"}
ROLE_NAME_LIMIT = 64

KINDS: dict[str, ResourceKind] = {
    ROLE: ResourceKind(
        ROLE, REPLACE_ON[ROLE],
        computed=("arn", "createDate", "uniqueId", "tagsAll", "managedPolicyArns", "inlinePolicies",
                  "maxSessionDuration", "path", "description", "id"),
        autoname=("name", ROLE_NAME_LIMIT), autoname_unless=("namePrefix",),
    ),
    KEY: ResourceKind(
        KEY, REPLACE_ON[KEY],
        computed=("arn", "keyId", "tagsAll", "isEnabled", "rotationPeriodInDays", "description", "keyUsage",
                  "customerMasterKeySpec", "multiRegion", "policy", "region", "id"),
    ),
    REPLICA_KEY: ResourceKind(
        REPLICA_KEY, REPLACE_ON[REPLICA_KEY],
        computed=("arn", "keyId", "keyRotationEnabled", "keySpec", "keyUsage", "enabled", "tagsAll", "description",
                  "policy", "region", "id"),
    ),
    ALIAS: ResourceKind(ALIAS, REPLACE_ON[ALIAS], computed=("arn", "targetKeyArn", "region", "id")),
    KEY_POLICY: ResourceKind(KEY_POLICY, REPLACE_ON[KEY_POLICY], computed=("region", "id")),
}


class MotoAws(AwsResources):
    """``AwsResources`` over HTTP to the moto server; every call recorded in the call journal."""

    def __init__(self, url: str, default_region: str) -> None:
        self.url = url
        self.default_region = default_region
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            if (service, region) not in self._clients:
                self._clients[(service, region)] = boto3.session.Session().client(
                    service, region_name=region, endpoint_url=self.url
                )
            return self._clients[(service, region)]

    def call(self, service: str, region: str, operation: str, target: str = "", **params: Any) -> Any:
        snake = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
        where = target if service in ("iam", "sts") else f"{target} ({region})" if target else region
        call_journal.record("aws", f"{service}:{operation}", where, is_mutating_aws(operation))
        try:
            return getattr(self.client(service, region), snake)(**params)
        except ClientError as error:
            err = error.response.get("Error", {})
            raise RehearsalError(
                f"AWS {service}:{operation} {target or region} failed: {err.get('Code')}: {err.get('Message')}"
            ) from None


class AwsStandin(StandinProvider):
    """See the module docstring."""

    package = "aws"
    kinds = KINDS
    invokes = INVOKES

    def _aws(self) -> MotoAws:
        url = os.environ.get(AWS_URL_ENV)
        if not url:
            raise RehearsalError(f"{AWS_URL_ENV} is not set: the AWS stand-in runs only under the rehearsal's harness")
        return MotoAws(url, self._default_region())

    def _default_region(self) -> str:
        return str(self.config.get("region") or "us-east-1")

    def _region(self, kind: ResourceKind, inputs: dict[str, Any]) -> str:
        return str(inputs.get("region") or self._default_region())

    def _with_region(self, kind: ResourceKind, applied: Applied, region: str) -> Applied:
        if kind.token != ROLE:
            applied.outputs["region"] = region
        return applied

    def apply_create(self, kind: ResourceKind, name: str, urn: str, inputs: dict[str, Any]) -> Applied:
        region = self._region(kind, inputs)
        return self._with_region(kind, self._aws().create(kind.token, name, urn, inputs, region), region)

    def apply_update(self, kind: ResourceKind, id_: str, olds: dict[str, Any], news: dict[str, Any],
                     changed: list[str]) -> Applied:
        region = self._region(kind, news)
        return self._with_region(kind, self._aws().update(kind.token, id_, olds, olds, news, region, changed), region)

    def apply_delete(self, kind: ResourceKind, id_: str, state: dict[str, Any]) -> None:
        self._aws().delete(kind.token, id_, state, self._region(kind, state))

    def apply_invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        return self._aws().invoke(token, args)

    def apply_read(self, kind: ResourceKind, id_: str, inputs: dict[str, Any], state: dict[str, Any]) -> Applied | None:
        region = str(state.get("region") or self._region(kind, inputs))
        found = self._aws().read(kind.token, id_, inputs, region)
        return self._with_region(kind, found, region) if found is not None else None


def main() -> None:
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    os.environ.pop("AWS_PROFILE", None)
    server.main(sys.argv, metadata.version("pulumi-aws"), AwsStandin())


if __name__ == "__main__":
    main()
