"""The activation's life cycle through the real plugin host (``python -m pulumi.dynamic``) over
gRPC, against the simulator on a real socket: enable, adopt, rotate, re-wrap, add a region,
revoke, refresh and delete."""

from __future__ import annotations

from typing import Any

import pytest

from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.manifest.region_specs import RegionSpec
from cmek_component.simulator import seeds
from tests.support.activation_stack import SECRET_API_KEY, ActivationStack, activation_props
from tests.support.grpc_fixtures import ProviderRpcError


def by_region(outs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {region["region"]: region for region in outs["regions"]}


def declared_uris(props: dict[str, Any]) -> dict[str, str]:
    return {spec["region"]: spec["key_spec"]["uri"] for spec in props["region_specs"]}


@pytest.mark.parametrize("cluster_id", [seeds.AWS_MULTI, seeds.GCP_MULTI], ids=["aws", "gcp"])
def test_create_enables_cmek_in_every_region(activation_stack: ActivationStack, cluster_id: str) -> None:
    props = activation_props(cluster_id)
    id_, outs = activation_stack.create(props)

    assert id_ == cluster_id
    assert outs["status"] == "ENABLED"
    regions = by_region(outs)
    assert {r: v["status"] for r, v in regions.items()} == dict.fromkeys(declared_uris(props), "ENABLED")
    assert {r: v["key_uri"] for r, v in regions.items()} == declared_uris(props)
    assert all(v["key_status"] == "ENABLED" and v["created_at"] and v["updated_at"] for v in regions.values())
    for name in ("cluster_id", "region_specs", "new_region_nodes", "rotation_trigger", "revoke",
                 "wait_timeout_seconds", "iam_propagation_timeout_seconds"):
        assert name in outs, name
    assert outs["region_specs"] == props["region_specs"]
    assert activation_stack.mutations() == [("POST", f"/api/v1/clusters/{cluster_id}/cmek")]
    assert activation_stack.sim.cmek(cluster_id)["status"] == "ENABLED"


def test_create_adopts_a_cluster_already_enabled_with_the_same_keys(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_SINGLE)
    activation_stack.sim.enable_out_of_band(seeds.AWS_SINGLE, list(reversed(props["region_specs"])))
    activation_stack.sim.advance(1)  # the simulator's clock skips ahead: CMEK is ENABLED now
    assert activation_stack.sim.cmek(seeds.AWS_SINGLE)["status"] == "ENABLED"

    _, outs = activation_stack.create(props)

    assert outs["status"] == "ENABLED"
    assert activation_stack.mutations() == []
    assert activation_stack.host.wait_for_stderr("already ENABLED with these keys; adopting it")


def test_create_refuses_a_cluster_enabled_with_other_keys(activation_stack: ActivationStack) -> None:
    activation_stack.sim.enable_out_of_band(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, generation=7))
    activation_stack.sim.advance(1)

    with pytest.raises(ProviderRpcError) as failure:
        activation_stack.create(activation_props(seeds.AWS_SINGLE))

    assert "CMEK is already ENABLED with other keys (region 'us-east-1' uses" in failure.value.last_line
    assert activation_stack.mutations() == []


def test_rotating_one_region_puts_only_that_region_and_keeps_the_old_key_in_history(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_MULTI)
    id_, outs = activation_stack.create(props)
    old_uri = declared_uris(props)["us-east-1"]
    new_uri = seeds.aws_key_arn("us-east-1", generation=2)
    news = {**props, "region_specs": [
        {"region": s["region"], "key_spec": seeds.key_spec("AWS", "us-east-1", 2)} if s["region"] == "us-east-1" else s
        for s in props["region_specs"]
    ]}

    outs = activation_stack.update(id_, outs, news)

    put = activation_stack.sim.mutating_requests()[-1]
    assert (put.method, put.status) == ("PUT", 200)
    assert put.body == {"region_specs": [{"region": "us-east-1", "key_spec": seeds.key_spec("AWS", "us-east-1", 2)}]}
    assert by_region(outs)["us-east-1"]["key_uri"] == new_uri
    assert outs["status"] == "ENABLED"
    history = {entry["uri"]: entry["status"] for entry in outs["key_history"]["us-east-1"]}
    assert history == {old_uri: "DISABLED", new_uri: "ENABLED"}


