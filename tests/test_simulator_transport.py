"""Simulator transport behaviour: auth, roles, Cc-Version, rate limit, error bodies, body
decoding, the request record and injected faults (contract notes T1-T11)."""

from __future__ import annotations

import json
import re

import pytest
import requests

from cmek_component.simulator import (
    DEVELOPER_API_KEY,
    OPERATOR_API_KEY,
    SEED_API_KEY,
    ManualClock,
    SimulatorSettings,
    seeds,
)
from tests.support.simulator_fixtures import SimApi

RFC3339_FRACTIONAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")


def test_missing_bearer_key_is_401_with_status_body(simulator, contract):
    api = SimApi(simulator, api_key=None)
    with contract.expect_request_violation():  # the spec requires the Bearer scheme
        response = api.cluster(seeds.AWS_SINGLE)
    assert response.status_code == 401
    assert response.json() == {"code": 16, "message": "unauthenticated: missing bearer token", "details": []}


def test_unknown_key_is_401_and_the_key_never_echoed(simulator):
    response = SimApi(simulator, api_key="not-a-real-key-123").cmek(seeds.AWS_SINGLE)
    assert response.status_code == 401
    assert response.json()["code"] == 16
    assert "not-a-real-key-123" not in response.text


def test_developer_role_reads_clusters_but_not_cmek(simulator):
    api = SimApi(simulator, api_key=DEVELOPER_API_KEY)
    assert api.cluster(seeds.AWS_SINGLE).status_code == 200
    response = api.cmek(seeds.AWS_SINGLE)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == 7
    assert body["message"].startswith("permission denied: CockroachCloud_GetCMEKClusterInfo needs role")
    assert "CLUSTER_DEVELOPER" in body["message"]
    assert api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)).status_code == 403


def test_operator_writer_role_may_enable_cmek(simulator):
    response = SimApi(simulator, api_key=OPERATOR_API_KEY).enable(
        seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)
    )
    assert response.status_code == 200


def test_custom_api_keys_and_roles(sim_factory):
    server = sim_factory(SimulatorSettings(api_keys={"monitor-key": "CLUSTER_MONITOR"}, rate_limit_per_second=None))
    assert SimApi(server, api_key=SEED_API_KEY).organization().status_code == 401
    monitor = SimApi(server, api_key="monitor-key")
    assert monitor.organization().status_code == 200  # every key is an ORG_MEMBER
    assert monitor.clusters().status_code == 200
    assert monitor.update_cluster(seeds.AWS_SINGLE, {"labels": {"a": "b"}}).status_code == 403


def test_unknown_cc_version_is_400_invalid_cc_version(simulator):
    response = SimApi(simulator, version="2019-01-01").organization()
    assert response.status_code == 400
    assert response.json() == {"code": 3, "message": "invalid Cc-Version.", "details": []}


def test_missing_cc_version_means_latest_and_older_dates_are_accepted(simulator):
    assert SimApi(simulator, version=None).organization().status_code == 200
    assert SimApi(simulator, version="2022-03-31").organization().status_code == 200


def test_rate_limit_refuses_the_eleventh_request_in_a_second(sim_factory):
    server = sim_factory(SimulatorSettings())  # 10 requests per second per key, on the manual clock
    api = SimApi(server)
    statuses = [api.organization().status_code for _ in range(10)]
    assert statuses == [200] * 10
    refused = api.organization()
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.json() == {"code": 8, "message": "rate limit exceeded", "details": []}
    # Another key has its own bucket.
    assert SimApi(server, api_key=OPERATOR_API_KEY).organization().status_code == 200
    server.simulator.advance(0.1)  # one token back
    assert api.organization().status_code == 200
    assert api.organization().status_code == 429


def test_rate_limit_status_is_configurable_and_the_limit_can_be_disabled(sim_factory):
    server = sim_factory(SimulatorSettings(rate_limit_per_second=2, rate_limit_status=503))
    api = SimApi(server)
    assert [api.organization().status_code for _ in range(3)] == [200, 200, 503]
    last = api.organization()
    assert last.headers["Retry-After"] == "1"
    assert "rate limit exceeded" in last.json()["message"]

    unlimited = SimApi(sim_factory(SimulatorSettings(rate_limit_per_second=None)))
    assert {unlimited.organization().status_code for _ in range(25)} == {200}


def test_unknown_cluster_is_404_on_cluster_and_cmek_paths(simulator):
    api = SimApi(simulator)
    for response in (api.cluster("0000"), api.cmek("0000"), api.enable("0000", seeds.region_specs(seeds.AWS_SINGLE))):
        assert response.status_code == 404
        assert response.json() == {"code": 5, "message": "not found: cluster 0000 not found", "details": []}


def test_unknown_path_is_404_and_unserved_method_is_501(simulator, contract):
    api = SimApi(simulator)
    with contract.expect_request_violation():
        response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == 5
    response = api.request("DELETE", f"/api/v1/clusters/{seeds.AWS_SINGLE}")
    assert response.status_code == 501
    assert response.json()["code"] == 12


