"""Vault key material on AWS: how a key Vault distributed into AWS KMS is found and opened to
CockroachDB Cloud's cross-account role (the seed's ``crdb-cmek-kms`` key policy).

Handed to :func:`cmek_component.vault.resources.declare_vault_keys` by the AWS layer, so the
Vault layer never imports ``pulumi_aws`` (nor a GCP stack AWS's SDK).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_vault as vault

from cmek_component.aws import policies
from cmek_component.component.args import ClusterCmekArgs
from cmek_component.vault import rules as vault_rules
from cmek_component.vault.plan import VaultKeyPlan, VaultPlan
from cmek_component.vault.resources import UriResolver


def key_policy_access(
    name: str,
    parent: pulumi.Resource,
    plan: VaultPlan,
    args: ClusterCmekArgs,
    role_arn: pulumi.Input[str],
    key_policy: pulumi.Input[str] | None,
) -> UriResolver:
    """The AWS resolver: the distributed key's ARN (``aws.kms.get_alias`` of
    ``alias/hashicorp/<kms key name>``) and ``<name>-vault-key-policy-<s>[-g<n>]``, an
    ``aws.kms.KeyPolicy`` with ``key_policy`` (default: built with
    :func:`policies.key_policy` from ``role_arn`` and ``aws.admin_principals``, default the
    deploying account's root, honouring ``aws.cut_key_access``)."""
    options = args.get("aws") or {}
    document: pulumi.Input[str]
    if key_policy is not None:
        document = key_policy
    else:
        admins: pulumi.Output[list[str]]
        if "admin_principals" in options:
            admins = pulumi.Output.from_input(policies.validate_admin_principals(options["admin_principals"]))
        else:
            identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent))
            admins = identity.apply(
                lambda found: [
                    policies.account_root(
                        str(found.account_id),
                        str(found.arn).split(":")[1] if str(found.arn).startswith("arn:") else "aws",
                        field="aws.get_caller_identity",
                    )
                ]
            )
        grant_usage = not bool(options.get("cut_key_access", False))
        document = pulumi.Output.all(role_arn, admins).apply(
            lambda values: policies.to_json(policies.key_policy(values[0], values[1], grant_usage=grant_usage))
        )

    def resolve(
        key: VaultKeyPlan, kms_name: pulumi.Output[str], distribution: vault.keymgmt.DistributeKey
    ) -> tuple[pulumi.Output[str], pulumi.Resource]:
        region = key.kms.key_collection
        alias = kms_name.apply(vault_rules.aws_alias_name)
        found = aws.kms.get_alias_output(
            name=alias,
            region=region,
            opts=pulumi.InvokeOutputOptions(parent=parent, depends_on=[distribution]),
        )
        arn = pulumi.Output.all(found.target_key_arn, alias).apply(
            lambda v: vault_rules.aws_key_arn(v[0], v[1], region)
        )
        policy = aws.kms.KeyPolicy(
            f"{name}-vault-key-policy-{key.resource_suffix}",
            key_id=arn,
            policy=document,
            region=region,
            opts=pulumi.ResourceOptions(
                parent=parent,
                depends_on=[distribution],
                retain_on_delete=plan.retain_on_delete,
                protect=plan.protect,
            ),
        )
        return arn, policy

    return resolve
