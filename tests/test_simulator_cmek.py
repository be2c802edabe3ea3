"""Simulator CMEK endpoints: enable, validation, prerequisites, rotation, revoke, KMS access and
the asynchronous state machine on a manual clock (contract notes K1-K24)."""

from __future__ import annotations

import pytest

from cmek_component.simulator import SimulatorSettings, seeds
from tests.support.simulator_fixtures import SimApi


def settings(**overrides):
    return SimulatorSettings(rate_limit_per_second=None, **overrides)


def statuses(cmek: dict) -> tuple[str, dict[str, str]]:
    return cmek["status"], {r["region"]: r["status"] for r in cmek["region_infos"]}


def key_statuses(cmek: dict, region: str) -> list[tuple[str, str]]:
    info = next(r for r in cmek["region_infos"] if r["region"] == region)
    return [(k["spec"]["uri"], k["status"]) for k in info["key_infos"]]


def enable_and_settle(server, cluster_id: str) -> None:
    assert SimApi(server).enable(cluster_id, seeds.region_specs(cluster_id)).status_code == 200
    server.simulator.advance(server.simulator.settings.enable_seconds)


# --- enable ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cluster_id", [seeds.AWS_MULTI, seeds.GCP_MULTI])
def test_enable_goes_enabling_then_enabled_after_the_delay(simulator, cluster_id):
    api = SimApi(simulator)
    specs = seeds.region_specs(cluster_id)
    response = api.enable(cluster_id, specs)
    assert response.status_code == 200
    body = response.json()
    regions = sorted(s["region"] for s in specs)
    assert statuses(body) == ("ENABLING", dict.fromkeys(regions, "ENABLING"))
    assert [r["region"] for r in body["region_infos"]] == regions  # sorted by name
    assert [r["key_infos"][0]["spec"] for r in body["region_infos"]] == [
        s["key_spec"] for s in sorted(specs, key=lambda s: s["region"])
    ]
    assert api.cluster(cluster_id).json()["operation_status"] == "CRDB_CMEK_OPERATION_RUNNING"
    assert api.cluster(cluster_id).json()["state"] == "CREATED"

    simulator.simulator.advance(29.9)
    assert api.cmek(cluster_id).json()["status"] == "ENABLING"
    simulator.simulator.advance(0.1)
    body = api.cmek(cluster_id).json()
    assert statuses(body) == ("ENABLED", dict.fromkeys(regions, "ENABLED"))
    key = body["region_infos"][0]["key_infos"][0]
    assert key["status"] == "ENABLED"
    assert key["updated_at"] > key["created_at"]
    assert api.cluster(cluster_id).json()["operation_status"] == "UNSPECIFIED"


def test_enable_delay_is_a_setting_and_zero_means_done_by_the_next_request(sim_factory):
    server = sim_factory(settings(enable_seconds=0))
    api = SimApi(server)
    assert api.enable(seeds.GCP_SINGLE, seeds.region_specs(seeds.GCP_SINGLE)).json()["status"] == "ENABLING"
    assert api.cmek(seeds.GCP_SINGLE).json()["status"] == "ENABLED"


def test_get_cmek_before_enable_is_404_by_default(simulator):
    response = SimApi(simulator).cmek(seeds.AWS_SINGLE)
    assert response.status_code == 404
    assert response.json()["code"] == 5
    assert response.json()["message"].startswith("not found: ")


def test_get_cmek_before_enable_can_answer_disabled(sim_factory):
    response = SimApi(sim_factory(settings(cmek_absent="DISABLED"))).cmek(seeds.AWS_SINGLE)
    assert response.status_code == 200
    assert response.json() == {"status": "DISABLED", "region_infos": []}


