"""Region and key specifications: the validation every layer shares, and cmek_config.json."""

from __future__ import annotations

import json

import pytest

from cmek_component.manifest.identifiers import (
    crl_kms_principal,
    key_type_for_cloud,
    region_problem,
    suggest_region,
)
from cmek_component.manifest.problems import SpecError, SpecProblems
from cmek_component.manifest.region_specs import (
    KeySpec,
    RegionSpec,
    parse_region_specs,
    region_specs_problems,
    render_cmek_config,
)

KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
MRK = "arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
ROLE = "arn:aws:iam::111122223333:role/crdb-cmek"
GCP_KEY = "projects/cust-proj/locations/us-east1/keyRings/crdb/cryptoKeys/cmek"
SA = "crdb-cmek@cust-proj.iam.gserviceaccount.com"


def aws(region: str, uri: str = KEY, principal: str = ROLE) -> dict[str, object]:
    return {"region": region, "key_spec": {"type": "AWS_KMS", "uri": uri, "auth_principal": principal}}


def gcp(region: str, uri: str = GCP_KEY, principal: str = SA) -> dict[str, object]:
    return {"region": region, "key_spec": {"type": "GCP_CLOUD_KMS", "uri": uri, "auth_principal": principal}}


def messages(raw: object) -> list[str]:
    return [str(p) for p in region_specs_problems(raw)]


def test_well_formed_specs_of_both_clouds_pass() -> None:
    assert messages([aws("us-east-1"), aws("us-west-2", MRK)]) == []
    assert messages([gcp("us-east1"), gcp("europe-west1")]) == []


def test_an_alias_is_not_a_key_arn_and_the_error_names_field_rule_and_value() -> None:
    assert messages([aws("us-east-1"), aws("us-west-2", "alias/foo")]) == [
        "region_specs[1].key_spec.uri: expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got 'alias/foo'"
    ]


def test_gcp_uri_with_a_version_is_refused_with_a_hint() -> None:
    [message] = messages([gcp("us-east1", GCP_KEY + "/cryptoKeyVersions/3")])
    assert message.startswith("region_specs[0].key_spec.uri: expected a Cloud KMS crypto key name without a version")
    assert "drop the /cryptoKeyVersions/<n> suffix" in message


def test_principal_formats_are_checked_per_cloud() -> None:
    assert messages([aws("us-east-1", principal="arn:aws:iam::111122223333:user/bob")]) == [
        "region_specs[0].key_spec.auth_principal: expected an IAM role ARN (arn:aws:iam::<account>:role/<name>), "
        "got 'arn:aws:iam::111122223333:user/bob'"
    ]
    assert messages([gcp("us-east1", principal="bob@example.com")])[0].startswith(
        "region_specs[0].key_spec.auth_principal: expected a service account email"
    )


def test_regions_must_be_unique_and_types_alike() -> None:
    assert messages([aws("us-east-1"), aws("us-east-1")]) == [
        "region_specs[1].region: regions must be unique; 'us-east-1' is already given at region_specs[0], got 'us-east-1'"
    ]
    assert messages([aws("us-east-1"), gcp("us-east1")])[0] == (
        "region_specs[1].key_spec.type: expected AWS_KMS like the other regions, got 'GCP_CLOUD_KMS'"
    )
    assert messages([{"region": "us-east-1", "key_spec": {"type": "NULL_KMS", "uri": "x", "auth_principal": "y"}}]) == [
        "region_specs[0].key_spec.type: expected one of AWS_KMS, GCP_CLOUD_KMS, got 'NULL_KMS'"
    ]


def test_region_spelling_follows_the_key_type_with_a_suggestion() -> None:
    assert messages([gcp("us-east-1")]) == [
        "region_specs[0].region: expected a GCP region name such as 'us-east1', got 'us-east-1'; did you mean 'us-east1'?"
    ]
    assert messages([aws("us-east1")]) == [
        "region_specs[0].region: expected an AWS region name such as 'us-east-1', got 'us-east1'; did you mean 'us-east-1'?"
    ]


