"""Cloud API models: tolerant reading and faithful round trips of real-looking payloads."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from cmek_component.cloud_api.models import (
    Cluster,
    ClusterRegion,
    CmekInfo,
    KeyInfo,
    Organization,
    RegionInfo,
)
from cmek_component.manifest.region_specs import KeySpec

AWS_KEY_1 = "arn:aws:kms:us-east-1:111122223333:key/0b6f1c2e-1a2b-4c3d-8e9f-0123456789ab"
AWS_KEY_2 = "arn:aws:kms:us-east-1:111122223333:key/1c7a2d3f-2b3c-4d5e-9f0a-123456789abc"
AWS_ROLE = "arn:aws:iam::111122223333:role/crdb-cmek"

CMEK_ROTATED = {
    "status": "ENABLED",
    "region_infos": [
        {
            "region": "us-east-1",
            "status": "ENABLED",
            "key_infos": [
                {
                    "spec": {"type": "AWS_KMS", "uri": AWS_KEY_1, "auth_principal": AWS_ROLE},
                    "status": "REVOKED",
                    "user_message": "",
                    "created_at": "2025-01-02T10:00:00Z",
                    "updated_at": "2025-03-01T09:00:00Z",
                },
                {
                    "spec": {"type": "AWS_KMS", "uri": AWS_KEY_2, "auth_principal": AWS_ROLE},
                    "status": "ENABLED",
                    "created_at": "2025-03-01T09:00:00Z",
                    "updated_at": "2025-03-01T09:05:00Z",
                },
            ],
        }
    ],
}

CLUSTER = {
    "account_id": "111122223333",
    "cidr_range": "172.28.0.0/14",
    "cloud_provider": "AWS",
    "cockroach_version": "v24.3.1",
    "config": {"dedicated": {"machine_type": "m6i.xlarge", "num_virtual_cpus": 4, "storage_gib": 150,
                             "memory_gib": 16, "disk_iops": 450}},
    "created_at": "2025-01-01T00:00:00Z",
    "creator_id": "7cde0cd9-0d8a-4008-8f90-45092ce8afc1",
    "id": "35c4abb2-bb66-46d7-afed-25ebef5ed2aa",
    "labels": {"env": "prod"},
    "name": "orders",
    "network_visibility": "PRIVATE",
    "operation_status": "UNSPECIFIED",
    "plan": "ADVANCED",
    "regions": [
        {"name": "us-east-1", "node_count": 3, "primary": True, "sql_dns": "orders.aws-us-east-1.crdb.io",
         "ui_dns": "", "internal_dns": "internal-orders.aws-us-east-1.crdb.io", "private_endpoint_dns": ""},
        {"name": "us-west-2", "node_count": 3, "sql_dns": "orders.aws-us-west-2.crdb.io", "ui_dns": "",
         "internal_dns": "", "private_endpoint_dns": ""},
    ],
    "state": "CREATED",
    "updated_at": "2025-01-01T00:10:00Z",
    "upgrade_status": "FINALIZED",
    "delete_protection": "ENABLED",
}

ORGANIZATION = {
    "id": "9f1f0c4e-1d2b-4a8c-b1f0-5e8a7c6d5b4a",
    "name": "acme",
    "label": "Acme Corp",
    "created_at": "2024-05-01T00:00:00Z",
    "cockroach_cloud_service_principals": {"aws": {"user_arn": "arn:aws:iam::123456789012:user/crl"}},
}


def _with_unknown_fields(payload: Any) -> Any:
    """Adds a field no schema knows to every object, as a newer API version would."""
    if isinstance(payload, dict):
        out = {key: _with_unknown_fields(value) for key, value in payload.items()}
        out["x_future_field"] = {"nested": [1, "two"]}
        return out
    if isinstance(payload, list):
        return [_with_unknown_fields(item) for item in payload]
    return payload


ROUND_TRIPS: list[tuple[Any, dict[str, Any]]] = [
    (CmekInfo, CMEK_ROTATED),
    (CmekInfo, _with_unknown_fields(CMEK_ROTATED)),
    (CmekInfo, {}),
    (CmekInfo, {"status": "DISABLED"}),
    (CmekInfo, {"status": None, "region_infos": [{"region": "us-east-1"}, {"key_infos": [{}]}]}),
    (CmekInfo, {"region_infos": [{"region": "us-east-1", "key_infos": [{"spec": {"uri": AWS_KEY_1}}]}]}),
    (Cluster, CLUSTER),
    (Cluster, _with_unknown_fields(CLUSTER)),
    (Cluster, {"id": "35c4abb2-bb66-46d7-afed-25ebef5ed2aa"}),
    (Cluster, {"id": "x", "regions": [{"name": "us-east1", "node_count": "3"}], "account_id": None}),
    (Organization, ORGANIZATION),
    (Organization, _with_unknown_fields(ORGANIZATION)),
    (Organization, {"id": "org"}),
]


@pytest.mark.parametrize(("model", "payload"), ROUND_TRIPS)
def test_from_api_to_api_gives_back_the_payload(model: Any, payload: dict[str, Any]) -> None:
    before = copy.deepcopy(payload)
    assert model.from_api(payload).to_api() == payload
    assert payload == before, "from_api must not modify its input"


def test_cmek_info_reads_statuses_regions_and_keys() -> None:
    info = CmekInfo.from_api(CMEK_ROTATED)
    assert info.status == "ENABLED"
    region = info.region("us-east-1")
    assert region is not None and region.status == "ENABLED"
    assert [k.status for k in region.key_infos] == ["REVOKED", "ENABLED"]
    assert region.key_infos[0].spec == KeySpec("AWS_KMS", AWS_KEY_1, AWS_ROLE)
    assert region.key_infos[0].created_at == "2025-01-02T10:00:00Z"
    assert region.key_infos[1].user_message is None
    assert info.region("eu-west-1") is None


def test_missing_fields_get_empty_defaults() -> None:
    info = CmekInfo.from_api({"region_infos": [{"key_infos": [{}]}]})
    assert info.status == ""
    key = info.region_infos[0].key_infos[0]
    assert (key.spec, key.status, key.user_message, key.created_at) == (KeySpec("", "", ""), "", None, None)
    cluster = Cluster.from_api({"id": "abc"})
    assert (cluster.name, cluster.account_id, cluster.regions, cluster.plan) == ("", "", [], "")
    assert CmekInfo.from_api(None) == CmekInfo()


def test_cluster_reads_the_fields_the_component_uses() -> None:
    cluster = Cluster.from_api(CLUSTER)
    assert (cluster.id, cluster.cloud_provider, cluster.plan, cluster.state) == (
        "35c4abb2-bb66-46d7-afed-25ebef5ed2aa", "AWS", "ADVANCED", "CREATED")
    assert (cluster.network_visibility, cluster.account_id, cluster.operation_status) == (
        "PRIVATE", "111122223333", "UNSPECIFIED")
    assert cluster.regions == [ClusterRegion("us-east-1", 3, True), ClusterRegion("us-west-2", 3, False)]
    assert cluster.region_nodes == {"us-east-1": 3, "us-west-2": 3}
    assert Organization.from_api(ORGANIZATION) == Organization("9f1f0c4e-1d2b-4a8c-b1f0-5e8a7c6d5b4a", "acme", "Acme Corp")


def test_changed_field_is_written_and_everything_else_kept() -> None:
    cluster = Cluster.from_api(_with_unknown_fields(CLUSTER))
    changed = dataclasses.replace(cluster, state="LOCKED")
    out = changed.to_api()
    assert out["state"] == "LOCKED"
    assert out["x_future_field"] == {"nested": [1, "two"]}
    assert out["regions"] == _with_unknown_fields(CLUSTER)["regions"]

    info = CmekInfo.from_api(CMEK_ROTATED)
    region = info.region_infos[0]
    new_key = dataclasses.replace(region.key_infos[1], spec=KeySpec("AWS_KMS", AWS_KEY_1, AWS_ROLE))
    rotated = dataclasses.replace(info, region_infos=[dataclasses.replace(region, key_infos=[new_key])])
    out_info = rotated.to_api()
    assert out_info["region_infos"][0]["key_infos"] == [
        {
            "spec": {"type": "AWS_KMS", "uri": AWS_KEY_1, "auth_principal": AWS_ROLE},
            "status": "ENABLED",
            "created_at": "2025-03-01T09:00:00Z",
            "updated_at": "2025-03-01T09:05:00Z",
        }
    ]


def test_models_built_in_code_serialise_every_known_field() -> None:
    key = KeyInfo(spec=KeySpec("GCP_CLOUD_KMS", "projects/p/locations/l/keyRings/r/cryptoKeys/k", "sa@p.iam.gserviceaccount.com"),
                  status="ENABLING")
    assert CmekInfo("ENABLING", [RegionInfo("us-east1", "ENABLING", [key])]).to_api() == {
        "status": "ENABLING",
        "region_infos": [{"region": "us-east1", "status": "ENABLING", "key_infos": [{
            "spec": {"type": "GCP_CLOUD_KMS", "uri": "projects/p/locations/l/keyRings/r/cryptoKeys/k",
                     "auth_principal": "sa@p.iam.gserviceaccount.com"},
            "status": "ENABLING"}]}],
    }


def _key(status: str, created_at: str | None, uri: str = AWS_KEY_1) -> KeyInfo:
    return KeyInfo(spec=KeySpec("AWS_KMS", uri, AWS_ROLE), status=status, created_at=created_at)


def test_current_key_is_the_enabled_one_whatever_its_position() -> None:
    region = RegionInfo("us-east-1", "ROTATING", [_key("ENABLED", "2025-01-01T00:00:00Z"),
                                                 _key("ENABLING", "2025-02-01T00:00:00Z", AWS_KEY_2)])
    assert region.current_key is not None and region.current_key.spec.uri == AWS_KEY_1


def test_current_key_without_an_enabled_key_is_the_newest() -> None:
    region = RegionInfo("us-east-1", "ENABLE_FAILED", [_key("ENABLE_FAILED", "2025-02-01T00:00:00Z", AWS_KEY_2),
                                                      _key("REVOKED", "2025-01-01T00:00:00Z")])
    assert region.current_key is not None and region.current_key.spec.uri == AWS_KEY_2
    undated = RegionInfo("us-east-1", "ENABLING", [_key("REVOKED", None), _key("ENABLING", None, AWS_KEY_2)])
    assert undated.current_key is not None and undated.current_key.spec.uri == AWS_KEY_2
    assert RegionInfo("us-east-1").current_key is None


def test_never_enabled_means_disabled_with_no_regions() -> None:
    assert CmekInfo.from_api({"status": "DISABLED"}).never_enabled
    assert CmekInfo.from_api({"status": "DISABLED", "region_infos": []}).never_enabled
    assert not CmekInfo.from_api({"status": "DISABLED", "region_infos": [{"region": "us-east-1"}]}).never_enabled
    assert not CmekInfo.from_api({"status": "ENABLING"}).never_enabled


def test_raw_payload_stays_out_of_repr() -> None:
    assert "x_future_field" not in repr(Cluster.from_api(_with_unknown_fields(CLUSTER)))


def test_server_strings_in_models_are_printable_and_raw_keeps_them() -> None:
    payload = {
        "status": "ENABLED\x1b[0m",
        "region_infos": [
            {
                "region": "us-east-1\r",
                "status": "ROTATE_FAILED\x00",
                "key_infos": [{"status": "ROTATE_FAILED", "user_message": "\x1b[31mno access\x1b[0m\r\nto the key\x07"}],
            }
        ],
    }
    info = CmekInfo.from_api(payload)
    assert info.status == "ENABLED"
    region = info.region_infos[0]
    assert (region.region, region.status) == ("us-east-1 ", "ROTATE_FAILED")
    assert region.key_infos[0].user_message == "no access to the key"
    assert info.to_api() == payload, "raw keeps the text as received"
    cluster = Cluster.from_api({"id": "c\x1b[2J", "name": "prod\x08\x08\x08dev", "state": "CREATED\n"})
    assert (cluster.id, cluster.name, cluster.state) == ("c", "proddev", "CREATED ")
