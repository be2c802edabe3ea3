"""The GCP children of ``ClusterCmek``: the cross-tenant service account, key rings, crypto keys
and their grants. Imported by the component only for GCP clusters (AWS stacks never load
``pulumi_gcp``).

What is declared (``<name>`` is the component's name; every child has ``parent``):

- ``<name>-service-account``: ``gcp.serviceaccount.Account`` in the customer's project;
- ``<name>-token-creator``: ``gcp.serviceaccount.IAMMember`` granting
  ``roles/iam.serviceAccountTokenCreator`` on that account to CockroachDB Cloud's
  ``crl-kms-user-<last 12 of cluster id>@<account_id>.iam.gserviceaccount.com``;
- ``<name>-key-ring-<location>``: one ``gcp.kms.KeyRing`` per key location;
- ``<name>-crypto-key-<region>[-g<n>]``: ``gcp.kms.CryptoKey`` (ENCRYPT_DECRYPT,
  ``GOOGLE_SYMMETRIC_ENCRYPTION``, SOFTWARE or HSM, optional rotation period), one per cluster
  region and generation;
- ``<name>-crypto-key-<region>[-g<n>]-encrypter-decrypter`` (and
  ``<name>-byo-key-<region>-encrypter-decrypter``): ``gcp.kms.CryptoKeyIAMMember`` with
  ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on each key (key level, never project level)
  for the service account.

With ``vault`` (key material from HashiCorp Vault's ``keymgmt`` engine) there is no key ring or
crypto key here: :func:`cmek_component.vault.resources.declare_vault_keys` distributes the keys into existing
key rings and grants the service account on them (``<name>-vault-grant-<location>[-g<n>]``).

The service account, its Token Creator binding, key rings, crypto keys and the key grants are
``retain_on_delete=True`` by default: GCP cannot
delete key rings or crypto keys (destroying a CryptoKey through the provider destroys all its key
versions, which makes data encrypted with it unreadable, and the name can never be used again),
and CockroachDB Cloud needs every key it ever used. Crypto keys also get
``deletion_policy="ABANDON"`` while retained, so even a delete that reaches the provider only
forgets the key. ``protection_level`` changes are ignored on existing keys (GCP cannot change
them; a new ``key_generation`` creates keys with the new level).

Key URIs and the service account email are computed from names (``gcp/rules.py``, in the plan
from ``gcp/plan.py``) rather than read from ``CryptoKey.id`` / ``Account.email``: they are the
same strings by GCP's naming, they are known during ``pulumi preview`` (so a PR preview shows
exactly which key each region rotates to), and they are the very strings the grants are made on.
The grants take their targets from the parent resource's id output (``key.id.apply(...)``), so
each grant still waits for its key.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_gcp as gcp

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.component.cloud_keys import ClusterFacts, DeclaredKeys
from cmek_component.gcp.plan import GcpPlan, plan_gcp_keys
from cmek_component.gcp.rules import (
    ENCRYPTER_DECRYPTER_ROLE,
    KEY_ALGORITHM,
    KEY_PURPOSE,
    TOKEN_CREATOR_ROLE,
)
from cmek_component.manifest.identifiers import GCP_CLOUD_KMS
from cmek_component.manifest.problems import SpecError


def _same_as(resource_id: pulumi.Output[str], value: str) -> pulumi.Output[str]:
    """``value`` once ``resource_id`` is known: a known name that still waits for its resource."""
    return resource_id.apply(lambda _id: value)


def plan_gcp(facts: ClusterFacts, args: ClusterCmekArgs) -> GcpPlan:
    """Validates every GCP argument and returns what ``declare_plan`` will declare.

    Raises ``SpecProblems`` listing each field, rule and value; call it before registering the
    component so that a wrong argument declares nothing. The project is ``gcp.project``, else the
    ``gcp:project`` stack config.
    """
    if facts.cloud != "GCP":
        raise SpecError("cloud", "expected 'GCP' for the GCP keys", facts.cloud)
    return plan_gcp_keys(
        facts.cluster_id,
        facts.regions,
        facts.account_id,
        args,
        default_project=pulumi.Config("gcp").get("project"),
    )


def declare_gcp(name: str, parent: pulumi.Resource, facts: ClusterFacts, args: ClusterCmekArgs) -> DeclaredKeys:
    """Declares the service account, key rings, crypto keys and grants for a GCP cluster.

    Every argument is validated first (:func:`plan_gcp`); no resource is declared when one is wrong.
    """
    return declare_plan(name, parent, plan_gcp(facts, args), facts, args)


def declare_plan(
    name: str, parent: pulumi.Resource, plan: GcpPlan, facts: ClusterFacts, args: ClusterCmekArgs
) -> DeclaredKeys:
    """Declares ``plan`` (from :func:`plan_gcp`) as children of ``parent``. ``facts`` and ``args``
    are only read for Vault key material (``args["vault"]``)."""
    kept = pulumi.ResourceOptions(parent=parent, retain_on_delete=plan.retain_on_delete, protect=plan.protect)
    # The identity and every grant are retained like the keys: CockroachDB Cloud reaches the keys
    # through them, and CMEK stays enabled after a destroy (the API cannot disable it).
    granted = pulumi.ResourceOptions(parent=parent, retain_on_delete=plan.retain_on_delete)

    account = gcp.serviceaccount.Account(
        f"{name}-service-account",
        project=plan.project,
        account_id=plan.service_account_id,
        display_name=plan.display_name,
        description="CockroachDB Cloud uses this account (through Token Creator) to use the cluster's CMEK keys.",
        # gcp.cut_key_access (revoke runbook, step 1): a disabled account cannot be impersonated,
        # which cuts CockroachDB Cloud's KMS access in place, with nothing deleted.
        disabled=plan.cut_key_access,
        opts=granted,
    )
    token_creator = gcp.serviceaccount.IAMMember(
        f"{name}-token-creator",
        service_account_id=_same_as(account.id, plan.service_account_path),
        role=TOKEN_CREATOR_ROLE,
        member=f"serviceAccount:{plan.crl_principal}",
        opts=granted,
    )
    email = _same_as(account.id, plan.service_account_email)
    member = _same_as(account.id, f"serviceAccount:{plan.service_account_email}")

    rings = {
        location: gcp.kms.KeyRing(
            f"{name}-key-ring-{location}",
            project=plan.project,
            location=location,
            name=plan.key_ring_name,
            opts=kept,
        )
        for location in plan.key_rings
    }

    grants: list[pulumi.Resource] = []
    crypto_key_ids: dict[str, list[str]] = {}
    for key in plan.crypto_keys:
        suffix = key.region if key.generation == 1 else f"{key.region}-g{key.generation}"
        crypto_key = gcp.kms.CryptoKey(
            f"{name}-crypto-key-{suffix}",
            key_ring=_same_as(rings[key.location].id, plan.key_rings[key.location]),
            name=key.name,
            purpose=KEY_PURPOSE,
            version_template=gcp.kms.CryptoKeyVersionTemplateArgs(
                algorithm=KEY_ALGORITHM, protection_level=plan.protection_level
            ),
            rotation_period=plan.rotation_period,
            deletion_policy="ABANDON" if plan.retain_on_delete else "DELETE",
            opts=pulumi.ResourceOptions(
                parent=parent,
                retain_on_delete=plan.retain_on_delete,
                protect=plan.protect,
                ignore_changes=["version_template"],
            ),
        )
        crypto_key_ids.setdefault(key.region, []).append(key.uri)
        grants.append(
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-crypto-key-{suffix}-encrypter-decrypter",
                crypto_key_id=_same_as(crypto_key.id, key.uri),
                role=ENCRYPTER_DECRYPTER_ROLE,
                member=member,
                opts=granted,
            )
        )
    for region, uri in (plan.byo_keys if plan.grant_byo_keys else {}).items():
        grants.append(
            gcp.kms.CryptoKeyIAMMember(
                f"{name}-byo-key-{region}-encrypter-decrypter",
                crypto_key_id=uri,
                role=ENCRYPTER_DECRYPTER_ROLE,
                member=member,
                opts=granted,
            )
        )

    key_uris: dict[str, pulumi.Output[str]] = {
        region: pulumi.Output.from_input(uri) for region, uri in plan.key_uris.items()
    }
    extra_outputs: dict[str, Any] = {}
    if plan.uses_vault:
        from cmek_component.gcp import vault_access  # loads pulumi_vault only for Vault stacks
        from cmek_component.vault import resources as vault_keys

        vault_declared = vault_keys.declare_vault_keys(
            name, parent, facts, args, lambda plan: vault_access.crypto_key_grant_access(name, parent, plan, email)
        )
        key_uris.update(vault_declared.key_uris)
        grants.extend(vault_declared.dependencies)
        extra_outputs.update(vault_declared.outputs)

    outputs: dict[str, Any] = {
        "gcp_project": plan.project,
        "service_account_email": email,
        "crl_principal": plan.crl_principal,
        "key_rings": dict(plan.key_rings),
        "crypto_keys": crypto_key_ids,
        "byo_keys": dict(plan.byo_keys),
        **extra_outputs,
    }
    return DeclaredKeys(
        key_type=GCP_CLOUD_KMS,
        auth_principal=pulumi.Output.from_input(plan.service_account_email),
        key_uris=dict(sorted(key_uris.items())),
        dependencies=[account, token_creator, *grants],
        outputs=outputs,
    )