def test_enable_must_cover_every_region_exactly_once(simulator):
    api = SimApi(simulator)
    partial = seeds.region_specs(seeds.AWS_MULTI, regions=["us-east-1", "us-west-2"])
    response = api.enable(seeds.AWS_MULTI, partial)
    assert response.status_code == 400
    assert response.json()["code"] == 3
    assert "missing a spec for cluster region(s) eu-west-1" in response.json()["message"]
    assert simulator.simulator.cmek(seeds.AWS_MULTI) is None  # nothing enabled

    duplicate = seeds.region_specs(seeds.AWS_MULTI) + seeds.region_specs(seeds.AWS_MULTI, regions=["us-east-1"])
    message = api.enable(seeds.AWS_MULTI, duplicate).json()["message"]
    assert "region_specs[3].region: regions must be unique; 'us-east-1' is given more than once" in message

    unknown = seeds.region_specs(seeds.AWS_MULTI) + seeds.region_specs(seeds.AWS_MULTI, regions=["ap-south-1"])
    message = api.enable(seeds.AWS_MULTI, unknown).json()["message"]
    assert "region_specs[3].region: expected a region of cluster" in message and "got 'ap-south-1'" in message


def test_enable_with_empty_or_missing_region_specs_is_400(simulator, contract):
    api = SimApi(simulator)
    response = api.enable(seeds.AWS_SINGLE, [])
    assert response.status_code == 400
    assert "region_specs: expected at least one region spec" in response.json()["message"]
    with contract.expect_request_violation():  # region_specs is required by the spec
        response = api.request("POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", json={})
    assert response.status_code == 400


def test_region_spelled_for_the_other_cloud_gets_the_services_hint(simulator):
    specs = [{"region": "us-east-1", "key_spec": seeds.key_spec("GCP", "us-east1")}]
    message = SimApi(simulator).enable(seeds.GCP_SINGLE, specs).json()["message"]
    assert message.startswith("invalid argument: region_specs[0].region: invalid region name 'us-east-1' for GCP. "
                              "Did you mean to use 'us-east1'")


@pytest.mark.parametrize(
    ("cluster_id", "key_type", "expected"),
    [
        (seeds.AWS_SINGLE, "GCP_CLOUD_KMS", "must be AWS_KMS, got 'GCP_CLOUD_KMS'"),
        (seeds.GCP_SINGLE, "AWS_KMS", "must be GCP_CLOUD_KMS, got 'AWS_KMS'"),
        (seeds.AWS_SINGLE, "NULL_KMS", "NULL_KMS is internal and cannot be used by customers"),
        (seeds.GCP_SINGLE, "AZURE_KEY_VAULT", "must be GCP_CLOUD_KMS, got 'AZURE_KEY_VAULT'"),
    ],
)
def test_key_type_must_match_the_cloud(simulator, cluster_id, key_type, expected):
    specs = seeds.region_specs(cluster_id)
    specs[0]["key_spec"]["type"] = key_type
    response = SimApi(simulator).enable(cluster_id, specs)
    assert response.status_code == 400
    assert "region_specs[0].key_spec.type: " in response.json()["message"]
    assert expected in response.json()["message"]


@pytest.mark.parametrize(
    ("cluster_id", "field", "value", "expected"),
    [
        (seeds.AWS_SINGLE, "uri", "alias/foo", "expected a KMS key ARN"),
        (seeds.AWS_SINGLE, "auth_principal", "arn:aws:iam::111122223333:user/bob", "expected an IAM role ARN"),
        (
            seeds.GCP_SINGLE,
            "uri",
            seeds.gcp_key_uri("us-east1") + "/cryptoKeyVersions/1",
            "drop the /cryptoKeyVersions/<n> suffix",
        ),
        (seeds.GCP_SINGLE, "auth_principal", "not-an-email", "expected a service account email"),
    ],
)
def test_key_formats_are_validated(simulator, cluster_id, field, value, expected):
    specs = seeds.region_specs(cluster_id)
    specs[0]["key_spec"][field] = value
    response = SimApi(simulator).enable(cluster_id, specs)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith(f"invalid argument: region_specs[0].key_spec.{field}: expected ")
    assert expected in message
    assert repr(value) in message


def test_key_format_validation_can_be_switched_off(sim_factory):
    specs = seeds.region_specs(seeds.AWS_SINGLE)
    specs[0]["key_spec"]["uri"] = "alias/foo"
    assert SimApi(sim_factory(settings(validate_key_formats=False))).enable(seeds.AWS_SINGLE, specs).status_code == 200