@pytest.mark.parametrize(
    ("cloud", "region", "suggestion"),
    [
        ("GCP", "us-east-1", "us-east1"),
        ("GCP", "europe-west-1", "europe-west1"),
        ("GCP", "northamerica-northeast-1", "northamerica-northeast1"),
        ("AWS", "us-west2", "us-west-2"),
        ("AWS", "europe-west1", None),  # no AWS region is spelled like that
        ("GCP", "us-east1", None),
    ],
)
def test_suggest_region(cloud: str, region: str, suggestion: str | None) -> None:
    assert suggest_region(cloud, region) == suggestion
    if suggestion is not None:
        assert region_problem(cloud, "regions[0]", suggestion) is None


def test_shape_errors_and_empty_lists() -> None:
    assert messages([]) == ["region_specs: expected at least one region spec (one per cluster region), got []"]
    assert messages("us-east-1")[0].startswith("region_specs: expected a list of {region, key_spec} objects")
    assert messages([{"region": "us-east-1"}]) == [
        "region_specs[0].key_spec: expected an object with type, uri and auth_principal, got None"
    ]


def test_unknown_values_are_not_checked() -> None:
    unknown = object()
    problems = region_specs_problems([aws("us-east-1", uri=unknown)], is_unknown=lambda v: v is unknown)  # type: ignore[arg-type]
    assert problems == []


def test_parse_raises_every_problem_at_once() -> None:
    with pytest.raises(SpecProblems) as raised:
        parse_region_specs([aws("us-east-1", "alias/a"), aws("us-east-1", "alias/b")])
    assert len(raised.value.problems) == 3
    specs = parse_region_specs([aws("us-east-1")])
    assert specs == [RegionSpec("us-east-1", KeySpec("AWS_KMS", KEY, ROLE))]


def test_cmek_config_json_is_the_seed_document_sorted_by_region() -> None:
    text = render_cmek_config(
        [RegionSpec("us-west-2", KeySpec("AWS_KMS", MRK, ROLE)), RegionSpec("us-east-1", KeySpec("AWS_KMS", KEY, ROLE))]
    )
    assert json.loads(text) == {
        "region_specs": [
            {"region": "us-east-1", "key_spec": {"type": "AWS_KMS", "uri": KEY, "auth_principal": ROLE}},
            {"region": "us-west-2", "key_spec": {"type": "AWS_KMS", "uri": MRK, "auth_principal": ROLE}},
        ]
    }
    assert text.endswith("\n")


def test_crl_kms_principal_uses_the_last_twelve_characters_of_the_cluster_id() -> None:
    assert (
        crl_kms_principal("76ca373f-796f-4665-8685-4b0276fa3a66", "crl-prod-9kd")
        == "crl-kms-user-4b0276fa3a66@crl-prod-9kd.iam.gserviceaccount.com"
    )
    with pytest.raises(SpecError, match="account_id: expected the cluster's GCP project"):
        crl_kms_principal("76ca373f-796f-4665-8685-4b0276fa3a66", "")


def test_key_type_for_cloud() -> None:
    assert key_type_for_cloud("AWS") == "AWS_KMS"
    assert key_type_for_cloud("GCP") == "GCP_CLOUD_KMS"
    with pytest.raises(SpecError, match=r"cloud: expected 'AWS' or 'GCP'.*got 'AZURE'"):
        key_type_for_cloud("AZURE")


def test_key_generations_read_base_and_per_region_overrides() -> None:
    from cmek_component.manifest.generations import key_generations

    read = key_generations({"key_generation": 2, "region_key_generations": {"us-east-1": 3}}, ["us-east-1", "us-west-2"])
    assert (read.base, read.overrides, read.problems) == (2, {"us-east-1": 3}, [])
    assert (read.of("us-east-1"), read.of("us-west-2")) == (3, 2)

    bad = key_generations({"key_generation": True, "region_key_generations": {"eu-west-1": 2, "us-east-1": 0}}, ["us-east-1"])
    assert bad.base == 1 and bad.overrides == {}
    assert [str(p) for p in bad.problems] == [
        "key_generation: expected a whole number from 1 to 100 (every generation stays declared), got True",
        "region_key_generations.eu-west-1: expected a cluster region as key (us-east-1), got 'eu-west-1'",
        "region_key_generations.us-east-1: expected a whole number from 1 to 100 (every generation stays declared), got 0",
    ]
