"""The seam between the AWS stand-in's resources and the AWS API they are applied with.

:class:`AwsCalls` is what :mod:`.aws_iam_roles`, :mod:`.aws_kms_resources` and
:class:`.aws_resources.AwsResources` build on: ``call`` (one AWS API call in AWS spelling, e.g.
``CreateKey``), the policy checks a subclass may add, the caller's identity, and the names and
ids the real provider derives (autonames from the URN, key ids and regions from ARNs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any


class AwsCalls:
    """One AWS API call at a time through ``call``, which subclasses provide.

    ``call`` raises ``RehearsalError`` with AWS's message on failure. Subclasses may check policies
    before sending them (``check_trust_policy``, ``check_key_policy``: by default the backend
    does, as AWS does).
    """

    default_region: str = "us-east-1"

    def call(self, service: str, region: str, operation: str, target: str = "", **params: Any) -> Any:
        raise NotImplementedError

    def check_trust_policy(self, document: Any, where: str) -> None:
        """Raises ``RehearsalError`` for a trust policy IAM would refuse (default: IAM decides)."""

    def check_key_policy(self, policy: Any, where: str, bypass: bool) -> None:
        """Raises ``RehearsalError`` for a key policy KMS would refuse (default: KMS decides)."""

    def retag(self, service: str, region: str, target: str, resource: Mapping[str, str], old: Mapping[str, Any],
              new: Mapping[str, Any], operations: tuple[str, str],
              tags: Callable[[Mapping[str, str]], list[dict[str, str]]]) -> None:
        """A ``tags`` update: the removed keys untagged, then every new tag set (``operations``:
        the service's untag and tag calls; ``resource``: the parameter naming the resource)."""
        old_tags, new_tags = dict(old.get("tags") or {}), dict(new.get("tags") or {})
        removed = sorted(set(old_tags) - set(new_tags))
        untag, tag = operations
        if removed:
            self.call(service, region, untag, target, **resource, TagKeys=removed)
        if new_tags:
            self.call(service, region, tag, target, **resource, Tags=tags(new_tags))

    def caller(self) -> dict[str, str]:
        identity = self.call("sts", self.default_region, "GetCallerIdentity")
        return {"accountId": identity["Account"], "arn": identity["Arn"], "userId": identity["UserId"]}


def key_id_from(value: str) -> str:
    """``arn:aws:kms:<r>:<a>:key/<id>`` -> ``<id>``; a key id stays as it is."""
    return value.split(":key/", 1)[1] if ":key/" in value else value


def region_from_arn(value: str) -> str | None:
    parts = value.split(":")
    return parts[3] if value.startswith("arn:") and len(parts) > 4 and parts[3] else None


def urn_suffix(urn: str, length: int) -> str:
    return hashlib.sha256(urn.encode()).hexdigest()[:length]


def autoname(name: str, urn: str, limit: int) -> str:
    """Pulumi's auto-name: ``<resource name>-<7 hex>`` (deterministic here, from the URN)."""
    suffix = urn_suffix(urn, 7)
    return f"{name[: limit - len(suffix) - 1]}-{suffix}"