@pytest.mark.parametrize("cluster_id", [seeds.BASIC, seeds.STANDARD, seeds.PUBLIC])
def test_ineligible_clusters_fail_the_precondition(simulator, cluster_id):
    seed = seeds.BY_ID[cluster_id]
    specs = [{"region": name, "key_spec": seeds.key_spec(seed.cloud_provider, name)} for name, _ in seed.regions]
    response = SimApi(simulator).enable(cluster_id, specs)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == 9
    assert body["message"].startswith("failed precondition: CMEK requires an ADVANCED cluster with PRIVATE network")
    assert f"plan {seed.plan} and network_visibility {seed.network_visibility}" in body["message"]


def test_ineligible_cluster_code_is_configurable(sim_factory):
    server = sim_factory(settings(ineligible_cluster_grpc_code=3))
    specs = [{"region": "us-east-1", "key_spec": seeds.key_spec("AWS", "us-east-1")}]
    body = SimApi(server).enable(seeds.PUBLIC, specs).json()
    assert body["code"] == 3 and body["message"].startswith("invalid argument: CMEK requires")


@pytest.mark.parametrize("cluster_id", [seeds.CREATING, seeds.LOCKED])
def test_enable_on_a_creating_or_locked_cluster_is_503(simulator, cluster_id):
    response = SimApi(simulator).enable(cluster_id, seeds.region_specs(cluster_id))
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == 14
    assert "lock" in body["message"]
    simulator.simulator.set_cluster_state(cluster_id, "CREATED")
    assert SimApi(simulator).enable(cluster_id, seeds.region_specs(cluster_id)).status_code == 200


def test_a_timed_lock_releases_after_its_duration(simulator):
    api = SimApi(simulator)
    simulator.simulator.lock_cluster(seeds.AWS_SINGLE, 120)
    cluster = api.cluster(seeds.AWS_SINGLE).json()
    assert (cluster["state"], cluster["operation_status"]) == ("LOCKED", "CRDB_EDIT_CLUSTER_RUNNING")
    assert api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)).status_code == 503
    simulator.simulator.advance(120)
    assert api.cluster(seeds.AWS_SINGLE).json()["state"] == "CREATED"
    assert api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)).status_code == 200


@pytest.mark.parametrize(("status", "code"), [(400, 9), (409, 6)])
def test_enabling_twice_is_refused_with_the_configured_status(sim_factory, status, code):
    server = sim_factory(settings(enable_twice_status=status))
    api = SimApi(server)
    specs = seeds.region_specs(seeds.AWS_SINGLE)
    api.enable(seeds.AWS_SINGLE, specs)
    for _ in range(2):  # while ENABLING, then when ENABLED
        response = api.enable(seeds.AWS_SINGLE, specs)
        assert response.status_code == status
        assert response.json()["code"] == code
        assert "CMEK is already enabled" in response.json()["message"]
        server.simulator.advance(30)


def test_enable_can_be_locked_for_the_whole_cmek_operation(sim_factory):
    server = sim_factory(settings(lock_cluster_during_cmek=True))
    api = SimApi(server)
    api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    assert api.cluster(seeds.AWS_SINGLE).json()["state"] == "LOCKED"
    assert api.rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, 2)).status_code == 503
    server.simulator.advance(30)
    assert api.cluster(seeds.AWS_SINGLE).json()["state"] == "CREATED"


# --- KMS access ----------------------------------------------------------------------------------


def test_iam_propagation_window_refuses_a_new_pair_then_accepts_it(sim_factory):
    server = sim_factory(settings(iam_propagation_seconds=90))
    api = SimApi(server)
    specs = seeds.region_specs(seeds.AWS_SINGLE)
    response = api.enable(seeds.AWS_SINGLE, specs)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("invalid argument: insufficient permissions to access the KMS key ")
    assert specs[0]["key_spec"]["uri"] in message
    server.simulator.advance(89)
    assert api.enable(seeds.AWS_SINGLE, specs).status_code == 400
    server.simulator.advance(1)
    assert api.enable(seeds.AWS_SINGLE, specs).status_code == 200


def enable_through_propagation(server, cluster_id: str, wait: float) -> None:
    api = SimApi(server)
    specs = seeds.region_specs(cluster_id)
    assert api.enable(cluster_id, specs).status_code == 400  # the grant is new
    server.simulator.advance(wait)
    assert api.enable(cluster_id, specs).status_code == 200
    server.simulator.advance(30)


