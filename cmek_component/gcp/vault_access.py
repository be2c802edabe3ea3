"""Vault key material on GCP: how a key Vault distributed into Cloud KMS is named and opened to
CockroachDB Cloud's cross-tenant service account (Encrypter/Decrypter on the crypto key).

Handed to :func:`cmek_component.vault.resources.declare_vault_keys` by the GCP layer, so the
Vault layer never imports ``pulumi_gcp`` (nor an AWS stack GCP's SDK).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumi_vault as vault

from cmek_component.gcp.rules import ENCRYPTER_DECRYPTER_ROLE
from cmek_component.vault import rules as vault_rules
from cmek_component.vault.plan import VaultKeyPlan, VaultPlan
from cmek_component.vault.resources import UriResolver


def crypto_key_grant_access(name: str, parent: pulumi.Resource, plan: VaultPlan, service_account_email: pulumi.Input[str]) -> UriResolver:
    """The GCP resolver: the distributed key's crypto key name (``<key ring>/cryptoKeys/<kms
    key name>``) and ``<name>-vault-grant-<s>[-g<n>]``, a ``gcp.kms.CryptoKeyIAMMember`` with
    Cloud KMS CryptoKey Encrypter/Decrypter for ``service_account_email``."""
    member = pulumi.Output.concat("serviceAccount:", service_account_email)

    def resolve(
        key: VaultKeyPlan, kms_name: pulumi.Output[str], distribution: vault.keymgmt.DistributeKey
    ) -> tuple[pulumi.Output[str], pulumi.Resource]:
        collection = key.kms.key_collection
        uri = kms_name.apply(lambda found: vault_rules.gcp_key_uri(collection, found))
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-vault-grant-{key.resource_suffix}",
            crypto_key_id=uri,
            role=ENCRYPTER_DECRYPTER_ROLE,
            member=member,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[distribution], retain_on_delete=plan.retain_on_delete),
        )
        return uri, grant

    return resolve
