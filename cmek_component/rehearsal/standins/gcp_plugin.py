"""The GCP stand-in provider (``pulumi-resource-gcp``): the component's service account, IAM
members, key rings and crypto keys in a small persistent JSON store.

Serves ``gcp:serviceaccount/account:Account``, ``gcp:serviceaccount/iAMMember:IAMMember``,
``gcp:kms/keyRing:KeyRing``, ``gcp:kms/cryptoKey:CryptoKey``,
``gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember`` and the invokes ``organizations/getProject``
and ``organizations/getClientConfig``. The store (:class:`.gcp_store.GcpStore`, file named by
``CMEK_STANDIN_GCP_STORE``) checks names and enums with :mod:`cmek_component.gcp.rules` and keeps
GCP's permanence: a key ring is never deleted, a crypto key is only scheduled for destruction (its
name stays taken), and a retained service account still exists, so creating it again answers
409 as GCP does. The project is the resource's ``project``, else the provider's ``gcp:project``.
"""

from __future__ import annotations

import os
import sys
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

from pulumi.provider.experimental import server

from ..errors import RehearsalError
from . import call_journal
from .applied import Applied
from .gcp_store import (
    ACCOUNT,
    ACCOUNT_IAM_MEMBER,
    CRYPTO_KEY,
    CRYPTO_KEY_IAM_MEMBER,
    INVOKES,
    KEY_RING,
    REPLACE_ON,
    GcpStore,
)
from .provider_base import ResourceKind, StandinProvider

GCP_STORE_ENV = "CMEK_STANDIN_GCP_STORE"

KINDS: dict[str, ResourceKind] = {
    ACCOUNT: ResourceKind(ACCOUNT, REPLACE_ON[ACCOUNT],
                          computed=("email", "name", "member", "uniqueId", "project", "disabled", "id")),
    ACCOUNT_IAM_MEMBER: ResourceKind(ACCOUNT_IAM_MEMBER, REPLACE_ON[ACCOUNT_IAM_MEMBER], computed=("etag", "id")),
    KEY_RING: ResourceKind(KEY_RING, REPLACE_ON[KEY_RING], computed=("project", "id")),
    CRYPTO_KEY: ResourceKind(
        CRYPTO_KEY, REPLACE_ON[CRYPTO_KEY],
        computed=("primaries", "effectiveLabels", "pulumiLabels", "purpose", "deletionPolicy",
                  "destroyScheduledDuration", "versionTemplate", "id"),
    ),
    CRYPTO_KEY_IAM_MEMBER: ResourceKind(CRYPTO_KEY_IAM_MEMBER, REPLACE_ON[CRYPTO_KEY_IAM_MEMBER], computed=("etag", "id")),
}


class GcpStandin(StandinProvider):
    """See the module docstring. One operation at a time: each loads the store, acts, saves it."""

    package = "gcp"
    kinds = KINDS
    invokes = INVOKES

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def _run(self, operation: Any) -> Any:
        path = os.environ.get(GCP_STORE_ENV)
        if not path:
            raise RehearsalError(f"{GCP_STORE_ENV} is not set: the GCP stand-in runs only under the rehearsal's harness")
        with self._lock:
            store = GcpStore(Path(path), default_project=self.config.get("project"),
                             default_region=self.config.get("region"))
            store.load()
            try:
                return operation(store)
            finally:
                if any(call.mutating for call in store.calls):
                    store.save()
                for call in store.calls:
                    call_journal.record("gcp", call.operation, call.target, call.mutating)

    def apply_create(self, kind: ResourceKind, name: str, urn: str, inputs: dict[str, Any]) -> Applied:
        applied: Applied = self._run(lambda store: store.create(kind.token, name, inputs))
        return applied

    def apply_update(self, kind: ResourceKind, id_: str, olds: dict[str, Any], news: dict[str, Any],
                     changed: list[str]) -> Applied:
        applied: Applied = self._run(lambda store: store.update(kind.token, id_, olds, news, changed))
        return applied

    def apply_delete(self, kind: ResourceKind, id_: str, state: dict[str, Any]) -> None:
        self._run(lambda store: store.delete(kind.token, id_, state))

    def apply_read(self, kind: ResourceKind, id_: str, inputs: dict[str, Any], state: dict[str, Any]) -> Applied | None:
        found: Applied | None = self._run(lambda store: store.read(kind.token, id_, inputs))
        return found

    def apply_invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._run(lambda store: store.invoke(token, args))
        return result


def main() -> None:
    server.main(sys.argv, metadata.version("pulumi-gcp"), GcpStandin())


if __name__ == "__main__":
    main()
