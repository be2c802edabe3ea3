"""The Vault stand-in provider (``pulumi-resource-vault``): enough for ``pulumi preview`` of a
stack with Vault key material, nothing more.

Serves ``vault:index/mount:Mount``, ``vault:keymgmt/key:Key``, ``vault:keymgmt/awsKms:AwsKms``,
``vault:keymgmt/gcpKms:GcpKms``, ``vault:keymgmt/distributeKey:DistributeKey`` and the invoke
``vault:generic/getSecret:getSecret`` in previews (checks, diffs and planned outputs); there is
no Vault server on these machines, so a create, update, delete or read of the backend is refused
with a message saying so.
"""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

from pulumi.provider.experimental import server

from ..errors import RehearsalError
from .applied import Applied
from .provider_base import ResourceKind, StandinProvider

MOUNT = "vault:index/mount:Mount"
KEY = "vault:keymgmt/key:Key"
AWS_KMS = "vault:keymgmt/awsKms:AwsKms"
GCP_KMS = "vault:keymgmt/gcpKms:GcpKms"
DISTRIBUTE_KEY = "vault:keymgmt/distributeKey:DistributeKey"
GET_SECRET = "vault:generic/getSecret:getSecret"

KINDS: dict[str, ResourceKind] = {
    MOUNT: ResourceKind(MOUNT, ("type", "local", "sealWrap", "namespace"), computed=("accessor", "id")),
    KEY: ResourceKind(KEY, ("mount", "name", "type", "namespace"),
                      computed=("latestVersion", "minEnabledVersion", "id")),
    AWS_KMS: ResourceKind(AWS_KMS, ("mount", "name", "keyCollection", "namespace"), computed=("id",)),
    GCP_KMS: ResourceKind(GCP_KMS, ("mount", "name", "keyCollection", "namespace"), computed=("id",)),
    DISTRIBUTE_KEY: ResourceKind(DISTRIBUTE_KEY, ("mount", "kmsName", "keyName", "protection", "namespace"),
                                 computed=("keyId", "versions", "id")),
}
"""Replace-on-change properties: the ``ForceNew`` attributes of the Vault provider's keymgmt and
mount resources as documented for pulumi-vault 7.x ("changing this forces a new resource")."""

REFUSAL = (
    "the Vault stand-in serves previews only (there is no Vault server on this machine): "
    "run `pulumi preview`, or deploy against a real Vault"
)


class VaultStandin(StandinProvider):
    """See the module docstring."""

    package = "vault"
    kinds = KINDS
    invokes = (GET_SECRET,)

    def apply_create(self, kind: ResourceKind, name: str, urn: str, inputs: dict[str, Any]) -> Applied:
        raise RehearsalError(f"{name}: {REFUSAL}")

    def apply_update(self, kind: ResourceKind, id_: str, olds: dict[str, Any], news: dict[str, Any],
                     changed: list[str]) -> Applied:
        raise RehearsalError(f"{id_}: {REFUSAL}")

    def apply_delete(self, kind: ResourceKind, id_: str, state: dict[str, Any]) -> None:
        raise RehearsalError(f"{id_}: {REFUSAL}")

    def apply_invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        raise RehearsalError(f"{token} {args.get('path')!r}: {REFUSAL}")


def main() -> None:
    server.main(sys.argv, metadata.version("pulumi-vault"), VaultStandin())


if __name__ == "__main__":
    main()