def test_malformed_json_is_a_protojson_syntax_error(simulator, contract):
    api = SimApi(simulator)
    with contract.expect_request_violation():
        response = api.request(
            "POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", data='{"region_specs": [', headers={
                "Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["message"].startswith("proto: syntax error (line 1:")


def test_unknown_enum_value_is_rejected_like_protojson(simulator, contract):
    body = '{"region_specs": [{"region": "us-east-1", "key_spec": {"type": "HAHA"}}]}'
    with contract.expect_request_violation():
        response = SimApi(simulator).request(
            "POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", data=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    column = body.index('"HAHA"') + 1
    assert response.json() == {
        "code": 3,
        "message": f'proto: (line 1:{column}): invalid value for enum type: "HAHA"',
        "details": [],
    }
    with contract.expect_request_violation():
        response = SimApi(simulator).request(
            "PATCH", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", json={"action": "DISABLE"}
        )
    assert response.json()["message"] == 'proto: (line 1:12): invalid value for enum type: "DISABLE"'


def test_unknown_fields_ignored_by_default_and_rejected_when_configured(sim_factory):
    specs = seeds.region_specs(seeds.AWS_SINGLE)
    lenient = SimApi(sim_factory(SimulatorSettings(rate_limit_per_second=None)))
    response = lenient.request(
        "POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", json={"region_specs": specs, "dry_run": True}
    )
    assert response.status_code == 200

    strict = SimApi(sim_factory(SimulatorSettings(unknown_fields="reject", rate_limit_per_second=None)))
    response = strict.request(
        "POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", json={"region_specs": specs, "dry_run": True}
    )
    assert response.status_code == 400
    assert re.fullmatch(r'proto: \(line 1:\d+\): unknown field "dry_run"', response.json()["message"])


def test_lower_camel_case_field_names_are_accepted(simulator, contract):
    key = seeds.key_spec("AWS", "us-east-1")
    body = {"regionSpecs": [{"region": "us-east-1", "keySpec": {
        "type": key["type"], "uri": key["uri"], "authPrincipal": key["auth_principal"]}}]}
    with contract.expect_request_violation():  # the spec itself only knows snake_case
        response = SimApi(simulator).request("POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", json=body)
    assert response.status_code == 200, response.text
    assert simulator.simulator.cmek(seeds.AWS_SINGLE)["region_infos"][0]["key_infos"][0]["spec"] == key


def test_timestamps_are_rfc3339_with_fractional_seconds(simulator):
    api = SimApi(simulator)
    body = api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)).json()
    key = body["region_infos"][0]["key_infos"][0]
    assert RFC3339_FRACTIONAL.match(key["created_at"]) and RFC3339_FRACTIONAL.match(key["updated_at"])
    cluster = api.cluster(seeds.AWS_SINGLE).json()
    assert RFC3339_FRACTIONAL.match(cluster["created_at"])
    assert RFC3339_FRACTIONAL.match(api.organization().json()["created_at"])


def test_every_request_is_recorded_without_the_key(simulator):
    api = SimApi(simulator)
    specs = seeds.region_specs(seeds.AWS_SINGLE)
    api.cluster(seeds.AWS_SINGLE)
    api.enable(seeds.AWS_SINGLE, specs)
    SimApi(simulator, api_key="wrong-key-456").cmek(seeds.AWS_SINGLE)
    records = simulator.simulator.requests
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", f"/api/v1/clusters/{seeds.AWS_SINGLE}", 200),
        ("POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", 200),
        ("GET", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", 401),
    ]
    post = records[1]
    assert post.body == {"region_specs": specs}
    assert post.headers["Authorization"] == "Bearer <redacted>"
    assert post.headers["Cc-Version"] == "2024-09-16"
    assert post.response_body["status"] == "ENABLING"
    assert post.role == "CLUSTER_ADMIN"
    assert [r.method for r in simulator.simulator.mutating_requests()] == ["POST"]
    dumped = json.dumps([r.to_json() for r in records])
    assert SEED_API_KEY not in dumped and "wrong-key-456" not in dumped
    # The same record over the admin endpoint, which is not itself recorded.
    admin = requests.get(f"{simulator.url}/_simulator/requests", timeout=10).json()["requests"]
    assert [r["status"] for r in admin] == [200, 200, 401]
    assert SEED_API_KEY not in json.dumps(admin)
    assert len(simulator.simulator.requests) == 3


def test_injected_429_carries_retry_after_and_fires_count_times(simulator):
    api = SimApi(simulator)
    simulator.simulator.inject_fault("GET", "/cmek", "429", count=2, retry_after=7)
    simulator.simulator.enable_out_of_band(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    first, second, third = (api.cmek(seeds.AWS_SINGLE) for _ in range(3))
    assert (first.status_code, first.headers["Retry-After"]) == (429, "7")
    assert first.json() == {"code": 8, "message": "rate limit exceeded", "details": []}
    assert second.status_code == 429
    assert third.status_code == 200
    assert api.cluster(seeds.AWS_SINGLE).status_code == 200  # other paths unaffected
    assert [r.fault for r in simulator.simulator.requests] == ["429", "429", None, None]


@pytest.mark.parametrize(("kind", "code"), [("500", 13), ("503", 14)])
def test_injected_server_errors_use_status_bodies(simulator, kind, code):
    simulator.simulator.inject_fault("*", f"/clusters/{seeds.GCP_SINGLE}", kind)
    response = SimApi(simulator).cluster(seeds.GCP_SINGLE)
    assert response.status_code == int(kind)
    assert response.json()["code"] == code
    assert SimApi(simulator).cluster(seeds.GCP_SINGLE).status_code == 200


def test_injected_gateway_error_can_have_a_raw_body(simulator):
    simulator.simulator.inject_fault("GET", "/organization", "502", body="<html>Bad Gateway</html>")
    response = SimApi(simulator).organization()
    assert (response.status_code, response.text) == (502, "<html>Bad Gateway</html>")


def test_dropped_connection_gives_the_client_a_connection_error_and_state_is_untouched(simulator):
    simulator.simulator.inject_fault("POST", "/cmek", "drop")
    with pytest.raises(requests.ConnectionError):
        SimApi(simulator).enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    assert simulator.simulator.cmek(seeds.AWS_SINGLE) is None
    record = simulator.simulator.requests[-1]
    assert (record.status, record.fault) == (None, "drop")
    assert SimApi(simulator).enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)).status_code == 200


def test_drop_after_processing_loses_the_answer_but_not_the_effect(simulator):
    simulator.simulator.inject_fault("POST", "/cmek", "drop", after_processing=True)
    with pytest.raises(requests.ConnectionError):
        SimApi(simulator).enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    assert simulator.simulator.cmek(seeds.AWS_SINGLE)["status"] == "ENABLING"
    record = simulator.simulator.requests[-1]
    assert (record.status, record.fault) == (200, "drop")
    # A blind retry of the POST now meets "already enabled".
    assert SimApi(simulator).enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)).status_code == 400


