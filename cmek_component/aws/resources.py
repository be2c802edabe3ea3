"""The AWS children of ``ClusterCmek``: the cross-account IAM role, KMS keys, replicas, aliases
and key policies. Imported by the component only for AWS clusters (a GCP stack never loads
``pulumi_aws``).

What is declared (``<name>`` is the component's name; every child has ``parent`` = the component;
``[-g<n>]`` is added for key generation ``n > 1``):

- ``<name>-role``: ``aws.iam.Role`` that CockroachDB Cloud assumes, trusting
  ``arn:aws:iam::<account_id>:root`` with ``sts:ExternalId`` = the organization id; no policies
  attached (the key policies grant it the key);
- ``aws.key_mode`` ``multi-region`` (default): ``<name>-key[-g<n>]``, a multi-region symmetric
  ENCRYPT_DECRYPT ``aws.kms.Key`` in the primary region, and ``<name>-replica-<region>[-g<n>]``,
  an ``aws.kms.ReplicaKey`` in every other cluster region;
- ``per-region``: ``<name>-key-<region>[-g<n>]``, one single-region key per cluster region;
- ``single``: ``<name>-key[-g<n>]``, one single-region key in the primary region for every region;
- ``<name>-alias-<region>[-g<n>]``: an ``aws.kms.Alias`` next to each key and replica (aliases
  are regional, so every region has the same alias name);
- with ``aws.byo_keys`` no key: ``<name>-key-policy-<region>`` (``aws.kms.KeyPolicy``) on each
  distinct key when ``aws.attach_key_policy`` is true;
- with ``vault`` no key either: :func:`cmek_component.vault.resources.declare_vault_keys` distributes Vault
  key material to KMS and attaches the same key policy to each distributed key.

Every key and replica carries the same ``crdb-cmek-kms`` policy (:mod:`cmek_component.aws.policies`).
Generations ``1..n`` all stay declared: data written with an old key needs it forever. What to
declare is decided, and every argument checked, by :func:`cmek_component.aws.plan.plan_aws_keys`
(pure); this module only declares it.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from cmek_component.aws import policies
from cmek_component.aws.plan import AwsPlan, plan_aws_keys
from cmek_component.component.args import ClusterCmekArgs
from cmek_component.component.cloud_keys import ClusterFacts, DeclaredKeys
from cmek_component.manifest.identifiers import AWS_KEY_ARN_RE, AWS_KMS
from cmek_component.manifest.problems import SpecError

KEY_USAGE = "ENCRYPT_DECRYPT"
KEY_SPEC = "SYMMETRIC_DEFAULT"


def _key_description(cluster_id: str, generation: int) -> str:
    return f"CockroachDB Cloud CMEK for cluster {cluster_id}, key generation {generation}"


def _caller_account_root(parent: pulumi.Resource) -> pulumi.Output[list[str]]:
    """``[arn:<partition>:iam::<deploying account>:root]`` from ``aws.get_caller_identity``."""
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent))

    def root(result: Any) -> list[str]:
        arn = str(getattr(result, "arn", "") or "")
        partition = arn.split(":")[1] if arn.startswith("arn:") else "aws"
        return [policies.account_root(str(result.account_id), partition, field="aws.get_caller_identity")]

    return identity.apply(root)


def declare_aws(name: str, parent: pulumi.Resource, facts: ClusterFacts, args: ClusterCmekArgs) -> DeclaredKeys:
    """Declares the role, keys, replicas, aliases and key policies for an AWS cluster.

    Every argument is validated first (``SpecProblems`` lists each field, rule and value); no
    resource is declared when one is wrong.
    """
    if facts.cloud != "AWS":
        raise SpecError("cloud", "expected 'AWS' for the AWS keys", facts.cloud)
    return declare_plan(name, parent, plan_aws_keys(name, facts, args), facts, args)


def declare_plan(
    name: str, parent: pulumi.Resource, plan: AwsPlan, facts: ClusterFacts, args: ClusterCmekArgs
) -> DeclaredKeys:
    """Declares what ``plan`` (from :func:`plan_aws_keys`) lists, every child parented to ``parent``.

    ``facts`` and ``args`` are only read for Vault key material (``args["vault"]``).
    """
    kept = pulumi.ResourceOptions(parent=parent, retain_on_delete=plan.retain_on_delete, protect=plan.protect)
    role = aws.iam.Role(
        f"{name}-role",
        assume_role_policy=policies.to_json(policies.trust_policy(plan.account_id, plan.organization_id)),
        description=f"Assumed by CockroachDB Cloud to use the CMEK keys of cluster {plan.cluster_id}",
        name=plan.role_name,
        path=plan.role_path,
        permissions_boundary=plan.permissions_boundary,
        tags=plan.tags,
        opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=plan.retain_on_delete),
    )
    admins: pulumi.Output[list[str]] = (
        pulumi.Output.from_input(plan.admin_principals) if plan.admin_principals else _caller_account_root(parent)
    )
    grant_usage = not plan.cut_key_access
    policy: pulumi.Output[str] = pulumi.Output.all(role.arn, admins).apply(
        lambda values: policies.to_json(policies.key_policy(values[0], values[1], grant_usage=grant_usage))
    )

    declared: dict[str, aws.kms.Key | aws.kms.ReplicaKey] = {}
    for planned in plan.keys:
        resource: aws.kms.Key | aws.kms.ReplicaKey
        if planned.kind == "key":
            resource = aws.kms.Key(
                planned.resource_name,
                description=_key_description(plan.cluster_id, planned.generation),
                key_usage=KEY_USAGE,
                customer_master_key_spec=KEY_SPEC,
                multi_region=planned.multi_region,
                enable_key_rotation=plan.enable_key_rotation,
                deletion_window_in_days=plan.deletion_window_in_days,
                policy=policy,
                region=planned.region,
                tags=plan.tags,
                opts=kept,
            )
        else:
            assert planned.primary is not None
            resource = aws.kms.ReplicaKey(
                planned.resource_name,
                primary_key_arn=declared[planned.primary].arn,
                description=_key_description(plan.cluster_id, planned.generation),
                deletion_window_in_days=plan.deletion_window_in_days,
                policy=policy,
                region=planned.region,
                tags=plan.tags,
                opts=kept,
            )
        declared[planned.resource_name] = resource
        aws.kms.Alias(
            planned.alias_resource_name,
            name=planned.alias,
            target_key_id=resource.key_id,
            region=planned.region,
            opts=pulumi.ResourceOptions(parent=parent),
        )

    key_policies: list[aws.kms.KeyPolicy] = []
    if plan.attach_key_policy:
        named: dict[str, str] = {}
        for region, arn in plan.byo_keys.items():
            named.setdefault(arn, region)
        for arn, region in named.items():
            match = AWS_KEY_ARN_RE.fullmatch(arn)
            assert match is not None
            key_policies.append(
                aws.kms.KeyPolicy(
                    f"{name}-key-policy-{region}",
                    key_id=arn,
                    policy=policy,
                    region=match.group("region"),
                    opts=kept,
                )
            )

    key_uris: dict[str, pulumi.Output[str]] = {
        region: declared[resource_name].arn for region, resource_name in plan.serving.items()
    }
    key_uris.update({region: pulumi.Output.from_input(arn) for region, arn in plan.byo_keys.items()})
    extra_outputs: dict[str, Any] = {}
    access: list[pulumi.Resource] = [*declared.values(), *key_policies]
    if plan.key_mode == "vault":
        from cmek_component.aws import vault_access  # loads pulumi_vault only for Vault stacks
        from cmek_component.vault import resources as vault_keys

        vault_declared = vault_keys.declare_vault_keys(
            name, parent, facts, args,
            lambda plan: vault_access.key_policy_access(name, parent, plan, args, role.arn, policy),
        )
        key_uris.update(vault_declared.key_uris)
        access.extend(vault_declared.dependencies)
        extra_outputs.update(vault_declared.outputs)
    key_uris = dict(sorted(key_uris.items()))
    outputs: dict[str, Any] = {
        "role_arn": role.arn,
        "key_arns": pulumi.Output.all(**key_uris) if key_uris else pulumi.Output.from_input({}),
        "aliases": plan.aliases,
        "key_policy": policy,
        **extra_outputs,
    }
    return DeclaredKeys(
        key_type=AWS_KMS,
        auth_principal=role.arn,
        key_uris=key_uris,
        dependencies=[role, *access],
        outputs=outputs,
    )