def test_a_new_rotation_trigger_rewraps_every_region_with_the_same_uris(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.GCP_MULTI)
    id_, outs = activation_stack.create(props)

    outs = activation_stack.update(id_, outs, {**props, "rotation_trigger": "2026-q3"})

    put = activation_stack.sim.mutating_requests()[-1]
    assert put.method == "PUT"
    assert sorted(put.body["region_specs"], key=lambda s: s["region"]) == sorted(props["region_specs"], key=lambda s: s["region"])
    assert {r: v["key_uri"] for r, v in by_region(outs).items()} == declared_uris(props)
    assert outs["status"] == "ENABLED" and outs["rotation_trigger"] == "2026-q3"


def test_adding_a_region_patches_the_cluster_with_every_region_and_only_the_new_spec(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_SINGLE)
    id_, outs = activation_stack.create(props)
    new_spec = {"region": "us-west-2", "key_spec": seeds.key_spec("AWS", "us-west-2")}
    news = {**props, "region_specs": [*props["region_specs"], new_spec], "new_region_nodes": {"us-west-2": 3}}

    outs = activation_stack.update(id_, outs, news)

    patch = activation_stack.sim.mutating_requests()[-1]
    assert (patch.method, patch.path) == ("PATCH", f"/api/v1/clusters/{seeds.AWS_SINGLE}")
    assert patch.body == {"dedicated": {"region_nodes": {"us-east-1": 3, "us-west-2": 3}, "cmek_region_specs": [new_spec]}}
    assert {r: v["status"] for r, v in by_region(outs).items()} == {"us-east-1": "ENABLED", "us-west-2": "ENABLED"}
    assert [r["name"] for r in activation_stack.sim.cluster(seeds.AWS_SINGLE)["regions"]] == ["us-east-1", "us-west-2"]


def test_revoke_patches_cmek_and_can_never_be_undone(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_SINGLE)
    id_, outs = activation_stack.create(props)

    outs = activation_stack.update(id_, outs, {**props, "revoke": True})

    assert activation_stack.sim.mutating_requests()[-1].body == {"action": "REVOKE"}
    assert outs["status"] == "REVOKED" and outs["revoke"] is True
    check = activation_stack.host.check(activation_stack.checked[id_], {**props, "revoke": False})
    assert [p for p, _ in check.failures] == ["revoke"]
    assert "only be re-enabled by CockroachDB support" in check.failures[0][1]
    with pytest.raises(ProviderRpcError) as failure:
        activation_stack.host.diff(id_, outs, {**props, "revoke": False})
    assert "revoke: cannot be set back to false" in failure.value.last_line