def test_iam_propagation_also_applies_to_rotation_and_added_regions(sim_factory):
    server = sim_factory(settings(iam_propagation_seconds=60))
    api = SimApi(server)
    enable_through_propagation(server, seeds.AWS_SINGLE, 60)
    new_key = seeds.region_specs(seeds.AWS_SINGLE, generation=2)
    assert "insufficient permissions" in api.rotate(seeds.AWS_SINGLE, new_key).json()["message"]
    add = [{"region": "us-west-2", "key_spec": seeds.key_spec("AWS", "us-west-2", generation=2)}]
    response = api.add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, add)
    assert response.status_code == 400 and "insufficient permissions" in response.json()["message"]
    server.simulator.advance(60)
    assert api.rotate(seeds.AWS_SINGLE, new_key).status_code == 200


def test_kms_checked_operations_are_configurable(sim_factory):
    server = sim_factory(settings(iam_propagation_seconds=60, kms_check_operations=("enable",)))
    enable_through_propagation(server, seeds.AWS_SINGLE, 60)
    response = SimApi(server).rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, generation=2))
    assert response.status_code == 200


def test_unreachable_key_in_400_mode_is_refused_until_marked_reachable(simulator):
    api = SimApi(simulator)
    specs = seeds.region_specs(seeds.GCP_MULTI)
    simulator.simulator.mark_key_unreachable(specs[1]["key_spec"]["uri"], "400")
    response = api.enable(seeds.GCP_MULTI, specs)
    assert response.status_code == 400
    assert "insufficient permissions to access the KMS key" in response.json()["message"]
    simulator.simulator.mark_key_reachable(specs[1]["key_spec"]["uri"])
    assert api.enable(seeds.GCP_MULTI, specs).status_code == 200


def test_unreachable_key_in_async_mode_ends_enable_failed_with_user_message(simulator):
    api = SimApi(simulator)
    specs = seeds.region_specs(seeds.AWS_MULTI)
    bad_uri = specs[2]["key_spec"]["uri"]  # us-west-2
    simulator.simulator.mark_key_unreachable(bad_uri, "ENABLE_FAILED")
    assert api.enable(seeds.AWS_MULTI, specs).status_code == 200
    simulator.simulator.advance(30)
    body = api.cmek(seeds.AWS_MULTI).json()
    assert statuses(body) == (
        "ENABLE_FAILED", {"eu-west-1": "ENABLED", "us-east-1": "ENABLED", "us-west-2": "ENABLE_FAILED"}
    )
    failed_key = body["region_infos"][2]["key_infos"][0]
    assert failed_key["status"] == "ENABLE_FAILED"
    assert bad_uri in failed_key["user_message"]
    assert api.cluster(seeds.AWS_MULTI).json()["operation_status"] == "CRDB_CMEK_OPERATION_FAILED"
    # Fixing access and posting again succeeds; the failed key stays in the history.
    simulator.simulator.mark_key_reachable(bad_uri)
    assert api.enable(seeds.AWS_MULTI, specs).status_code == 200
    simulator.simulator.advance(30)
    body = api.cmek(seeds.AWS_MULTI).json()
    assert body["status"] == "ENABLED"
    assert key_statuses(body, "us-west-2") == [(bad_uri, "ENABLE_FAILED"), (bad_uri, "ENABLED")]
    assert api.cluster(seeds.AWS_MULTI).json()["operation_status"] == "UNSPECIFIED"


# --- rotation ------------------------------------------------------------------------------------


def test_rotation_to_a_new_key_keeps_the_old_key_disabled_in_history(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_MULTI)
    old = seeds.aws_key_arn("us-east-1", 1)
    new = seeds.aws_key_arn("us-east-1", 2)
    response = api.rotate(seeds.AWS_MULTI, seeds.region_specs(seeds.AWS_MULTI, 2, ["us-east-1"]))
    assert response.status_code == 200
    body = response.json()
    assert statuses(body) == ("ROTATING", {"eu-west-1": "ENABLED", "us-east-1": "ROTATING", "us-west-2": "ENABLED"})
    assert key_statuses(body, "us-east-1") == [(old, "DISABLING"), (new, "ENABLING")]
    assert api.cluster(seeds.AWS_MULTI).json()["operation_status"] == "CRDB_CMEK_OPERATION_RUNNING"
    simulator.simulator.advance(30)
    body = api.cmek(seeds.AWS_MULTI).json()
    assert statuses(body)[0] == "ENABLED"
    assert key_statuses(body, "us-east-1") == [(old, "DISABLED"), (new, "ENABLED")]
    assert key_statuses(body, "eu-west-1") == [(seeds.aws_key_arn("eu-west-1", 1), "ENABLED")]


