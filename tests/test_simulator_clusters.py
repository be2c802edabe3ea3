"""Simulator organization and cluster endpoints: seeded clusters, and region changes through
PATCH cluster (contract notes C1-C9)."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from cmek_component.manifest.identifiers import crl_kms_principal
from cmek_component.simulator import SimulatorSettings, seeds
from tests.support.simulator_fixtures import SPEC_PATH, SimApi


def settings(**overrides):
    return SimulatorSettings(rate_limit_per_second=None, **overrides)


def enable_and_settle(server, cluster_id: str) -> None:
    assert SimApi(server).enable(cluster_id, seeds.region_specs(cluster_id)).status_code == 200
    server.simulator.advance(30)


def test_organization_has_the_external_id(simulator):
    body = SimApi(simulator).organization().json()
    assert body["id"] == seeds.ORGANIZATION_ID
    assert set(body) == {"id", "name", "label", "created_at"}


def test_list_clusters_shows_every_seed_sorted_by_name(simulator):
    body = SimApi(simulator).clusters().json()
    names = [c["name"] for c in body["clusters"]]
    assert names == sorted(names)
    assert {c["id"] for c in body["clusters"]} == {s.id for s in seeds.CLUSTERS}
    by_id = {c["id"]: c for c in body["clusters"]}
    assert (by_id[seeds.BASIC]["plan"], by_id[seeds.STANDARD]["plan"]) == ("BASIC", "STANDARD")
    assert by_id[seeds.PUBLIC]["network_visibility"] == "PUBLIC"
    assert (by_id[seeds.CREATING]["state"], by_id[seeds.LOCKED]["state"]) == ("CREATING", "LOCKED")
    assert [len(by_id[i]["regions"]) for i in seeds.ELIGIBLE_CLUSTERS] == [1, 3, 1, 3]
    assert {by_id[i]["cloud_provider"] for i in seeds.ELIGIBLE_CLUSTERS} == {"AWS", "GCP"}
    assert all(uuid.UUID(c["id"]) for c in body["clusters"])


def test_list_clusters_paginates_and_sorts(simulator):
    api = SimApi(simulator)
    first = api.clusters(**{"pagination.limit": 4}).json()
    assert len(first["clusters"]) == 4
    token = first["pagination"]["next_page"]
    rest = api.clusters(**{"pagination.page": token}).json()
    assert "next_page" not in rest["pagination"]
    assert [c["name"] for c in first["clusters"] + rest["clusters"]] == sorted(s.name for s in seeds.CLUSTERS)
    descending = api.clusters(**{"pagination.sort_order": "DESC"}).json()
    assert [c["name"] for c in descending["clusters"]] == sorted((s.name for s in seeds.CLUSTERS), reverse=True)


def test_cluster_account_ids_drive_the_trust_anchors(simulator):
    api = SimApi(simulator)
    aws = api.cluster(seeds.AWS_MULTI).json()
    assert re.fullmatch(r"\d{12}", aws["account_id"])
    gcp = api.cluster(seeds.GCP_MULTI).json()
    assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", gcp["account_id"])
    principal = crl_kms_principal(gcp["id"], gcp["account_id"])
    assert principal == f"crl-kms-user-{gcp['id'][-12:]}@{gcp['account_id']}.iam.gserviceaccount.com"
    assert [r["name"] for r in gcp["regions"]] == ["europe-west1", "us-east1", "us-west1"]
    assert [r["name"] for r in aws["regions"]] == ["eu-west-1", "us-east-1", "us-west-2"]
    assert all(r["node_count"] == 3 for r in aws["regions"])
    assert aws["config"]["dedicated"]["machine_type"]
    assert api.cluster(seeds.BASIC).json()["account_id"] == ""


def test_add_region_locks_the_cluster_then_enables_the_new_regions_key(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    new = seeds.region_specs(seeds.AWS_SINGLE, regions=["us-west-2"])
    response = api.add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, new)
    assert response.status_code == 200
    cluster = response.json()
    assert (cluster["state"], cluster["operation_status"]) == ("LOCKED", "CRDB_SCALE_RUNNING")
    assert [(r["name"], r["node_count"]) for r in cluster["regions"]] == [("us-east-1", 3), ("us-west-2", 3)]
    cmek = api.cmek(seeds.AWS_SINGLE).json()
    assert [(r["region"], r["status"]) for r in cmek["region_infos"]] == [
        ("us-east-1", "ENABLED"), ("us-west-2", "ENABLING")]
    assert cmek["status"] == "ENABLING"
    # While LOCKED, other mutations wait (503).
    assert api.rotate(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE, 2)).status_code == 503
    simulator.simulator.advance(60)
    cluster = api.cluster(seeds.AWS_SINGLE).json()
    assert (cluster["state"], cluster["operation_status"]) == ("CREATED", "UNSPECIFIED")
    cmek = api.cmek(seeds.AWS_SINGLE).json()
    assert cmek["status"] == "ENABLED"
    assert cmek["region_infos"][1]["key_infos"][0]["spec"] == new[0]["key_spec"]


def test_cmek_spec_for_an_existing_region_is_400(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    specs = seeds.region_specs(seeds.AWS_SINGLE, regions=["us-east-1", "us-west-2"])
    response = api.add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, specs)
    assert response.status_code == 400
    message = response.json()["message"]
    assert "dedicated.cmek_region_specs[0].region: a CMEK spec may only be given for a newly added region" in message
    assert api.cluster(seeds.AWS_SINGLE).json()["state"] == "CREATED"  # nothing happened


def test_cmek_spec_for_a_region_missing_from_region_nodes_is_400_or_ignored(sim_factory):
    specs = seeds.region_specs(seeds.AWS_SINGLE, regions=["us-west-2"])
    strict = sim_factory(settings())
    enable_and_settle(strict, seeds.AWS_SINGLE)
    response = SimApi(strict).add_regions(seeds.AWS_SINGLE, {"us-east-1": 3}, specs)
    assert response.status_code == 400
    assert "needs its region in dedicated.region_nodes" in response.json()["message"]

    lenient = sim_factory(settings(cmek_spec_outside_region_nodes="ignore"))
    enable_and_settle(lenient, seeds.AWS_SINGLE)
    response = SimApi(lenient).add_regions(seeds.AWS_SINGLE, {"us-east-1": 5}, specs)
    assert response.status_code == 200
    assert [r["region"] for r in SimApi(lenient).cmek(seeds.AWS_SINGLE).json()["region_infos"]] == ["us-east-1"]


def test_fewer_than_three_nodes_is_400(simulator):
    response = SimApi(simulator).add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 1}, [])
    assert response.status_code == 400
    assert response.json()["message"] == (
        "invalid argument: dedicated.region_nodes['us-west-2']: an ADVANCED cluster needs at least 3 nodes "
        "per region, got 1"
    )


def test_region_omitted_from_region_nodes_is_removed_with_its_cmek_info(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.GCP_MULTI)
    response = api.update_cluster(seeds.GCP_MULTI, {"dedicated": {"region_nodes": {"us-east1": 3, "us-west1": 3}}})
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["regions"]] == ["us-east1", "us-west1"]
    assert [r["region"] for r in api.cmek(seeds.GCP_MULTI).json()["region_infos"]] == ["us-east1", "us-west1"]


def test_region_name_for_the_other_cloud_is_400_with_a_hint(simulator):
    response = SimApi(simulator).add_regions(seeds.GCP_SINGLE, {"us-east1": 3, "us-west-2": 3}, [])
    assert response.status_code == 400
    assert "invalid region name 'us-west-2' for GCP. Did you mean to use 'us-west2'" in response.json()["message"]


def test_new_region_on_a_cmek_cluster_needs_a_spec_unless_allowed(sim_factory):
    strict = sim_factory(settings())
    enable_and_settle(strict, seeds.AWS_SINGLE)
    response = SimApi(strict).add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, [])
    assert response.status_code == 400
    assert "every new region needs a CMEK spec; missing for us-west-2" in response.json()["message"]

    lenient = sim_factory(settings(add_region_without_cmek_spec="allow"))
    enable_and_settle(lenient, seeds.AWS_SINGLE)
    assert SimApi(lenient).add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, []).status_code == 200


def test_new_region_without_cmek_is_a_plain_scale_operation(simulator):
    api = SimApi(simulator)
    response = api.add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 4}, [])
    assert response.json()["state"] == "LOCKED"
    simulator.simulator.advance(60)
    assert api.cluster(seeds.AWS_SINGLE).json()["state"] == "CREATED"
    assert api.cmek(seeds.AWS_SINGLE).status_code == 404


def test_cmek_region_specs_need_cmek_enabled(simulator):
    response = SimApi(simulator).add_regions(
        seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, seeds.region_specs(seeds.AWS_SINGLE, regions=["us-west-2"])
    )
    assert (response.status_code, response.json()["code"]) == (400, 9)
    assert "CMEK is not enabled" in response.json()["message"]


def test_region_change_on_a_locked_cluster_is_503(simulator):
    response = SimApi(simulator).add_regions(seeds.LOCKED, {"us-east1": 3, "us-west1": 3}, [])
    assert (response.status_code, response.json()["code"]) == (503, 14)


def test_region_change_on_serverless_is_400(simulator):
    response = SimApi(simulator).add_regions(seeds.BASIC, {"us-east-1": 3}, [])
    assert response.status_code == 400
    assert "apply to ADVANCED clusters only" in response.json()["message"]


def test_add_region_during_a_cmek_operation_gets_the_busy_status(simulator):
    api = SimApi(simulator)
    api.enable(seeds.AWS_SINGLE, seeds.region_specs(seeds.AWS_SINGLE))
    response = api.add_regions(
        seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, seeds.region_specs(seeds.AWS_SINGLE, regions=["us-west-2"])
    )
    assert (response.status_code, response.json()["code"]) == (409, 10)


def test_unreachable_key_on_an_added_region_ends_enable_failed(simulator):
    api = SimApi(simulator)
    enable_and_settle(simulator, seeds.AWS_SINGLE)
    new = seeds.region_specs(seeds.AWS_SINGLE, regions=["us-west-2"])
    simulator.simulator.mark_key_unreachable(new[0]["key_spec"]["uri"], "ENABLE_FAILED")
    assert api.add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, new).status_code == 200
    simulator.simulator.advance(60)
    cmek = api.cmek(seeds.AWS_SINGLE).json()
    assert [r["status"] for r in cmek["region_infos"]] == ["ENABLED", "ENABLE_FAILED"]
    cluster = api.cluster(seeds.AWS_SINGLE).json()
    assert (cluster["state"], cluster["operation_status"]) == ("CREATED", "CRDB_CMEK_OPERATION_FAILED")


def test_labels_apply_at_once(simulator):
    response = SimApi(simulator).update_cluster(seeds.AWS_SINGLE, {"labels": {"team": "db"}})
    assert response.status_code == 200
    assert response.json()["labels"] == {"team": "db"}
    assert response.json()["state"] == "CREATED"


@pytest.mark.parametrize(("setting", "status"), [("reject", 400), ("accept", 200)])
def test_the_seeds_broken_add_region_body_changes_nothing(sim_factory, setting, status):
    # The seed document PATCHes the cluster with cmek_config.json ({"region_specs": [...]}).
    server = sim_factory(settings(empty_cluster_update=setting))
    body = {"region_specs": seeds.region_specs(seeds.AWS_SINGLE, regions=["us-west-2"])}
    response = SimApi(server).update_cluster(seeds.AWS_SINGLE, body)
    assert response.status_code == status
    assert [r["name"] for r in server.simulator.cluster(seeds.AWS_SINGLE)["regions"]] == ["us-east-1"]


def _spec_schemas():
    return json.loads(SPEC_PATH.read_text())["components"]["schemas"]


def _resolve(schema, schemas):
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _example(schema, schemas):
    """A value the OpenAPI document allows for ``schema`` (first enum value, first property)."""
    schema = _resolve(schema, schemas)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        if properties:
            name = sorted(properties)[0]
            return {name: _example(properties[name], schemas)}
        return {}
    if kind == "array":
        return []
    if kind == "integer":
        return 3 if schema.get("format") == "int32" else "3"
    if kind == "boolean":
        return True
    return "v25.1"


def _update_cluster_fields():
    """Every field of UpdateClusterSpecification, with dedicated's own fields spelled out."""
    schemas = _spec_schemas()
    top = schemas["UpdateClusterSpecification"]["properties"]
    fields = {}
    for name, schema in sorted(top.items()):
        if name == "dedicated":
            for inner, inner_schema in sorted(_resolve(schema, schemas)["properties"].items()):
                fields[f"dedicated.{inner}"] = {"dedicated": {inner: _example(inner_schema, schemas)}}
        else:
            fields[name] = {name: _example(schema, schemas)}
    return fields