def test_create_with_revoke_adopts_the_declared_keys_and_revokes_them(activation_stack: ActivationStack) -> None:
    """A cluster added to the stack with revoke: true (an incident on a cluster not yet managed
    here) is revoked, not left enabled."""
    props = activation_props(seeds.AWS_SINGLE)
    activation_stack.sim.enable_out_of_band(seeds.AWS_SINGLE, props["region_specs"])
    activation_stack.sim.advance(1)

    _, outs = activation_stack.create({**props, "revoke": True})

    assert activation_stack.mutations() == [("PATCH", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek")]
    assert activation_stack.sim.mutating_requests()[-1].body == {"action": "REVOKE"}
    assert outs["status"] == "REVOKED" and outs["revoke"] is True
    assert activation_stack.host.wait_for_stderr("adopting it and revoking it (revoke: true)")


def test_create_with_revoke_adopts_a_configuration_already_revoked(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_SINGLE)
    activation_stack.sim.enable_out_of_band(seeds.AWS_SINGLE, props["region_specs"])
    activation_stack.sim.advance(1)
    CloudApiClient(SECRET_API_KEY, activation_stack.server.url).revoke_cmek(seeds.AWS_SINGLE)
    activation_stack.sim.advance(60)
    before = activation_stack.mutations()

    _, outs = activation_stack.create({**props, "revoke": True})

    assert activation_stack.mutations() == before  # nothing sent: adopted as it is
    assert outs["status"] == "REVOKED"


def test_create_with_revoke_refuses_a_cluster_without_cmek(activation_stack: ActivationStack) -> None:
    with pytest.raises(ProviderRpcError) as failure:
        activation_stack.create({**activation_props(seeds.AWS_SINGLE), "revoke": True})

    assert (
        f"cluster {seeds.AWS_SINGLE}: revoke is true but the cluster has no CMEK configuration: there is "
        "nothing to revoke. Set revoke to false to enable CMEK with the declared keys"
    ) in failure.value.last_line
    assert activation_stack.mutations() == []


def test_revoke_with_a_key_change_is_refused_by_check(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_SINGLE)
    check = activation_stack.host.check(props, {**activation_props(seeds.AWS_SINGLE, generation=2), "revoke": True})
    assert any(p == "revoke" and "cannot be combined with a change of region_specs" in r for p, r in check.failures)


def test_refresh_shows_an_out_of_band_rotation_and_the_next_diff_restores_the_declared_key(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_SINGLE)
    id_, outs = activation_stack.create(props)
    rotated = seeds.region_specs(seeds.AWS_SINGLE, generation=5)
    CloudApiClient(SECRET_API_KEY, activation_stack.server.url).update_cmek(seeds.AWS_SINGLE, [RegionSpec.from_api(s) for s in rotated])

    read = activation_stack.host.read(id_, outs)

    assert read.id == id_
    assert by_region(read.outs)["us-east-1"]["key_uri"] == rotated[0]["key_spec"]["uri"]
    assert read.inputs is not None and read.inputs["region_specs"] == rotated
    assert read.outs["new_region_nodes"] == {} and read.outs["wait_timeout_seconds"] == props["wait_timeout_seconds"]
    diff = activation_stack.host.diff(id_, read.outs, activation_stack.checked[id_])
    assert diff.changes == "SOME" and diff.replaces == []


def test_refresh_of_a_cluster_without_cmek_reports_the_resource_gone(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.GCP_SINGLE)
    read = activation_stack.host.read(seeds.GCP_SINGLE, {**props, "status": "ENABLED"})
    assert read.id == ""


def test_delete_makes_no_api_call_and_warns_that_cmek_stays_enabled(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_SINGLE)
    id_, outs = activation_stack.create(props)
    before = len(activation_stack.sim.requests)

    activation_stack.host.delete(id_, outs)

    assert len(activation_stack.sim.requests) == before
    assert activation_stack.sim.cmek(seeds.AWS_SINGLE)["status"] == "ENABLED"
    assert activation_stack.host.wait_for_stderr(f"warning: CmekActivation: CMEK stays enabled on cluster {seeds.AWS_SINGLE}")


def test_changing_the_cluster_replaces_and_region_order_is_no_change(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_MULTI)
    id_, outs = activation_stack.create(props)

    same = activation_stack.host.diff(id_, outs, {**activation_stack.checked[id_], "region_specs": list(reversed(props["region_specs"]))})
    other = activation_stack.host.diff(id_, outs, {**activation_stack.checked[id_], "cluster_id": seeds.AWS_SINGLE})

    assert same.changes == "NONE"
    assert other.changes == "SOME" and other.replaces == ["cluster_id"]


def test_reading_by_cluster_id_alone_takes_the_specs_from_the_live_configuration(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.GCP_MULTI)
    activation_stack.create(props)

    read = activation_stack.host.read(seeds.GCP_MULTI, {})

    assert read.id == seeds.GCP_MULTI and read.outs["status"] == "ENABLED"
    assert sorted(read.outs["region_specs"], key=lambda s: s["region"]) == sorted(props["region_specs"], key=lambda s: s["region"])
    assert read.inputs is not None and read.inputs["cluster_id"] == seeds.GCP_MULTI