def test_same_uri_rotation_rewraps_through_rotating(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.GCP_SINGLE)
    uri = seeds.gcp_key_uri("us-east1", 1)
    body = api.rotate(seeds.GCP_SINGLE, seeds.region_specs(seeds.GCP_SINGLE)).json()
    assert body["region_infos"][0]["status"] == "ROTATING"
    simulator.simulator.advance(30)
    body = api.cmek(seeds.GCP_SINGLE).json()
    assert body["region_infos"][0]["status"] == "ENABLED"
    assert key_statuses(body, "us-east1") == [(uri, "DISABLED"), (uri, "ENABLED")]


def test_same_uri_rotation_can_rewrap_in_place(sim_factory):
    server = sim_factory(settings(same_uri_rotation="in_place"))
    api = SimApi(server)
    enable_and_settle(server, seeds.GCP_SINGLE)
    before = api.cmek(seeds.GCP_SINGLE).json()["region_infos"][0]["key_infos"][0]
    body = api.rotate(seeds.GCP_SINGLE, seeds.region_specs(seeds.GCP_SINGLE)).json()
    assert body["region_infos"][0]["status"] == "ROTATING"
    assert body["region_infos"][0]["key_infos"][0]["status"] == "ENABLED"
    server.simulator.advance(30)
    info = api.cmek(seeds.GCP_SINGLE).json()["region_infos"][0]
    assert info["status"] == "ENABLED"
    assert len(info["key_infos"]) == 1
    assert info["key_infos"][0]["updated_at"] > before["updated_at"]


def test_failed_rotation_keeps_the_old_key_enabled(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    new = seeds.aws_key_arn("us-east-1", 2)
    simulator.simulator.mark_key_unreachable(new, "ENABLE_FAILED")
    assert api.rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, 2)).status_code == 200
    simulator.simulator.advance(30)
    body = api.cmek(seeds.AWS_SINGLE).json()
    assert statuses(body) == ("ROTATE_FAILED", {"us-east-1": "ROTATE_FAILED"})
    assert key_statuses(body, "us-east-1") == [(seeds.aws_key_arn("us-east-1", 1), "ENABLED"), (new, "ROTATE_FAILED")]
    assert new in body["region_infos"][0]["key_infos"][1]["user_message"]
    assert api.cluster(seeds.AWS_SINGLE).json()["operation_status"] == "CRDB_CMEK_OPERATION_FAILED"
    # A later rotation of the ROTATE_FAILED region is allowed.
    simulator.simulator.mark_key_reachable(new)
    assert api.rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, 2)).status_code == 200


def test_put_before_enable_is_refused_by_default(simulator):
    response = SimApi(simulator).rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    assert response.status_code == 400
    assert response.json()["code"] == 9
    assert "CMEK is not enabled for cluster" in response.json()["message"]


def test_put_before_enable_can_act_as_enable(sim_factory):
    api = SimApi(sim_factory(settings(put_when_disabled="enable")))
    partial = seeds.region_specs(seeds.AWS_MULTI, regions=["us-east-1"])
    assert api.rotate(seeds.AWS_MULTI, partial).status_code == 400  # still needs every region
    response = api.rotate(seeds.AWS_MULTI, seeds.region_specs(seeds.AWS_MULTI))
    assert response.status_code == 200 and response.json()["status"] == "ENABLING"


def test_put_of_an_unknown_region_is_400(simulator):
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    response = SimApi(simulator).rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, regions=["eu-west-1"]))
    assert response.status_code == 400 and "expected a region of cluster" in response.json()["message"]