def test_slow_fault_delays_then_serves_normally(sim_factory):
    delays: list[float] = []
    server = sim_factory(SimulatorSettings(rate_limit_per_second=None), ManualClock(), sleep=delays.append)
    server.simulator.inject_fault("PUT", "/cmek", "slow", seconds=45)
    server.simulator.enable_out_of_band(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    server.simulator.advance(30)
    response = SimApi(server).rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, generation=2))
    assert response.status_code == 200
    assert response.json()["status"] == "ROTATING"
    assert delays == [45.0]


def test_fault_options_are_checked(simulator):
    with pytest.raises(ValueError, match="kind: expected one of"):
        simulator.simulator.inject_fault("GET", "/cmek", "418")
    with pytest.raises(ValueError, match="seconds"):
        simulator.simulator.inject_fault("GET", "/cmek", "slow")


def test_admin_endpoints_inject_faults_advance_and_reset(simulator):
    base = f"{simulator.url}/_simulator"
    api = SimApi(simulator)
    assert requests.post(f"{base}/faults", json={"method": "GET", "path_suffix": "/organization", "kind": "503"},
                         timeout=10).status_code == 200
    assert api.organization().status_code == 503
    api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    before = requests.get(base, timeout=10).json()["now"]
    after = requests.post(f"{base}/advance?seconds=30", timeout=10).json()["now"]
    assert before < after
    assert api.cmek(seeds.AWS_SINGLE).json()["status"] == "ENABLED"
    assert requests.post(f"{base}/reset", timeout=10).status_code == 200
    assert api.cmek(seeds.AWS_SINGLE).status_code == 404
    assert len(simulator.simulator.requests) == 1
    bad = requests.post(f"{base}/faults", json={"kind": "nope"}, timeout=10)
    assert bad.status_code == 400 and "kind" in bad.json()["error"]


def test_admin_endpoints_mark_keys_and_lock_clusters(simulator):
    base = f"{simulator.url}/_simulator"
    api = SimApi(simulator)
    specs = seeds.region_specs(seeds.AWS_SINGLE)
    requests.post(f"{base}/keys", json={"uri": specs[0]["key_spec"]["uri"], "mode": "400"}, timeout=10)
    assert api.enable(seeds.AWS_SINGLE, specs).status_code == 400
    requests.post(f"{base}/keys", json={"uri": specs[0]["key_spec"]["uri"], "mode": "reachable"}, timeout=10)
    locked = requests.post(f"{base}/clusters/{seeds.AWS_SINGLE}/state", json={"seconds": 20}, timeout=10)
    assert locked.json()["state"] == "LOCKED"
    assert api.enable(seeds.AWS_SINGLE, specs).status_code == 503
    requests.post(f"{base}/advance", json={"seconds": 20}, timeout=10)
    assert api.enable(seeds.AWS_SINGLE, specs).status_code == 200
