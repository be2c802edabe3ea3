"""Cluster facts at program time: given arguments need no Cloud API call (a preview works where
the API is unreachable); missing ones come from ``GET cluster`` / ``GET organization`` of the
simulator; failures name the cluster and what to set instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi.runtime
import pytest

from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.cloud_api.models import Cluster, ClusterRegion, Organization
from cmek_component.component.cluster_facts import (
    ClusterFactsError,
    default_client_factory,
    resolve_cluster_facts,
)
from cmek_component.manifest.problems import SpecProblems
from cmek_component.simulator import SEED_API_KEY, SimulatorServer, seeds

AWS_FACTS = {
    "cloud": "AWS",
    "regions": ["us-east-1", "us-west-2"],
    "account_id": "548012347802",
    "organization_id": seeds.ORGANIZATION_ID,
}


def client_for(server: SimulatorServer, api_key: str | None = SEED_API_KEY) -> Callable[[], CloudApiClient]:
    return lambda: CloudApiClient(api_key, server.url, max_retries=0)


def paths(server: SimulatorServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in server.simulator.requests]


def unreachable() -> Any:
    raise AssertionError("no Cloud API client may be created when every fact is given")


def test_every_fact_given_means_no_client_and_no_request(simulator: SimulatorServer) -> None:
    facts = resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI, **AWS_FACTS}, unreachable)  # type: ignore[typeddict-item]
    assert (facts.cloud, facts.regions, facts.account_id, facts.organization_id) == (
        "AWS",
        ["us-east-1", "us-west-2"],
        "548012347802",
        seeds.ORGANIZATION_ID,
    )
    # Also with a working client at hand: it is never used.
    resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI, **AWS_FACTS}, client_for(simulator))  # type: ignore[typeddict-item]
    assert paths(simulator) == []


def test_gcp_needs_no_organization_id(simulator: SimulatorServer) -> None:
    args = {"cluster_id": seeds.GCP_MULTI, "cloud": "GCP", "regions": ["us-east1"], "account_id": "crl-prod-9kd"}
    facts = resolve_cluster_facts(args, client_for(simulator))  # type: ignore[arg-type]
    assert facts.organization_id == ""
    assert paths(simulator) == []


def test_missing_facts_are_read_from_the_cloud_api(simulator: SimulatorServer) -> None:
    facts = resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI}, client_for(simulator))
    assert facts.cluster_id == seeds.AWS_MULTI
    assert facts.cloud == "AWS"
    assert facts.regions == ["eu-west-1", "us-east-1", "us-west-2"]
    assert facts.account_id == "548012347802"
    assert facts.organization_id == seeds.ORGANIZATION_ID
    assert paths(simulator) == [f"GET /api/v1/clusters/{seeds.AWS_MULTI}", "GET /api/v1/organization"]
    # Read-only calls only: fine during a preview.
    assert simulator.simulator.mutating_requests() == []


def test_only_the_missing_call_is_made(simulator: SimulatorServer) -> None:
    args = {key: value for key, value in AWS_FACTS.items() if key != "organization_id"}
    facts = resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI, **args}, client_for(simulator))  # type: ignore[typeddict-item]
    assert facts.organization_id == seeds.ORGANIZATION_ID
    assert paths(simulator) == ["GET /api/v1/organization"]


def test_a_gcp_cluster_read_from_the_api_skips_the_organization(simulator: SimulatorServer) -> None:
    facts = resolve_cluster_facts({"cluster_id": seeds.GCP_MULTI}, client_for(simulator))
    assert (facts.cloud, facts.account_id, facts.organization_id) == ("GCP", "crl-prod-9kd", "")
    assert facts.regions == ["europe-west1", "us-east1", "us-west1"]
    assert paths(simulator) == [f"GET /api/v1/clusters/{seeds.GCP_MULTI}"]


def test_regions_being_added_come_after_the_current_ones(simulator: SimulatorServer) -> None:
    facts = resolve_cluster_facts(
        {"cluster_id": seeds.AWS_MULTI, "add_regions": {"ap-south-1": 3, "us-east-1": 3, "ca-central-1": 3}},
        client_for(simulator),
    )
    assert facts.regions == ["eu-west-1", "us-east-1", "us-west-2", "ap-south-1", "ca-central-1"]


class FakeReader:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def get_cluster(self, cluster_id: str) -> Cluster:
        return self.cluster

    def get_organization(self) -> Organization:
        return Organization(id="org-1")


def test_the_primary_region_comes_first() -> None:
    cluster = Cluster(
        id=seeds.AWS_MULTI,
        cloud_provider="AWS",
        account_id="548012347802",
        regions=[ClusterRegion("eu-west-1", 3), ClusterRegion("us-west-2", 3, primary=True), ClusterRegion("us-east-1", 3)],
    )
    facts = resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI}, lambda: FakeReader(cluster))
    assert facts.regions == ["us-west-2", "eu-west-1", "us-east-1"]


def test_an_unknown_cluster_names_the_cluster_and_what_to_set(simulator: SimulatorServer) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ClusterFactsError) as raised:
        resolve_cluster_facts({"cluster_id": missing}, client_for(simulator))
    message = str(raised.value)
    assert message.startswith(f"cluster_id: could not read cluster '{missing}' from the CockroachDB Cloud API")
    assert "HTTP 404" in message
    assert "set cloud, regions and account_id (and organization_id on AWS) explicitly" in message


def test_a_missing_api_key_says_how_to_set_it(simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    with pytest.raises(ClusterFactsError) as raised:
        resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI}, client_for(simulator, api_key=None))
    assert "pulumi config set --secret cockroach:apiKey" in str(raised.value)
    assert "set cloud, regions and account_id" in str(raised.value)
    assert paths(simulator) == []


def test_a_rejected_api_key_never_appears_in_the_error(simulator: SimulatorServer) -> None:
    secret = "CCDB1_not-a-valid-key-0123456789"
    with pytest.raises(ClusterFactsError) as raised:
        resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI}, client_for(simulator, api_key=secret))
    assert "HTTP 401" in str(raised.value)
    assert secret not in str(raised.value)
    assert secret not in repr(raised.value)


def test_the_organization_call_failing_says_to_set_organization_id() -> None:
    from cmek_component.cloud_api.errors import PermissionDeniedError

    class NoOrganization(FakeReader):
        def get_organization(self) -> Organization:
            raise PermissionDeniedError("GET", "/api/v1/organization", "permission denied", http_status=403, grpc_code=7)

    cluster = Cluster(id=seeds.AWS_SINGLE, cloud_provider="AWS", account_id="548012347801", regions=[ClusterRegion("us-east-1", 3)])
    with pytest.raises(ClusterFactsError) as raised:
        resolve_cluster_facts({"cluster_id": seeds.AWS_SINGLE}, lambda: NoOrganization(cluster))
    assert str(raised.value).startswith(f"organization_id: could not read the organization of cluster '{seeds.AWS_SINGLE}'")
    assert "set organization_id explicitly" in str(raised.value)


def test_a_given_cloud_that_contradicts_the_api_is_refused(simulator: SimulatorServer) -> None:
    with pytest.raises(SpecProblems) as raised:
        resolve_cluster_facts({"cluster_id": seeds.GCP_MULTI, "cloud": "AWS"}, client_for(simulator))
    assert str(raised.value) == f"cloud: expected 'GCP' (cluster {seeds.GCP_MULTI} runs there per the Cloud API), got 'AWS'"


def test_a_cluster_without_account_id_is_refused(simulator: SimulatorServer) -> None:
    with pytest.raises(SpecProblems) as raised:
        resolve_cluster_facts({"cluster_id": seeds.BASIC}, client_for(simulator))
    assert str(raised.value).startswith("account_id: expected the cluster's account_id; the Cloud API returned none")


def test_region_spelling_is_checked_for_the_cloud() -> None:
    args = {**AWS_FACTS, "cluster_id": seeds.AWS_MULTI, "regions": ["us-east1"], "add_regions": {"uswest2": 3}}
    with pytest.raises(SpecProblems) as raised:
        resolve_cluster_facts(args, unreachable)  # type: ignore[arg-type]
    assert [p.field for p in raised.value.problems] == ["regions[0]", "add_regions.uswest2"]
    assert "did you mean 'us-east-1'?" in str(raised.value)


def test_the_default_client_reads_the_stack_config(simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    monkeypatch.delenv("COCKROACH_SERVER", raising=False)
    pulumi.runtime.set_all_config(
        {"cockroach:apiKey": SEED_API_KEY, "cockroach:apiUrl": simulator.url}, secret_keys=["cockroach:apiKey"]
    )
    try:
        facts = resolve_cluster_facts({"cluster_id": seeds.AWS_SINGLE}, default_client_factory)
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])
    assert (facts.regions, facts.account_id, facts.organization_id) == (
        ["us-east-1"],
        "548012347801",
        seeds.ORGANIZATION_ID,
    )
    assert len(paths(simulator)) == 2


def test_the_default_client_strips_the_key_and_refuses_one_with_a_line_break_inside(
    simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    monkeypatch.delenv("COCKROACH_SERVER", raising=False)
    broken = SEED_API_KEY[:4] + "\n" + SEED_API_KEY[4:]
    try:
        pulumi.runtime.set_all_config(
            {"cockroach:apiKey": SEED_API_KEY + "\n", "cockroach:apiUrl": simulator.url}, secret_keys=["cockroach:apiKey"]
        )
        facts = resolve_cluster_facts({"cluster_id": seeds.AWS_SINGLE}, default_client_factory)
        pulumi.runtime.set_all_config(
            {"cockroach:apiKey": broken, "cockroach:apiUrl": simulator.url}, secret_keys=["cockroach:apiKey"]
        )
        with pytest.raises(ClusterFactsError) as refused:
            resolve_cluster_facts({"cluster_id": seeds.AWS_MULTI}, default_client_factory)
    finally:
        pulumi.runtime.set_all_config({}, secret_keys=[])
    assert facts.account_id == "548012347801"
    message = str(refused.value)
    assert "the CockroachDB Cloud API key contains a line break (U+000A) at position 5" in message
    for text in (message, repr(refused.value)):
        assert SEED_API_KEY[4:] not in text and repr(broken)[1:-1] not in text
    assert len(paths(simulator)) == 2, "the refused key sent nothing"


def test_revoke_with_a_region_not_yet_added_is_refused_before_any_resource(simulator: SimulatorServer) -> None:
    args = {"cluster_id": seeds.AWS_MULTI, "revoke": True, "add_regions": {"us-east-2": 3}}
    with pytest.raises(SpecProblems) as raised:
        resolve_cluster_facts(args, client_for(simulator))  # type: ignore[arg-type]
    assert str(raised.value).startswith("revoke: true cannot be combined with adding regions ['us-east-2']")
    assert simulator.simulator.mutating_requests() == []


def test_revoke_with_a_region_added_earlier_is_accepted(simulator: SimulatorServer) -> None:
    # us-west-2 is already a cluster region per GET cluster: add_regions left in place is no change.
    args = {"cluster_id": seeds.AWS_MULTI, "revoke": True, "add_regions": {"us-west-2": 3}}
    facts = resolve_cluster_facts(args, client_for(simulator))  # type: ignore[arg-type]
    assert facts.regions == ["eu-west-1", "us-east-1", "us-west-2"]