UPDATE_CLUSTER_FIELDS = _update_cluster_fields()


@pytest.mark.parametrize("field", sorted(UPDATE_CLUSTER_FIELDS))
def test_every_documented_cluster_update_field_is_handled_or_refused_by_name(simulator, field):
    body = UPDATE_CLUSTER_FIELDS[field]
    response = SimApi(simulator).update_cluster(seeds.AWS_SINGLE, body)
    assert response.status_code in (200, 400), (body, response.status_code, response.text)
    if response.status_code == 400:
        answer = response.json()
        assert answer["code"] == 3
        assert answer["message"].startswith(f"invalid argument: {field}: "), answer["message"]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"cockroach_version": "v25.1"}, ["cockroach_version"]),
        ({"plan": "STANDARD"}, ["plan"]),
        ({"upgrade_status": "FINALIZED"}, ["upgrade_status"]),
        ({"serverless": {"regions": ["us-east-1"]}}, ["serverless"]),
        ({"dedicated": {"hardware": {"machine_spec": {"num_virtual_cpus": 8}}}}, ["dedicated.hardware"]),
        ({"plan": "STANDARD", "labels": {"team": "db"}, "dedicated": {"hardware": {"storage_gib": 30}}},
         ["dedicated.hardware", "plan"]),
    ],
    ids=["cockroach_version", "plan", "upgrade_status", "serverless", "hardware", "several"],
)
def test_unmodelled_cluster_changes_are_400_naming_each_field_and_change_nothing(simulator, body, named):
    before = simulator.simulator.cluster(seeds.AWS_SINGLE)
    response = SimApi(simulator).update_cluster(seeds.AWS_SINGLE, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == 3
    problems = answer["message"].removeprefix("invalid argument: ").split("; ")
    assert [p.split(":", 1)[0] for p in problems] == named
    assert all("the simulator does not model changes to this field" in p for p in problems)
    assert simulator.simulator.cluster(seeds.AWS_SINGLE) == before, "nothing else in the request was applied"
