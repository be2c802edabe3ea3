"""The contract checker itself: it catches malformed responses and requests, tolerates only the
spec's one known defect, and every simulator answer passes it."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from cmek_component.simulator import SEED_API_KEY, RealClock, SimulatorSettings, seeds
from tests.support.simulator_fixtures import (
    SPEC_PATH,
    ContractChecker,
    SimApi,
    load_contract_spec,
)

CMEK_PATH = f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek"
CLUSTER_PATH = f"/api/v1/clusters/{seeds.AWS_SINGLE}"


def make_request(method: str, path: str, body: object | None = None, key: str | None = SEED_API_KEY) -> Request:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    builder = EnvironBuilder(base_url="http://127.0.0.1:1", path=path, method=method, headers=headers,
                             json=body if body is not None else None)
    return Request(builder.get_environ())


def make_response(status: int, body: object) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@pytest.fixture
def checker(cloud_api_openapi) -> ContractChecker:
    return ContractChecker(cloud_api_openapi)


def valid_cluster(simulator) -> dict:
    return simulator.simulator.cluster(seeds.AWS_SINGLE)


def test_a_malformed_cmek_response_is_caught(checker):
    bad = {"status": "HAHA", "region_infos": [{"region": "us-east-1", "key_infos": [
        {"status": "ENABLED", "created_at": "yesterday"}]}]}
    violations = checker.check(make_request("GET", CMEK_PATH), make_response(200, bad))
    text = " ".join(str(v) for v in violations)
    assert violations and all(v.kind == "response" for v in violations)
    assert "'HAHA' is not one of" in text
    assert "yesterday" in text


def test_a_cluster_missing_a_required_field_is_caught_but_not_the_known_defect(checker, simulator):
    cluster = valid_cluster(simulator)
    assert "is_customer_cloud_account" not in cluster
    assert checker.check(make_request("GET", CLUSTER_PATH), make_response(200, cluster)) == []
    del cluster["state"]
    violations = checker.check(make_request("GET", CLUSTER_PATH), make_response(200, cluster))
    assert len(violations) == 1 and "'state' is a required property" in violations[0].detail


def test_error_bodies_must_have_the_status_shape_and_a_fitting_code(checker):
    request = make_request("GET", CMEK_PATH)
    assert checker.check(request, make_response(404, {"code": 5, "message": "not found: x", "details": []})) == []
    wrong_code = checker.check(request, make_response(404, {"code": 3, "message": "x", "details": []}))
    assert ["gRPC code 3 does not fit HTTP 404" in v.detail for v in wrong_code] == [True]
    no_code = checker.check(request, make_response(400, {"message": "bad"}))
    assert {v.detail for v in no_code} >= {"Status.code must be an integer, got None",
                                            "Status.details must be a list, got None"}
    # Undocumented statuses fall back to the spec's default response (Status) as well.
    assert checker.check(request, make_response(503, {"code": "14"}))


def test_malformed_requests_are_caught(checker):
    ok = make_response(200, {"status": "ENABLING", "region_infos": []})
    missing = checker.check(make_request("POST", CMEK_PATH, {}), ok)
    assert [v.kind for v in missing] == ["request"]
    bad_enum = checker.check(make_request("PATCH", CMEK_PATH, {"action": "DISABLE"}), ok)
    assert "'DISABLE' is not one of ['REVOKE']" in bad_enum[0].detail
    no_key = checker.check(make_request("GET", CMEK_PATH, key=None), ok)
    assert len(no_key) == 1 and "SecurityValidationError" in no_key[0].detail


def test_a_malformed_simulator_response_fails_through_the_fixture(simulator, contract, monkeypatch):
    monkeypatch.setattr(simulator.simulator.world, "get_cmek", lambda _id: {"status": "ALMOST"})
    with contract.expect_response_violation():
        response = SimApi(simulator).cmek(seeds.AWS_SINGLE)
    assert response.status_code == 200
    assert any("ALMOST" in v.detail for v in contract.expected)
    assert contract.violations == []


def test_expecting_a_violation_that_does_not_happen_fails(simulator, contract):
    with pytest.raises(AssertionError, match="flagged none"), contract.expect_request_violation():
        SimApi(simulator).organization()


def test_the_spec_patch_is_targeted(tmp_path: Path):
    original = json.loads(SPEC_PATH.read_text())
    patched = load_contract_spec()
    required_before = original["components"]["schemas"]["Cluster"]["required"]
    required_after = patched["components"]["schemas"]["Cluster"]["required"]
    assert set(required_before) - set(required_after) == {"is_customer_cloud_account"}
    assert len(required_after) == len(required_before) - 1
    expected = copy.deepcopy(original)
    expected["components"]["schemas"]["Cluster"]["required"] = required_after
    expected["servers"].append({"url": "/"})
    assert patched == expected  # nothing else changed

    fixed = copy.deepcopy(original)
    fixed["components"]["schemas"]["Cluster"]["required"] = required_after
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(fixed))
    with pytest.raises(AssertionError, match="remove the tolerance"):
        load_contract_spec(path)


def test_the_vendored_spec_is_the_2024_09_16_api():
    spec = json.loads(SPEC_PATH.read_text())
    assert spec["info"]["version"] == "2024-09-16"
    assert "/api/v1/clusters/{cluster_id}/cmek" in spec["paths"]


def test_clusters_with_is_customer_cloud_account_also_conform(sim_factory):
    server = sim_factory(SimulatorSettings(include_is_customer_cloud_account=True, rate_limit_per_second=None))
    clusters = SimApi(server).clusters().json()["clusters"]
    assert all(c["is_customer_cloud_account"] is False for c in clusters)


def test_a_whole_lifecycle_conforms(simulator, contract):
    api = SimApi(simulator)
    api.organization()
    api.clusters()
    for cluster_id in seeds.ELIGIBLE_CLUSTERS:
        api.enable(cluster_id, seeds.region_specs(cluster_id))
    simulator.simulator.advance(30)
    api.rotate(seeds.GCP_MULTI, seeds.region_specs(seeds.GCP_MULTI, 2, ["us-west1"]))
    api.add_regions(seeds.AWS_MULTI, {"eu-west-1": 3, "us-east-1": 3, "us-west-2": 3, "ap-south-1": 3},
                    seeds.region_specs(seeds.AWS_MULTI, regions=["ap-south-1"]))
    api.revoke(seeds.AWS_SINGLE)
    simulator.simulator.advance(60)
    for cluster_id in seeds.ELIGIBLE_CLUSTERS:
        assert api.cmek(cluster_id).status_code == 200
        assert api.cluster(cluster_id).status_code == 200
    assert contract.checked == 2 + 4 + 3 + 8
    assert contract.violations == []


def test_concurrent_enables_of_one_cluster_succeed_exactly_once(simulator):
    specs = seeds.region_specs(seeds.GCP_MULTI)
    statuses: list[int] = []
    lock = threading.Lock()

    def enable() -> None:
        status = SimApi(simulator).enable(seeds.GCP_MULTI, specs).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=enable) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200] + [400] * 11
    cmek = simulator.simulator.cmek(seeds.GCP_MULTI)
    assert all(len(r["key_infos"]) == 1 for r in cmek["region_infos"])


def test_realtime_simulator_runs_on_real_time_with_short_delays(realtime_simulator):
    api = SimApi(realtime_simulator)
    assert isinstance(realtime_simulator.simulator.clock, RealClock)
    assert realtime_simulator.simulator.settings.enable_seconds == 0.2
    assert api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)).json()["status"] == "ENABLING"
    realtime_simulator.simulator.advance(0.2)  # skip ahead rather than sleep
    assert api.cmek(seeds.AWS_SINGLE).json()["status"] == "ENABLED"
