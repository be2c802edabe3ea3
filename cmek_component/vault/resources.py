"""Key material from HashiCorp Vault's Key Management secrets engine (``keymgmt``, Vault
Enterprise), for AWS KMS and GCP Cloud KMS: the seed's second way to create the key.

Imported only by stacks that set ``ClusterCmekArgs["vault"]``; it imports neither cloud's SDK:
the key's URI and its access (AWS key policy, GCP grant) come from the cloud's own layer
(``cmek_component.aws.vault_access``, ``cmek_component.gcp.vault_access``).

What is declared (``<name>`` is the component's name, every child has ``parent``; ``<s>`` is the
AWS region or GCP location of a key collection, ``[-g<n>]`` marks key generation ``n > 1``), in
the seed's order, each step depending on the one before:

1. ``<name>-vault-mount``: ``vault.Mount`` of type ``keymgmt`` (``vault secrets enable keymgmt``);
   skipped with ``vault.manage_mount = False``;
2. ``<name>-vault-kms-<s>``: ``vault.keymgmt.AwsKms`` (``key_collection`` = region) or
   ``vault.keymgmt.GcpKms`` (``key_collection`` = key ring), named ``<kms_name>-<s>``; credentials
   from secret stack config into the write-only ``credentials_wo``;
3. ``<name>-vault-key-<s>[-g<n>]``: ``vault.keymgmt.Key`` of type ``aes256-gcm96``;
4. ``<name>-vault-distribution-<s>[-g<n>]``: ``vault.keymgmt.DistributeKey`` with purposes
   ``encrypt``, ``decrypt`` and ``vault.protection`` (``hsm`` by default, as in the seed);
5. reading the distribution back (``vault.generic.get_secret`` on
   ``<mount>/kms/<entry>/key/<key>``, the ``vault read`` of the same path) for the key's name in
   the KMS, which no resource output carries; then the key ARN (AWS: ``aws.kms.get_alias`` of
   ``alias/hashicorp/<kms key name>``) or URI (GCP: ``<key ring>/cryptoKeys/<kms key name>``);
6. ``<name>-vault-key-policy-<s>[-g<n>]``: ``aws.kms.KeyPolicy`` with the ``crdb-cmek-kms`` policy
   and its administration statement (:mod:`cmek_component.aws.policies`), or
   ``<name>-vault-grant-<s>[-g<n>]``: ``gcp.kms.CryptoKeyIAMMember`` with Cloud KMS CryptoKey
   Encrypter/Decrypter for the cross-tenant service account.

Vault's address, token and namespace are never inputs of a resource: the Vault provider reads
``VAULT_ADDR`` / ``VAULT_TOKEN`` / ``VAULT_NAMESPACE`` or ``vault:address`` / ``vault:token`` /
``vault:namespace`` itself. A ``vault:token`` set without ``--secret`` is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_vault as vault

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.component.cloud_keys import ClusterFacts
from cmek_component.manifest.problems import SpecError, SpecProblems
from cmek_component.vault import rules as vault_rules
from cmek_component.vault.plan import KmsEntryPlan, VaultKeyPlan, VaultPlan, plan_vault_keys


@dataclass
class VaultKeys:
    """What :func:`declare_vault_keys` hands back to ``aws/resources.py`` / ``gcp/resources.py``."""

    key_uris: dict[str, pulumi.Output[str]]
    """Cluster region -> distributed key ARN (AWS) or crypto key name without version (GCP)."""
    dependencies: list[pulumi.Resource] = field(default_factory=list)
    """The key policies (AWS) or grants (GCP); each depends on its distribution."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """``vault_mount_path``, ``vault_kms_names`` (region -> entry), ``vault_key_names``
    (region -> Vault key), ``vault_kms_key_names`` (region -> the key's name in the KMS)."""


def check_vault_config(get: Callable[[str], Any] | None = None, is_secret: Callable[[str], bool] | None = None) -> None:
    """Refuses secrets set in plain-text stack config: ``vault:token`` and the KMS credentials."""
    get = get or pulumi.runtime.get_config
    is_secret = is_secret or pulumi.runtime.is_config_secret
    keys = [vault_rules.VAULT_TOKEN_CONFIG]
    for names in vault_rules.CREDENTIAL_CONFIG_KEYS.values():
        keys.extend(vault_rules.config_key(name) for name in names.values())
    problems = vault_rules.plaintext_secret_problems({key: is_secret(key) for key in keys if get(key) is not None})
    if problems:
        raise SpecProblems(problems)


def kms_credentials(plan: VaultPlan) -> pulumi.Output[dict[str, str]] | None:
    """The KMS credentials for Vault as one secret, or ``None`` with ``credentials: vault-server``."""
    if plan.credentials != "config":
        return None
    config = pulumi.Config(vault_rules.CONFIG_NAMESPACE)
    values: dict[str, pulumi.Output[str]] = {}
    for vault_field, key in vault_rules.CREDENTIAL_CONFIG_KEYS[plan.cloud].items():
        value = config.get_secret(key)
        if value is None:
            full = vault_rules.config_key(key)
            raise SpecError(
                full,
                "required when vault.credentials is 'config' (the default): run "
                f"`pulumi config set --secret {full} <value>`, or set vault.credentials to 'vault-server' "
                "to let Vault use its own environment",
                None,
            )
        values[vault_field] = value
    return pulumi.Output.secret(pulumi.Output.all(**values))


def declare_vault_keys(
    name: str,
    parent: pulumi.Resource,
    facts: ClusterFacts,
    args: ClusterCmekArgs,
    access: KeyAccess,
) -> VaultKeys:
    """Declares the Vault steps for every cluster region and returns the key URIs.

    ``access``: how each distributed key is found in the cloud's KMS and opened to CockroachDB
    Cloud's principal (AWS: :func:`cmek_component.aws.vault_access.key_policy_access`, the
    ``crdb-cmek-kms`` key policy for the role; GCP:
    :func:`cmek_component.gcp.vault_access.crypto_key_grant_access`, the Encrypter/Decrypter
    grant for the service account). Every option is validated before any resource is declared.
    """
    plan = plan_vault_keys(facts.cloud, list(facts.regions), args)
    check_vault_config()
    credentials = kms_credentials(plan)
    kept = pulumi.ResourceOptions(parent=parent, retain_on_delete=plan.retain_on_delete, protect=plan.protect)

    mount_path: pulumi.Output[str]
    if plan.manage_mount:
        mount = vault.Mount(
            f"{name}-vault-mount",
            path=plan.mount_path,
            type=vault_rules.MOUNT_TYPE,
            description=f"CockroachDB Cloud CMEK keys of cluster {facts.cluster_id}",
            namespace=plan.namespace,
            opts=kept,
        )
        mount_path = mount.path
    else:
        mount_path = pulumi.Output.from_input(plan.mount_path)

    entries: dict[str, vault.keymgmt.AwsKms | vault.keymgmt.GcpKms] = {}
    for entry in plan.kms_entries:
        entries[entry.name] = _kms_entry(name, plan, entry, mount_path, credentials, kept)

    resolve_uri = access(plan)
    key_uris_by_key: dict[str, pulumi.Output[str]] = {}
    kms_key_names: dict[str, pulumi.Output[str]] = {}
    grants: list[pulumi.Resource] = []
    for key in plan.keys:
        vault_key = vault.keymgmt.Key(
            f"{name}-vault-key-{key.resource_suffix}",
            mount=mount_path,
            name=key.name,
            type=vault_rules.VAULT_KEY_TYPE,
            deletion_allowed=plan.deletion_allowed,
            namespace=plan.namespace,
            opts=kept,
        )
        kms_entry = entries[key.kms.name]
        distribution = vault.keymgmt.DistributeKey(
            f"{name}-vault-distribution-{key.resource_suffix}",
            mount=mount_path,
            kms_name=kms_entry.name,
            key_name=vault_key.name,
            purposes=list(vault_rules.KEY_PURPOSES),
            protection=plan.protection,
            namespace=plan.namespace,
            opts=pulumi.ResourceOptions.merge(kept, pulumi.ResourceOptions(depends_on=[vault_key, kms_entry])),
        )
        kms_name = _read_kms_key_name(parent, plan, key, distribution)
        kms_key_names[key.name] = kms_name
        uri, grant = resolve_uri(key, kms_name, distribution)
        key_uris_by_key[key.name] = uri
        grants.append(grant)

    key_uris = {region: key_uris_by_key[key.name] for region, key in sorted(plan.region_keys.items())}
    outputs: dict[str, Any] = {
        "vault_mount_path": mount_path,
        "vault_kms_names": {region: key.kms.name for region, key in sorted(plan.region_keys.items())},
        "vault_key_names": {region: key.name for region, key in sorted(plan.region_keys.items())},
        "vault_kms_key_names": {region: kms_key_names[key.name] for region, key in sorted(plan.region_keys.items())},
    }
    return VaultKeys(key_uris=key_uris, dependencies=grants, outputs=outputs)


def _kms_entry(
    name: str,
    plan: VaultPlan,
    entry: KmsEntryPlan,
    mount_path: pulumi.Output[str],
    credentials: pulumi.Output[dict[str, str]] | None,
    kept: pulumi.ResourceOptions,
) -> vault.keymgmt.AwsKms | vault.keymgmt.GcpKms:
    entry_class = vault.keymgmt.AwsKms if plan.cloud == "AWS" else vault.keymgmt.GcpKms
    return entry_class(
        f"{name}-vault-kms-{entry.suffix}",
        mount=mount_path,
        name=entry.name,
        key_collection=entry.key_collection,
        credentials_wo=credentials,
        credentials_wo_version=plan.credentials_version if credentials is not None else None,
        namespace=plan.namespace,
        opts=kept,
    )


def _read_kms_key_name(
    parent: pulumi.Resource, plan: VaultPlan, key: VaultKeyPlan, distribution: vault.keymgmt.DistributeKey
) -> pulumi.Output[str]:
    """``vault read <mount>/kms/<entry>/key/<key>`` through the provider, after the distribution:
    the key's name in the KMS (``<key>-<unix timestamp>``). Not a secret, so unwrapped."""
    path = pulumi.Output.concat(distribution.mount, "/kms/", distribution.kms_name, "/key/", distribution.key_name)
    read = vault.generic.get_secret_output(
        path=path,
        namespace=plan.namespace,
        opts=pulumi.InvokeOutputOptions(parent=parent, depends_on=[distribution]),
    )
    read_path = key.read_path(plan.mount_path)
    return pulumi.Output.unsecret(read.data_json.apply(lambda text: vault_rules.kms_key_name(text, read_path)))


UriResolver = Callable[[VaultKeyPlan, pulumi.Output[str], vault.keymgmt.DistributeKey], tuple[pulumi.Output[str], pulumi.Resource]]
"""(the key's plan, its name in the KMS, its distribution) -> (the key URI, the resource that
gives CockroachDB Cloud's principal access to the key)."""

KeyAccess = Callable[[VaultPlan], UriResolver]
"""What the cloud's layer hands in: given the plan, the resolver of each distributed key
(``cmek_component.aws.vault_access`` or ``cmek_component.gcp.vault_access``), so this module
imports neither cloud's SDK."""
