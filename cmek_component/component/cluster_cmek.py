"""``ClusterCmek``: one CockroachDB Cloud cluster under customer-managed encryption keys.

The component turns the seed procedure into children of one ``ComponentResource``:

1. the cluster facts (cloud, regions, ``account_id``, organization id): from the arguments, or
   read at program time with the Cloud API's read-only ``GET cluster`` / ``GET organization``
   (:mod:`cmek_component.component.cluster_facts`; fine during a preview), then the checks of
   :mod:`cmek_component.component.preflight`, all before any resource is declared;
2. the identity and keys: :mod:`cmek_component.aws.resources` or :mod:`cmek_component.gcp.resources`, imported only
   for their own cloud (an AWS stack never loads ``pulumi_gcp`` and the other way round);
3. ``<name>-activation``, a ``CmekActivation`` that enables, rotates, extends or revokes CMEK
   through the Cloud API (:mod:`cmek_component.component.activation_child`). It depends on the
   identity and on every key policy or grant, so CMEK is never enabled before the grants exist.

Every child is named from the component's name and parented to it.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pulumi

from cmek_component.component.activation_child import (
    ActivationFactory,
    declare_activation,
    region_specs_document,
    region_statuses,
)
from cmek_component.component.args import ClusterCmekArgs
from cmek_component.component.cloud_keys import DeclaredKeys
from cmek_component.component.cluster_facts import (
    ClientFactory,
    default_client_factory,
    resolve_cluster_facts,
)
from cmek_component.component.preflight import vault_config_problems
from cmek_component.component.sdks import sdk_problems
from cmek_component.manifest.identifiers import key_type_for_cloud
from cmek_component.manifest.problems import SpecProblems, plain
from cmek_component.manifest.region_specs import RegionSpec, render_cmek_config

__all__ = ["TYPE_TOKEN", "ClusterCmek"]

TYPE_TOKEN = "cockroach:cmek:ClusterCmek"


class ClusterCmek(pulumi.ComponentResource):
    """A CockroachDB Cloud cluster's customer-managed encryption keys: the identity CockroachDB
    Cloud impersonates, one key per cluster region, and the CMEK activation.

    ``args``: :class:`ClusterCmekArgs` (only ``cluster_id`` is required). ``opts``: the usual
    resource options; providers given here reach every child. ``client_factory``: how to build
    the Cloud API client used for missing cluster facts (tests inject one).
    ``activation_factory``: how ``<name>-activation`` is declared (default: the dynamic
    ``CmekActivation``; the provider plugin passes its custom resource).
    """

    component_type: ClassVar[str] = TYPE_TOKEN
    """The component's Pulumi type (the provider plugin's subclass registers under its package's token)."""

    auth_principal: pulumi.Output[str]
    """The principal CockroachDB Cloud impersonates: the role ARN (AWS) or service account email (GCP)."""
    key_uris: pulumi.Output[dict[str, str]]
    """Cluster region -> key URI CockroachDB Cloud uses now (AWS key ARN, GCP crypto key name)."""
    role_arn: pulumi.Output[str | None]
    """AWS: ARN of the cross-account role. ``None`` on GCP."""
    key_arns: pulumi.Output[dict[str, str] | None]
    """AWS: cluster region -> ARN of the key or replica the region uses now. ``None`` on GCP."""
    aliases: pulumi.Output[list[str] | None]
    """AWS: every KMS alias name the component manages (same name in each region). ``None`` on GCP."""
    key_policy: pulumi.Output[str | None]
    """AWS: the ``crdb-cmek-kms`` key policy on every key the component manages; with
    ``aws.byo_keys`` and no ``aws.attach_key_policy``, the policy to put on your keys yourself.
    ``None`` on GCP."""
    service_account_email: pulumi.Output[str | None]
    """GCP: the cross-tenant service account. ``None`` on AWS."""
    region_specs: pulumi.Output[dict[str, Any]]
    """The seed's ``cmek_config.json`` document: ``{"region_specs": [{region, key_spec: {type, uri, auth_principal}}]}``, sorted by region."""
    cmek_config_json: pulumi.Output[str]
    """``region_specs`` as the text of ``cmek_config.json``."""
    status: pulumi.Output[str]
    """The cluster's CMEK status from the Cloud API (``ENABLED``, ``ENABLING``, ``REVOKED`` ...)."""
    region_statuses: pulumi.Output[dict[str, str]]
    """Cluster region -> that region's CMEK status."""

    def __init__(
        self,
        name: str,
        args: ClusterCmekArgs,
        opts: pulumi.ResourceOptions | None = None,
        *,
        client_factory: ClientFactory | None = None,
        activation_factory: ActivationFactory | None = None,
    ) -> None:
        facts = resolve_cluster_facts(args, client_factory or default_client_factory)
        missing = sdk_problems(facts.cloud, args)
        if missing:
            raise SpecProblems(missing)
        aws_plan = None
        if facts.cloud == "AWS":
            from cmek_component.aws import resources as aws_keys
            from cmek_component.aws.plan import plan_aws_keys

            aws_plan = plan_aws_keys(name, facts, args)  # every AWS problem, before any resource
        else:
            from cmek_component.gcp import resources as gcp_keys

            gcp_plan = gcp_keys.plan_gcp(facts, args)  # every GCP problem, before any resource
        vault_problems = vault_config_problems(facts.cloud, args, pulumi.runtime.get_config)
        if vault_problems:
            raise SpecProblems(vault_problems)
        super().__init__(self.component_type, name, {}, opts)
        if (
            aws_plan is not None
            and aws_plan.key_mode in ("multi-region", "single")
            and "primary_region" not in (args.get("aws") or {})
            and "regions" not in args
            and len(facts.regions) > 1
        ):
            pulumi.log.warn(
                f"aws.primary_region: not set, so the key material lives in {plain(aws_plan.primary_region)} "
                "(the first region the Cloud API lists); set it explicitly so that adding a region "
                "never moves the key material (a move replaces every key)",
                resource=self,
            )

        declared: DeclaredKeys
        if aws_plan is not None:
            declared = aws_keys.declare_plan(name, self, aws_plan, facts, args)
            cut_key_access = aws_plan.cut_key_access
            how_to_cut = "aws.cut_key_access: true, or your own key policies for byo_keys"
        else:
            declared = gcp_keys.declare_plan(name, self, gcp_plan, facts, args)
            cut_key_access = gcp_plan.cut_key_access
            how_to_cut = "gcp.cut_key_access: true disables the service account"
        if args.get("revoke") and not cut_key_access:
            prefix = facts.cloud.lower()
            pulumi.log.warn(
                f"revoke: CockroachDB Cloud still has KMS access ({prefix}.cut_key_access is false). Before a "
                f"revoke, the runbook cuts it first ({how_to_cut}); after one, restoring it is step 1 of "
                "the recovery",
                resource=self,
            )

        key_type = key_type_for_cloud(facts.cloud)
        key_uris = pulumi.Output.all(**declared.key_uris) if declared.key_uris else pulumi.Output.from_input({})
        document = region_specs_document(key_type, declared.auth_principal, key_uris)
        activation = declare_activation(name, self, facts, args, declared, document, activation_factory)

        self.auth_principal = declared.auth_principal
        self.key_uris = key_uris
        self.role_arn = declared.outputs.get("role_arn", pulumi.Output.from_input(None))
        self.key_arns = declared.outputs.get("key_arns", pulumi.Output.from_input(None))
        self.aliases = pulumi.Output.from_input(declared.outputs.get("aliases"))
        self.key_policy = declared.outputs.get("key_policy", pulumi.Output.from_input(None))
        self.service_account_email = declared.outputs.get("service_account_email", pulumi.Output.from_input(None))
        self.region_specs = document
        self.cmek_config_json = document.apply(
            lambda doc: render_cmek_config(RegionSpec.from_api(item) for item in doc["region_specs"])
        )
        self.status = activation.status
        self.region_statuses = activation.regions.apply(region_statuses)

        # Exactly the attributes above (the stack program exports each one): the cloud modules'
        # other details (DeclaredKeys.outputs) are not component outputs.
        self.register_outputs(
            {
                "auth_principal": self.auth_principal,
                "key_uris": self.key_uris,
                "role_arn": self.role_arn,
                "key_arns": self.key_arns,
                "aliases": self.aliases,
                "key_policy": self.key_policy,
                "service_account_email": self.service_account_email,
                "region_specs": self.region_specs,
                "cmek_config_json": self.cmek_config_json,
                "status": self.status,
                "region_statuses": self.region_statuses,
            }
        )

