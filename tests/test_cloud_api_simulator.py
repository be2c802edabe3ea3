"""Every CloudApiClient operation against the Cloud API simulator, over a real socket.

The ``simulator`` fixture validates each request and response against the vendored OpenAPI
document, so these tests also prove the client sends what the API declares. The client's sleep
and clock are the simulator's: a backoff or rate-limit wait advances simulated time instead of
spending real time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.cloud_api.errors import (
    ConflictError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnauthenticatedError,
    UnavailableError,
)
from cmek_component.cloud_api.models import CmekInfo
from cmek_component.manifest.region_specs import RegionSpec
from cmek_component.simulator import (
    DEVELOPER_API_KEY,
    SEED_API_KEY,
    SimulatorServer,
    SimulatorSettings,
    seeds,
)


class SimulatedTime:
    """The client's sleep and clock, tied to the simulator's clock; sleeps are recorded."""

    def __init__(self, server: SimulatorServer) -> None:
        self.simulator = server.simulator
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.simulator.advance(seconds)

    def clock(self) -> float:
        return self.simulator.clock.now()


def client_for(server: SimulatorServer, api_key: str = SEED_API_KEY, **kw: Any) -> tuple[CloudApiClient, SimulatedTime]:
    time = SimulatedTime(server)
    return CloudApiClient(api_key, server.url, sleep=time.sleep, clock=time.clock, **kw), time


def specs(cluster_id: str, generation: int = 1, regions: list[str] | None = None) -> list[RegionSpec]:
    return [RegionSpec.from_api(item) for item in seeds.region_specs(cluster_id, generation, regions)]


def last(server: SimulatorServer, method: str) -> Any:
    return [r for r in server.simulator.requests if r.method == method][-1]


# --------------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------------


def test_get_organization(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    org = client.get_organization()
    assert (org.id, org.name, org.label) == (seeds.ORGANIZATION_ID, seeds.ORGANIZATION_NAME, seeds.ORGANIZATION_LABEL)
    assert org.to_api() == last(simulator, "GET").response_body


def test_get_cluster_reads_what_the_component_needs(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    cluster = client.get_cluster(seeds.AWS_MULTI)
    assert (cluster.id, cluster.cloud_provider, cluster.plan, cluster.network_visibility, cluster.state) == (
        seeds.AWS_MULTI, "AWS", "ADVANCED", "PRIVATE", "CREATED")
    assert len(cluster.account_id) == 12 and cluster.account_id.isdigit()
    assert cluster.region_nodes == {"eu-west-1": 3, "us-east-1": 3, "us-west-2": 3}
    assert cluster.to_api() == last(simulator, "GET").response_body
    gcp = client.get_cluster(seeds.GCP_SINGLE)
    assert (gcp.cloud_provider, gcp.account_id, gcp.region_nodes) == ("GCP", "crl-prod-7qx", {"us-east1": 3})


def test_get_unknown_cluster_is_not_found(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    missing = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(NotFoundError) as caught:
        client.get_cluster(missing)
    assert str(caught.value).startswith(f"GET /api/v1/clusters/{missing}: HTTP 404 (not found): not found: ")
    assert caught.value.grpc_code == 5


def test_list_clusters_returns_every_seeded_cluster(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    ids = {cluster.id for cluster in client.list_clusters()}
    assert ids == {seed.id for seed in seeds.CLUSTERS}


def test_get_cmek_before_enable_is_none_when_the_api_answers_404(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    assert client.get_cmek(seeds.AWS_SINGLE) is None
    assert last(simulator, "GET").status == 404


def test_get_cmek_before_enable_is_none_when_the_api_answers_disabled(
    sim_factory: Callable[..., SimulatorServer],
) -> None:
    server = sim_factory(settings=SimulatorSettings(cmek_absent="DISABLED"))
    client, _ = client_for(server)
    assert client.get_cmek(seeds.AWS_SINGLE) is None
    assert last(server, "GET").status == 200


# --------------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------------


def test_enable_cmek_posts_region_specs_and_converges(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    info = client.enable_cmek(seeds.AWS_MULTI, specs(seeds.AWS_MULTI))
    assert isinstance(info, CmekInfo) and info.status == "ENABLING"
    post = last(simulator, "POST")
    assert post.path == f"/api/v1/clusters/{seeds.AWS_MULTI}/cmek"
    assert post.body == {"region_specs": seeds.region_specs(seeds.AWS_MULTI)}
    simulator.simulator.advance(30)
    after = client.get_cmek(seeds.AWS_MULTI)
    assert after is not None and after.status == "ENABLED"
    for spec in specs(seeds.AWS_MULTI):
        region = after.region(spec.region)
        assert region is not None and region.current_key is not None
        assert (region.status, region.current_key.spec) == ("ENABLED", spec.key_spec)


def test_update_cmek_puts_only_the_listed_regions(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    client.enable_cmek(seeds.GCP_MULTI, specs(seeds.GCP_MULTI))
    simulator.simulator.advance(30)
    rotated = specs(seeds.GCP_MULTI, generation=2, regions=["us-west1"])
    info = client.update_cmek(seeds.GCP_MULTI, rotated)
    assert last(simulator, "PUT").body == {"region_specs": seeds.region_specs(seeds.GCP_MULTI, 2, ["us-west1"])}
    region = info.region("us-west1")
    assert region is not None and region.status == "ROTATING"
    simulator.simulator.advance(30)
    after = client.get_cmek(seeds.GCP_MULTI)
    assert after is not None
    west = after.region("us-west1")
    assert west is not None and west.current_key is not None
    assert west.current_key.spec == rotated[0].key_spec
    assert len(west.key_infos) == 2, "the previous key stays in the history"
    east = after.region("us-east1")
    assert east is not None and east.current_key is not None
    assert east.current_key.spec == specs(seeds.GCP_MULTI, regions=["us-east1"])[0].key_spec


def test_revoke_cmek_patches_the_revoke_action(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    simulator.simulator.advance(30)
    info = client.revoke_cmek(seeds.AWS_SINGLE)
    patch = last(simulator, "PATCH")
    assert (patch.path, patch.body) == (f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", {"action": "REVOKE"})
    assert info.status == "REVOKING"
    simulator.simulator.advance(10)
    after = client.get_cmek(seeds.AWS_SINGLE)
    assert after is not None and after.status == "REVOKED"


def test_add_regions_patches_the_complete_region_map_and_new_specs_only(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    simulator.simulator.advance(30)
    nodes = {**client.get_cluster(seeds.AWS_SINGLE).region_nodes, "us-west-2": 3}
    new = [RegionSpec.from_api({"region": "us-west-2", "key_spec": seeds.key_spec("AWS", "us-west-2")})]
    cluster = client.add_regions(seeds.AWS_SINGLE, nodes, new)
    patch = last(simulator, "PATCH")
    assert (patch.path, patch.body) == (
        f"/api/v1/clusters/{seeds.AWS_SINGLE}",
        {"dedicated": {"region_nodes": {"us-east-1": 3, "us-west-2": 3},
                       "cmek_region_specs": [{"region": "us-west-2", "key_spec": seeds.key_spec("AWS", "us-west-2")}]}},
    )
    assert cluster.id == seeds.AWS_SINGLE
    simulator.simulator.advance(60)
    assert client.get_cluster(seeds.AWS_SINGLE).region_nodes == {"us-east-1": 3, "us-west-2": 3}
    after = client.get_cmek(seeds.AWS_SINGLE)
    assert after is not None
    west = after.region("us-west-2")
    assert west is not None and west.status == "ENABLED"


# --------------------------------------------------------------------------------------------
# Errors the simulator produces
# --------------------------------------------------------------------------------------------


def test_enable_twice_is_an_invalid_argument(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    simulator.simulator.advance(30)
    with pytest.raises(InvalidArgumentError) as caught:
        client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    assert str(caught.value).startswith(f"POST /api/v1/clusters/{seeds.AWS_SINGLE}/cmek: HTTP 400 (failed precondition): ")


def test_unreachable_key_is_reported_with_the_api_message(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    spec = specs(seeds.AWS_SINGLE)
    simulator.simulator.mark_key_unreachable(spec[0].key_spec.uri)
    with pytest.raises(InvalidArgumentError, match="insufficient permissions to access the KMS key") as caught:
        client.enable_cmek(seeds.AWS_SINGLE, spec)
    assert caught.value.message.startswith("invalid argument: ")
    assert len(simulator.simulator.mutating_requests()) == 1


def test_busy_cluster_is_a_conflict(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    with pytest.raises(ConflictError):
        client.update_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE, generation=2))


def test_locked_cluster_is_unavailable_and_the_post_is_not_resent(simulator: SimulatorServer) -> None:
    client, _ = client_for(simulator)
    with pytest.raises(UnavailableError):
        client.enable_cmek(seeds.LOCKED, specs(seeds.LOCKED))
    assert len(simulator.simulator.mutating_requests()) == 1


def test_wrong_key_and_missing_role(simulator: SimulatorServer) -> None:
    with pytest.raises(UnauthenticatedError):
        client_for(simulator, api_key="not-a-simulator-key")[0].get_organization()
    with pytest.raises(PermissionDeniedError):
        client_for(simulator, api_key=DEVELOPER_API_KEY)[0].get_cmek(seeds.AWS_SINGLE)


# --------------------------------------------------------------------------------------------
# Retries through the simulator's fault injection
# --------------------------------------------------------------------------------------------


def test_get_survives_503s_and_a_dropped_connection(simulator: SimulatorServer) -> None:
    client, time = client_for(simulator)
    simulator.simulator.inject_fault("GET", f"{seeds.AWS_SINGLE}", "503", count=2)
    simulator.simulator.inject_fault("GET", f"{seeds.AWS_SINGLE}", "drop")
    assert client.get_cluster(seeds.AWS_SINGLE).id == seeds.AWS_SINGLE
    assert len(time.sleeps) == 3
    assert len([r for r in simulator.simulator.requests if r.method == "GET"]) >= 3


def test_put_is_retried_after_a_503_but_not_after_a_500(simulator: SimulatorServer) -> None:
    client, time = client_for(simulator)
    client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    simulator.simulator.advance(30)
    simulator.simulator.inject_fault("PUT", "/cmek", "503")
    info = client.update_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE, generation=2))
    assert info.status == "ROTATING"
    assert [r.status for r in simulator.simulator.requests if r.method == "PUT"] == [503, 200]
    assert len(time.sleeps) == 1
    simulator.simulator.advance(60)
    simulator.simulator.inject_fault("PUT", "/cmek", "500")  # the rotation may have been applied: not resent
    with pytest.raises(ServerError):
        client.update_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE, generation=3))
    assert [r.status for r in simulator.simulator.requests if r.method == "PUT"] == [503, 200, 500]
    assert len(time.sleeps) == 1


def test_post_500_is_not_retried(simulator: SimulatorServer) -> None:
    client, time = client_for(simulator)
    simulator.simulator.inject_fault("POST", "/cmek", "500")
    with pytest.raises(ServerError):
        client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    assert [r.status for r in simulator.simulator.mutating_requests()] == [500]
    assert time.sleeps == []


def test_retry_after_from_the_simulator_is_slept_exactly(simulator: SimulatorServer) -> None:
    client, time = client_for(simulator)
    simulator.simulator.inject_fault("GET", "/organization", "429", retry_after=3)
    client.get_organization()
    assert time.sleeps == [3.0]


def test_rate_limit_answered_with_400_is_recognised_and_waited_out(
    sim_factory: Callable[..., SimulatorServer],
) -> None:
    server = sim_factory(settings=SimulatorSettings(rate_limit_status=400))
    # The client's own limit is set far above the simulator's so the simulator's limit trips.
    client, time = client_for(server, requests_per_second=1000)
    for _ in range(12):
        client.get_cluster(seeds.AWS_SINGLE)
    limited = [r for r in server.simulator.requests if r.status == 400]
    assert limited, "the simulator refused some requests"
    assert time.sleeps and all(s >= 1 for s in time.sleeps)


def test_rate_limit_answer_to_a_post_is_reported_not_resent(sim_factory: Callable[..., SimulatorServer]) -> None:
    server = sim_factory(settings=SimulatorSettings(rate_limit_status=400))
    client, time = client_for(server, requests_per_second=1000)
    for _ in range(10):  # the simulator's whole burst, without simulated time passing
        client.get_organization()
    with pytest.raises(RateLimitedError) as caught:
        client.enable_cmek(seeds.AWS_SINGLE, specs(seeds.AWS_SINGLE))
    assert caught.value.http_status == 400 and caught.value.retry_after is not None
    assert len(server.simulator.mutating_requests()) == 1 and time.sleeps == []


def test_client_limit_keeps_the_simulator_from_refusing(sim_factory: Callable[..., SimulatorServer]) -> None:
    server = sim_factory(settings=SimulatorSettings())  # the simulator enforces 10 per second
    client, time = client_for(server)  # and so does the client, on the same simulated time
    for _ in range(25):
        client.get_cluster(seeds.AWS_SINGLE)
    assert [r.status for r in server.simulator.requests] == [200] * 25
    assert sum(time.sleeps) >= 2.0
