"""The facts ``ClusterCmek`` needs about its cluster, gathered at program time.

Cloud, regions, ``account_id`` and organization id come from the arguments where given, else
from the Cloud API's read-only ``GET cluster`` / ``GET organization`` (fine during a preview):
:func:`resolve_cluster_facts`. The arguments are checked first (:func:`validate_args`): the
facts must be plain values, so a Pulumi ``Output`` among them is refused with what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pulumi

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.component.cloud_keys import ClusterFacts
from cmek_component.component.preflight import (
    CLOUDS,
    argument_problems,
    region_problems,
    unknown_argument_problems,
)
from cmek_component.manifest.problems import Problem, SpecProblems, plain, shown

if TYPE_CHECKING:
    from cmek_component.cloud_api.models import Cluster, Organization


class ClusterReader(Protocol):
    """The two read-only Cloud API calls the component makes at program time."""

    def get_cluster(self, cluster_id: str) -> Cluster: ...

    def get_organization(self) -> Organization: ...


ClientFactory = Callable[[], ClusterReader]


class ClusterFactsError(pulumi.RunError):
    """The cluster facts could not be read from the Cloud API. The message names the cluster,
    the failed call, and the arguments to set so the program needs no Cloud API."""


def default_client_factory() -> ClusterReader:
    """A ``CloudApiClient`` configured like the activation: ``cockroach:apiKey`` (secret) or env
    ``COCKROACH_API_KEY``; ``cockroach:apiUrl`` or env ``COCKROACH_SERVER``."""
    from cmek_component.cloud_api.client import CloudApiClient

    config = pulumi.Config("cockroach")
    return CloudApiClient(api_key=config.get("apiKey"), api_url=config.get("apiUrl"))


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
    outputs = _output_problems(args)
    if outputs:
        return unknown_argument_problems(args) + outputs
    return argument_problems(args)


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
    problems = region_problems(cloud, regions, add_regions, explicit_regions)
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
