"""``ClusterCmek``: one CockroachDB Cloud cluster under customer-managed encryption keys.

The component turns the seed procedure into children of one ``ComponentResource``:

1. the cluster facts (cloud, regions, ``account_id``, organization id): from the arguments, or
   read at program time with the Cloud API's read-only ``GET cluster`` / ``GET organization``
   (:func:`resolve_cluster_facts`; fine during a preview);
2. the identity and keys: :mod:`cmek_component.aws.resources` or :mod:`cmek_component.gcp.resources`, imported only
   for their own cloud (an AWS stack never loads ``pulumi_gcp`` and the other way round);
3. ``<name>-activation``, a ``CmekActivation`` that enables, rotates, extends or revokes CMEK
   through the Cloud API. It depends on the identity and on every key policy or grant, so CMEK
   is never enabled before the grants exist.

Every child is named from the component's name and parented to it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import pulumi

from cmek_component.activation.inputs import TIMEOUT_LIMITS, timeout_problem
from cmek_component.component.args import (
    ActivationOptions,
    AwsKeyOptions,
    ClusterCmekArgs,
    GcpKeyOptions,
)
from cmek_component.component.cloud_keys import ClusterFacts, DeclaredKeys
from cmek_component.manifest.generations import generation_problem, is_whole_number
from cmek_component.manifest.identifiers import (
    cluster_id_problem,
    key_type_for_cloud,
    region_problem,
)
from cmek_component.manifest.problems import Problem, SpecProblems, plain, shown
from cmek_component.manifest.region_specs import (
    KeySpec,
    RegionSpec,
    cmek_config_document,
    parse_region_specs,
    render_cmek_config,
)

if TYPE_CHECKING:
    from cmek_component.activation.dynamic import CmekActivationArgs
    from cmek_component.cloud_api.models import Cluster, Organization

__all__ = [
    "ActivationOptions",
    "AwsKeyOptions",
    "ClusterCmek",
    "ClusterCmekArgs",
    "ClusterFactsError",
    "GcpKeyOptions",
    "resolve_cluster_facts",
    "validate_args",
]

TYPE_TOKEN = "cockroach:cmek:ClusterCmek"
CLOUDS = ("AWS", "GCP")
MIN_REGION_NODES = 3
ARG_NAMES: tuple[str, ...] = tuple(ClusterCmekArgs.__annotations__)
ACTIVATION_OPTION_NAMES: tuple[str, ...] = tuple(ActivationOptions.__annotations__)


class ClusterReader(Protocol):
    """The two read-only Cloud API calls the component makes at program time."""

    def get_cluster(self, cluster_id: str) -> Cluster: ...

    def get_organization(self) -> Organization: ...


ClientFactory = Callable[[], ClusterReader]


class ActivationResource(Protocol):
    """What the component reads from its activation: the live CMEK status and regions."""

    @property
    def status(self) -> pulumi.Output[str]: ...

    @property
    def regions(self) -> pulumi.Output[list[dict[str, Any]]]: ...


ActivationFactory = Callable[[str, "CmekActivationArgs", pulumi.ResourceOptions], ActivationResource]
"""Declares ``<name>-activation`` (name, inputs, options). Default: the dynamic ``CmekActivation``;
the provider plugin swaps in its custom resource ``cockroach-cmek:index:CmekActivation``."""


def dynamic_activation(name: str, args: CmekActivationArgs, opts: pulumi.ResourceOptions) -> ActivationResource:
    """The activation of Python programs: the dynamic resource ``CmekActivation``."""
    from cmek_component.activation.dynamic import CmekActivation

    return CmekActivation(name, args, opts)


class ClusterFactsError(pulumi.RunError):
    """The cluster facts could not be read from the Cloud API. The message names the cluster,
    the failed call, and the arguments to set so the program needs no Cloud API."""


def default_client_factory() -> ClusterReader:
    """A ``CloudApiClient`` configured like the activation: ``cockroach:apiKey`` (secret) or env
    ``COCKROACH_API_KEY``; ``cockroach:apiUrl`` or env ``COCKROACH_SERVER``."""
    from cmek_component.cloud_api.client import CloudApiClient

    config = pulumi.Config("cockroach")
    return CloudApiClient(api_key=config.get("apiKey"), api_url=config.get("apiUrl"))


# --------------------------------------------------------------------------------------------
# Arguments and cluster facts
# --------------------------------------------------------------------------------------------



def _non_empty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


OUTPUT_ARGUMENT_RULE = (
    "expected a plain value, got a Pulumi Output: ClusterCmek reads the cluster (cloud, regions, "
    "account_id) and plans its keys while the program runs, before an Output's value is known (the "
    "id of a cluster created in the same program, such as cockroach.Cluster(...).id, is not known "
    "in a preview). Create the cluster first (in its own stack, or in an earlier `pulumi up` "
    "without ClusterCmek), then pass its id as a string, for example from stack config "
    "(`pulumi config set clusterId <id>`, `pulumi.Config().require(\"clusterId\")`)"
)
"""Why an ``Output`` argument is refused, and what to do instead (README, beside the library example)."""


def _output_problems(args: Mapping[str, Any]) -> list[Problem]:
    """An ``Output`` or other awaitable (``Input[str]``) where a plain value is needed."""
    problems: list[Problem] = []
    for name in ("cluster_id", "cloud", "regions", "account_id", "organization_id"):
        value = args.get(name)
        if isinstance(value, pulumi.Output) or hasattr(value, "__await__"):
            problems.append(Problem(name, OUTPUT_ARGUMENT_RULE))
    return problems


def validate_args(args: Mapping[str, Any]) -> list[Problem]:
    """Problems with the cloud-independent arguments (field, rule and value in each message).

    Cloud-specific options (``aws``, ``gcp``) are checked by the cloud module; rules that depend
    on the previous state (``revoke`` together with another change) by the activation. An
    ``Output`` for ``cluster_id`` (or another cluster fact) is refused with what to do instead.
    """
    if not isinstance(args, Mapping):
        return [Problem("args", f"expected a mapping of ClusterCmekArgs, got {shown(args)}")]
    problems: list[Problem] = []
    for key in args:
        if key not in ARG_NAMES:
            problems.append(Problem(str(key), f"expected one of the arguments ({', '.join(ARG_NAMES)}), got {shown(key)}"))
    outputs = _output_problems(args)
    if outputs:
        return problems + outputs
    problem = cluster_id_problem("cluster_id", args.get("cluster_id"))
    if problem:
        problems.append(problem)
    cloud = args.get("cloud")
    if "cloud" in args and cloud not in CLOUDS:
        problems.append(
            Problem("cloud", f"expected 'AWS' or 'GCP' (CMEK on Azure is not supported here), got {shown(cloud)}")
        )
    regions = args.get("regions")
    if "regions" in args:
        if not isinstance(regions, list) or not regions:
            problems.append(Problem("regions", f"expected a non-empty list of the cluster's region names, got {shown(regions)}"))
        else:
            seen: set[str] = set()
            for index, region in enumerate(regions):
                if not _non_empty_str(region):
                    problems.append(Problem(f"regions[{index}]", f"expected a region name, got {shown(region)}"))
                elif region in seen:
                    problems.append(Problem(f"regions[{index}]", f"expected each region once, got {shown(region)} twice"))
                else:
                    seen.add(region)
    for name in ("account_id", "organization_id"):
        if name in args and not _non_empty_str(args.get(name)):
            problems.append(Problem(name, f"expected a non-empty string (or leave it out to read it from the Cloud API), got {shown(args.get(name))}"))
    add_regions = args.get("add_regions")
    if add_regions is not None:
        if not isinstance(add_regions, Mapping):
            problems.append(Problem("add_regions", f"expected a mapping of region -> node count, got {shown(add_regions)}"))
        else:
            for region, nodes in add_regions.items():
                if not _non_empty_str(region):
                    problems.append(Problem("add_regions", f"expected region names as keys, got {shown(region)}"))
                elif not is_whole_number(nodes) or nodes < MIN_REGION_NODES:
                    problems.append(
                        Problem(f"add_regions.{region}", f"expected a node count of at least {MIN_REGION_NODES}, got {shown(nodes)}")
                    )
    problem = generation_problem("key_generation", args.get("key_generation", 1))
    if problem:
        problems.append(problem)
    per_region = args.get("region_key_generations")
    if per_region is not None and not isinstance(per_region, Mapping):
        problems.append(
            Problem("region_key_generations", f"expected a mapping of cluster region -> generation, got {shown(per_region)}")
        )
    trigger = args.get("rotation_trigger", "")
    if not isinstance(trigger, str):
        problems.append(Problem("rotation_trigger", f"expected a string (change it to re-wrap every region), got {shown(trigger)}"))
    revoke = args.get("revoke", False)
    if not isinstance(revoke, bool):
        problems.append(Problem("revoke", f"expected true or false, got {shown(revoke)}"))
    activation = args.get("activation")
    if activation is not None:
        if not isinstance(activation, Mapping):
            problems.append(Problem("activation", f"expected a mapping of wait limits, got {shown(activation)}"))
        else:
            for key, value in activation.items():
                if key not in ACTIVATION_OPTION_NAMES:
                    problems.append(
                        Problem(f"activation.{key}", f"expected one of {', '.join(ACTIVATION_OPTION_NAMES)}, got {shown(key)}")
                    )
                elif key in TIMEOUT_LIMITS and (not is_whole_number(value) or timeout_problem(key, value)):
                    problems.append(
                        Problem(
                            f"activation.{key}",
                            f"expected a whole number of seconds from 1 to {TIMEOUT_LIMITS[key]}, got {shown(value)}",
                        )
                    )
    for name in ("aws", "gcp"):
        if args.get(name) is not None and not isinstance(args.get(name), Mapping):
            problems.append(Problem(name, f"expected a mapping of {name.upper()} options, got {shown(args.get(name))}"))
    return problems


SDK_EXTRAS: dict[str, str] = {"pulumi_aws": "aws", "pulumi_gcp": "gcp", "pulumi_vault": "vault"}
"""Each cloud SDK and the extra of this package that installs it (``pyproject.toml``)."""


def sdk_problems(cloud: str, args: Mapping[str, Any]) -> list[Problem]:
    """The cloud SDKs this cluster needs and the environment lacks (``pulumi_aws`` for AWS,
    ``pulumi_gcp`` for GCP, ``pulumi_vault`` with ``vault``), each with the extra to install.
    Only the SDKs the cluster needs are imported: an AWS stack never loads ``pulumi_gcp``."""
    needed = [("cloud", "pulumi_aws" if cloud == "AWS" else "pulumi_gcp", f"a {cloud} cluster")]
    if args.get("vault") is not None:
        needed.append(("vault", "pulumi_vault", "Vault key material"))
    problems: list[Problem] = []
    for field_name, module, what in needed:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name != module:
                raise
            extra = SDK_EXTRAS[module]
            problems.append(
                Problem(
                    field_name,
                    f"{what} needs the {module.replace('_', '-')} package, which is not installed: "
                    f"install this package with its {extra!r} extra (`pip install "
                    f"'cmek-component[{extra}]'`; from a checkout `venv/bin/pip install -e '.[{extra}]'`)",
                )
            )
    return problems


def vault_config_problems(
    cloud: str, args: Mapping[str, Any], get: Callable[[str], object] | None = None, who: str = ""
) -> list[Problem]:
    """Stack configuration that Vault key material needs, checked before anything is declared:
    the ``cmek-vault:*`` KMS credentials when ``vault.credentials`` is ``config`` (the default).
    ``get`` reads a full config key (default: the program's stack config); ``who`` names the
    cluster in the message."""
    from cmek_component.vault import rules as vault_rules

    read = get or pulumi.runtime.get_config
    return vault_rules.missing_credential_problems(cloud, args.get("vault"), lambda key: read(key) is not None, who)


def _region_problems(cloud: str, regions: Sequence[str], add_regions: Mapping[str, int], explicit: bool) -> list[Problem]:
    problems: list[Problem] = []
    for index, region in enumerate(regions):
        where = f"regions[{index}]" if explicit else f"regions (from the Cloud API)[{index}]"
        problem = region_problem(cloud, where, region)
        if problem:
            problems.append(problem)
    for region in add_regions:
        problem = region_problem(cloud, f"add_regions.{region}", region)
        if problem:
            problems.append(problem)
    return problems


def _api_regions(cluster: Cluster) -> list[str]:
    """The cluster's regions, its primary region first, then by name."""
    regions = sorted(cluster.regions, key=lambda r: (not r.primary, r.name))
    return [r.name for r in regions if r.name]


def resolve_cluster_facts(args: ClusterCmekArgs, client_factory: ClientFactory = default_client_factory) -> ClusterFacts:
    """The cluster facts: the arguments where given, else the Cloud API.

    ``cloud``, ``regions`` and ``account_id`` come from ``GET /api/v1/clusters/{id}`` when any of
    them is missing; ``organization_id`` from ``GET /api/v1/organization`` when missing on AWS
    (GCP does not use it). With all of them given, no client is created and no request is made,
    so a preview runs where the Cloud API is unreachable.

    ``regions`` of the result: the given regions in their order (else the cluster's, primary
    first), then each ``add_regions`` region not already among them, sorted.

    Raises ``SpecProblems`` for invalid arguments and ``ClusterFactsError`` when a Cloud API call
    fails (the message names the cluster and what to set instead).
    """
    problems = validate_args(args)
    if problems:
        raise SpecProblems(problems)
    cluster_id: str = args["cluster_id"]
    add_regions: Mapping[str, int] = args.get("add_regions") or {}
    client: ClusterReader | None = None

    def reader() -> ClusterReader:
        nonlocal client
        if client is None:
            client = client_factory()
        return client

    def explicit_hint() -> str:
        return (
            "set cloud, regions and account_id (and organization_id on AWS) explicitly in the "
            "component's arguments to run without the Cloud API"
        )

    cluster: Cluster | None = None
    if any(name not in args for name in ("cloud", "regions", "account_id")):
        from cmek_component.cloud_api.errors import CloudApiError

        try:
            cluster = reader().get_cluster(cluster_id)
        except CloudApiError as error:
            raise ClusterFactsError(
                f"cluster_id: could not read cluster {shown(cluster_id)} from the CockroachDB Cloud API "
                f"({error}); check the id and the API key, or {explicit_hint()}"
            ) from None

    cloud = args.get("cloud") or (cluster.cloud_provider if cluster else "")
    if cluster is not None and "cloud" in args and cluster.cloud_provider and cluster.cloud_provider != cloud:
        raise SpecProblems(
            [Problem("cloud", f"expected {shown(cluster.cloud_provider)} (cluster {plain(cluster_id)} runs there per the Cloud API), got {shown(cloud)}")]
        )
    if cloud not in CLOUDS:
        raise SpecProblems(
            [Problem("cloud", f"expected 'AWS' or 'GCP' (cluster {plain(cluster_id)} is on {shown(cloud)} per the Cloud API; CMEK on Azure is not supported here), got {shown(cloud)}")]
        )
    explicit_regions = "regions" in args
    regions: list[str] = list(args["regions"]) if explicit_regions else _api_regions(cluster) if cluster else []
    if not regions:
        raise SpecProblems([Problem("regions", f"expected the cluster's regions; the Cloud API lists none for cluster {plain(cluster_id)}, got []")])
    account_id = args.get("account_id") or (cluster.account_id if cluster else "")
    if not account_id:
        raise SpecProblems(
            [
                Problem(
                    "account_id",
                    f"expected the cluster's account_id; the Cloud API returned none for cluster {plain(cluster_id)} "
                    "(CMEK needs an Advanced cluster), got ''",
                )
            ]
        )
    organization_id = args.get("organization_id", "")
    if cloud == "AWS" and not organization_id:
        from cmek_component.cloud_api.errors import CloudApiError

        try:
            organization_id = reader().get_organization().id
        except CloudApiError as error:
            raise ClusterFactsError(
                f"organization_id: could not read the organization of cluster {shown(cluster_id)} from the "
                f"CockroachDB Cloud API ({error}); set organization_id explicitly (Cloud console, "
                "organization settings) to run without the Cloud API"
            ) from None
    problems = _region_problems(cloud, regions, add_regions, explicit_regions)
    pending = sorted(r for r in add_regions if r not in regions)
    if args.get("revoke") is True and pending:
        problems.append(
            Problem(
                "revoke",
                f"true cannot be combined with adding regions {pending} (not yet cluster regions): a revoke "
                "must be the only change of its update; remove them from add_regions or set revoke to false",
            )
        )
    if problems:
        raise SpecProblems(problems)
    all_regions = regions + sorted(r for r in add_regions if r not in regions)
    return ClusterFacts(
        cluster_id=cluster_id,
        cloud=cloud,
        regions=all_regions,
        account_id=account_id,
        organization_id=organization_id,
    )


# --------------------------------------------------------------------------------------------
# The component
# --------------------------------------------------------------------------------------------


def _region_specs_document(key_type: str, principal: str, uris: Mapping[str, str]) -> dict[str, Any]:
    specs = [RegionSpec(region, KeySpec(key_type, uri, principal)) for region, uri in uris.items()]
    parse_region_specs([spec.to_api() for spec in specs])  # the activation would refuse it anyway
    return cmek_config_document(specs)


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
        vault_problems = vault_config_problems(facts.cloud, args)
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
        document: pulumi.Output[dict[str, Any]] = pulumi.Output.all(declared.auth_principal, key_uris).apply(
            lambda values: _region_specs_document(key_type, values[0], values[1])
        )

        activation_args: CmekActivationArgs = {
            "cluster_id": facts.cluster_id,
            "region_specs": document.apply(lambda doc: doc["region_specs"]),
            "new_region_nodes": dict(args.get("add_regions") or {}),
            "rotation_trigger": args.get("rotation_trigger", ""),
            "revoke": args.get("revoke", False),
        }
        limits = args.get("activation") or {}
        if "wait_timeout_seconds" in limits:
            activation_args["wait_timeout_seconds"] = limits["wait_timeout_seconds"]
        if "iam_propagation_timeout_seconds" in limits:
            activation_args["iam_propagation_timeout_seconds"] = limits["iam_propagation_timeout_seconds"]
        activation = (activation_factory or dynamic_activation)(
            f"{name}-activation",
            activation_args,
            pulumi.ResourceOptions(parent=self, depends_on=declared.dependencies),
        )

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
        self.region_statuses = activation.regions.apply(_region_statuses)

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


def _region_statuses(regions: object) -> dict[str, str]:
    """``regions`` output of the activation -> ``{region: status}``."""
    if not isinstance(regions, list):
        return {}
    return {
        str(item.get("region")): str(item.get("status") or "")
        for item in regions
        if isinstance(item, Mapping) and item.get("region")
    }