@pytest.mark.parametrize(("status", "code"), [(409, 10), (400, 9), (503, 14)])
def test_mutation_during_a_cmek_operation_gets_the_busy_status(sim_factory, status, code):
    server = sim_factory(settings(cmek_busy_status=status))
    api = SimApi(server)
    enable_and_settle(server, seeds.AWS_MULTI)
    api.rotate(seeds.AWS_MULTI, seeds.region_specs(seeds.AWS_MULTI, 2, ["us-east-1"]))
    for response in (
        api.rotate(seeds.AWS_MULTI, seeds.region_specs(seeds.AWS_MULTI, 2, ["eu-west-1"])),
        api.revoke(seeds.AWS_MULTI),
    ):
        assert response.status_code == status
        assert response.json()["code"] == code
        assert "lock" in response.json()["message"]


# --- revoke --------------------------------------------------------------------------------------


def test_revoke_goes_revoking_then_revoked_everywhere(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.GCP_MULTI)
    body = api.revoke(seeds.GCP_MULTI).json()
    assert statuses(body) == ("REVOKING", dict.fromkeys(["europe-west1", "us-east1", "us-west1"], "REVOKING"))
    assert body["region_infos"][0]["key_infos"][0]["status"] == "REVOKING"
    simulator.simulator.advance(10)
    body = api.cmek(seeds.GCP_MULTI).json()
    assert statuses(body) == ("REVOKED", dict.fromkeys(["europe-west1", "us-east1", "us-west1"], "REVOKED"))
    assert {k["status"] for r in body["region_infos"] for k in r["key_infos"]} == {"REVOKED"}


def test_after_revoke_enable_rotate_and_add_region_need_support(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    api.revoke(seeds.AWS_SINGLE)
    simulator.simulator.advance(10)
    for response in (
        api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE)),
        api.rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, 2)),
        api.add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3},
                        seeds.region_specs(seeds.AWS_SINGLE, regions=["us-west-2"])),
    ):
        assert response.status_code == 400
        assert response.json()["code"] == 9
        assert "contact support" in response.json()["message"]


@pytest.mark.parametrize(("status", "code"), [(404, 5), (400, 9)])
def test_revoke_before_enable_gets_the_configured_status(sim_factory, status, code):
    response = SimApi(sim_factory(settings(revoke_when_absent_status=status))).revoke(seeds.AWS_SINGLE)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert "no CMEK configuration to revoke" in response.json()["message"]


def test_revoke_twice_is_refused(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    api.revoke(seeds.AWS_SINGLE)
    response = api.revoke(seeds.AWS_SINGLE)
    assert (response.status_code, response.json()["code"]) == (400, 9)
    assert "already REVOKING" in response.json()["message"]


def test_revoke_needs_the_action(simulator, contract):
    with contract.expect_request_violation():
        response = SimApi(simulator).request("PATCH", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", json={})
    assert response.status_code == 400
    assert response.json()["message"] == "invalid argument: action: expected REVOKE (the only customer action), got nothing"


def test_revoke_failure_can_be_injected(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    simulator.simulator.fail_next_revoke(seeds.AWS_SINGLE, "revocation failed: key still in use")
    api.revoke(seeds.AWS_SINGLE)
    simulator.simulator.advance(10)
    body = api.cmek(seeds.AWS_SINGLE).json()
    assert statuses(body) == ("REVOKE_FAILED", {"us-east-1": "REVOKE_FAILED"})
    assert body["region_infos"][0]["key_infos"][0]["user_message"] == "revocation failed: key still in use"
    assert api.cluster(seeds.AWS_SINGLE).json()["operation_status"] == "CRDB_CMEK_OPERATION_FAILED"


def test_support_disable_is_the_only_way_to_disabled(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    simulator.simulator.support_disable(seeds.AWS_SINGLE)
    assert api.cmek(seeds.AWS_SINGLE).json()["status"] == "DISABLING"
    simulator.simulator.advance(30)
    body = api.cmek(seeds.AWS_SINGLE).json()
    assert statuses(body) == ("DISABLED", {"us-east-1": "DISABLED"})
    # A disabled cluster may be enabled again.
    assert api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, 2)).status_code == 200


def test_out_of_band_rotation_shows_up_in_get(simulator):
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    simulator.simulator.rotate_out_of_band(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, 3))
    simulator.simulator.advance(30)
    body = SimApi(simulator).cmek(seeds.AWS_SINGLE).json()
    assert key_statuses(body, "us-east-1")[-1] == (seeds.aws_key_arn("us-east-1", 3), "ENABLED")
    assert [r.method for r in simulator.simulator.requests] == ["POST", "GET"]
