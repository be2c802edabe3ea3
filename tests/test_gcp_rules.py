"""GCP naming rules and key plan (pure): names, URIs, generations, locations, validation messages."""

from __future__ import annotations

from typing import Any

import pytest

from cmek_component.gcp.plan import GcpPlan, plan_gcp_keys
from cmek_component.gcp.rules import crypto_key_name, service_account_email
from cmek_component.manifest.problems import SpecProblems
from cmek_component.manifest.region_specs import region_specs_problems
from tests.support.digits import full_width

CLUSTER_ID = "8a7b6c5d-1234-4321-abcd-0123456789ab"
CRDB_PROJECT = "crl-prod-abc"
PROJECT = "cust-proj"
RING = f"crdb-cmek-{CLUSTER_ID}"


def plan(regions: list[str], gcp: dict[str, Any] | None = None, **extra: Any) -> GcpPlan:
    args: dict[str, Any] = {"cluster_id": CLUSTER_ID, "gcp": {"project": PROJECT, **(gcp or {})}, **extra}
    return plan_gcp_keys(CLUSTER_ID, regions, CRDB_PROJECT, args)  # type: ignore[arg-type]


def problems_of(regions: list[str], gcp: dict[str, Any] | None = None, **extra: Any) -> list[str]:
    with pytest.raises(SpecProblems) as caught:
        plan(regions, gcp, **extra)
    return [str(p) for p in caught.value.problems]


def test_default_plan_single_region_matches_the_seed_manifest() -> None:
    result = plan(["us-east1"])

    assert result.service_account_id == "crdb-cmek-456789ab"
    assert result.service_account_email == "crdb-cmek-456789ab@cust-proj.iam.gserviceaccount.com"
    assert result.service_account_path == (
        "projects/cust-proj/serviceAccounts/crdb-cmek-456789ab@cust-proj.iam.gserviceaccount.com"
    )
    assert result.display_name == f"CockroachDB CMEK {CLUSTER_ID}"
    assert result.crl_principal == "crl-kms-user-0123456789ab@crl-prod-abc.iam.gserviceaccount.com"
    assert result.key_ring_name == RING
    assert result.key_rings == {"us-east1": f"projects/cust-proj/locations/us-east1/keyRings/{RING}"}
    assert result.key_uris == {
        "us-east1": f"projects/cust-proj/locations/us-east1/keyRings/{RING}/cryptoKeys/crdb-cmek"
    }
    assert (result.protection_level, result.rotation_period) == ("SOFTWARE", None)
    assert (result.retain_on_delete, result.protect) == (True, False)
    # What CockroachDB Cloud receives passes the manifest's own validation.
    specs = [
        {
            "region": region,
            "key_spec": {"type": "GCP_CLOUD_KMS", "uri": uri, "auth_principal": result.service_account_email},
        }
        for region, uri in result.key_uris.items()
    ]
    assert region_specs_problems(specs) == []


def test_regions_sharing_a_location_share_one_key_ring_with_one_key_per_region() -> None:
    result = plan(
        ["us-east1", "us-west1", "europe-west1"],
        {"key_locations": {"us-east1": "global", "us-west1": "global"}},
    )

    assert (list(result.key_rings), result.key_ring_name) == (["europe-west1", "global"], RING)
    assert result.key_uris == {
        "europe-west1": f"projects/cust-proj/locations/europe-west1/keyRings/{RING}/cryptoKeys/crdb-cmek",
        "us-east1": f"projects/cust-proj/locations/global/keyRings/{RING}/cryptoKeys/crdb-cmek-us-east1",
        "us-west1": f"projects/cust-proj/locations/global/keyRings/{RING}/cryptoKeys/crdb-cmek-us-west1",
    }


def test_adding_a_region_never_renames_existing_keys() -> None:
    before = plan(["us-east1"], {"key_locations": {"us-east1": "us"}})
    after = plan(["us-east1", "us-central1"], {"key_locations": {"us-east1": "us", "us-central1": "us"}})

    assert set(before.key_uris.items()) < set(after.key_uris.items())
    assert after.key_uris["us-central1"].endswith("/locations/us/keyRings/" + RING + "/cryptoKeys/crdb-cmek-us-central1")


def test_key_generation_adds_new_keys_and_keeps_the_old_ones() -> None:
    first = plan(["us-east1", "us-west1"])
    second = plan(["us-east1", "us-west1"], key_generation=2)

    names = [(k.region, k.generation, k.name, k.current) for k in second.crypto_keys]
    assert names == [
        ("us-east1", 1, "crdb-cmek", False),
        ("us-east1", 2, "crdb-cmek-g2", True),
        ("us-west1", 1, "crdb-cmek", False),
        ("us-west1", 2, "crdb-cmek-g2", True),
    ]
    assert {k.uri for k in first.crypto_keys} < {k.uri for k in second.crypto_keys}
    assert all(uri.endswith("/cryptoKeys/crdb-cmek-g2") for uri in second.key_uris.values())


def test_region_key_generations_rotate_only_that_region() -> None:
    result = plan(["us-east1", "us-west1"], region_key_generations={"us-west1": 3})

    assert result.key_uris["us-east1"].endswith("/cryptoKeys/crdb-cmek")
    assert result.key_uris["us-west1"].endswith("/cryptoKeys/crdb-cmek-g3")
    assert [k.name for k in result.crypto_keys if k.region == "us-west1"] == [
        "crdb-cmek",
        "crdb-cmek-g2",
        "crdb-cmek-g3",
    ]


def test_crypto_key_name_suffixes() -> None:
    assert crypto_key_name("k", "us-east1", "us-east1", 1) == "k"
    assert crypto_key_name("k", "us-east1", "us-east1", 4) == "k-g4"
    assert crypto_key_name("k", "us-east1", "global", 1) == "k-us-east1"
    assert crypto_key_name("k", "us-east1", "nam4", 2) == "k-us-east1-g2"


def test_options_are_used_as_given() -> None:
    result = plan(
        ["us-east1"],
        {
            "service_account_id": "crdb-sa",
            "display_name": "CRDB",
            "key_ring_name": "Ring_1",
            "crypto_key_name": "key_a",
            "protection_level": "HSM",
            "rotation_period": "7776000s",
            "retain_on_delete": False,
            "protect": True,
        },
    )

    assert (result.service_account_id, result.display_name) == ("crdb-sa", "CRDB")
    assert result.key_uris == {"us-east1": "projects/cust-proj/locations/us-east1/keyRings/Ring_1/cryptoKeys/key_a"}
    assert (result.protection_level, result.rotation_period) == ("HSM", "7776000s")
    assert (result.retain_on_delete, result.protect) == (False, True)


def test_bring_your_own_key_replaces_the_created_key_for_that_region() -> None:
    byo = "projects/other-proj/locations/global/keyRings/mine/cryptoKeys/k1"
    result = plan(["us-east1", "us-west1"], {"byo_keys": {"us-east1": byo}})

    assert result.key_uris["us-east1"] == byo
    assert [k.region for k in result.crypto_keys] == ["us-west1"]
    assert (result.byo_keys, result.grant_byo_keys) == ({"us-east1": byo}, True)

    no_grant = plan(["us-east1"], {"byo_keys": {"us-east1": byo}, "grant_byo_keys": False})
    assert no_grant.key_rings == {} and no_grant.crypto_keys == []
    assert (no_grant.byo_keys, no_grant.grant_byo_keys) == ({"us-east1": byo}, False)


def test_project_falls_back_to_gcp_config_and_the_argument_wins() -> None:
    args: dict[str, Any] = {"cluster_id": CLUSTER_ID}
    from_config = plan_gcp_keys(CLUSTER_ID, ["us-east1"], CRDB_PROJECT, args, default_project="cfg-proj")  # type: ignore[arg-type]
    assert from_config.project == "cfg-proj"
    args["gcp"] = {"project": "arg-proj"}
    from_args = plan_gcp_keys(CLUSTER_ID, ["us-east1"], CRDB_PROJECT, args, default_project="cfg-proj")  # type: ignore[arg-type]
    assert from_args.project == "arg-proj"


def test_missing_project_names_gcp_project_and_how_to_set_it() -> None:
    with pytest.raises(SpecProblems) as caught:
        plan_gcp_keys(CLUSTER_ID, ["us-east1"], CRDB_PROJECT, {"cluster_id": CLUSTER_ID}, default_project=None)
    (message,) = [str(p) for p in caught.value.problems]
    assert message.startswith("gcp.project: expected the GCP project")
    assert "pulumi config set gcp:project" in message


def test_domain_scoped_project_email() -> None:
    assert service_account_email("crdb-sa", "example.com:my-proj") == (
        "crdb-sa@my-proj.example.com.iam.gserviceaccount.com"
    )


def test_service_account_id_message_names_field_rule_and_value() -> None:
    assert problems_of(["us-east1"], {"service_account_id": "Crdb_SA"}) == [
        "gcp.service_account_id: expected 6-30 characters of lower-case letters, digits and hyphens, "
        "starting with a letter, got 'Crdb_SA'"
    ]


@pytest.mark.parametrize("bad", ["short", "a" * 31, "1crdb-sa", "crdb.sa", "crdb-sa-"])
def test_service_account_id_rules(bad: str) -> None:
    (message,) = problems_of(["us-east1"], {"service_account_id": bad})
    assert message.startswith("gcp.service_account_id: expected ") and message.endswith(f"got {bad!r}")


@pytest.mark.parametrize("good", ["abcdef", "a" * 30, "crdb-sa-2"])
def test_service_account_id_accepted(good: str) -> None:
    assert plan(["us-east1"], {"service_account_id": good}).service_account_id == good


def test_aws_style_region_suggests_the_gcp_spelling() -> None:
    assert problems_of(["us-east-1"]) == [
        "regions[0]: expected a GCP region name such as 'us-east1', got 'us-east-1'; did you mean 'us-east1'?"
    ]
    (message,) = problems_of(["us-east1", "europe-west-1"], add_regions={"europe-west-1": 3})
    assert message.startswith("add_regions.europe-west-1: expected a GCP region name")
    assert message.endswith("did you mean 'europe-west1'?")


def test_key_location_rules() -> None:
    (message,) = problems_of(["us-east1"], {"key_locations": {"us-east1": "us-east-4"}})
    assert message.startswith("gcp.key_locations.us-east1: expected a Cloud KMS location")
    assert message.endswith("got 'us-east-4'; did you mean 'us-east4'?")
    (message,) = problems_of(["us-east1"], {"key_locations": {"asia-east1": "global"}})
    assert message == "gcp.key_locations.asia-east1: expected a cluster region as key (us-east1), got 'asia-east1'"
    for ok in ("global", "us", "europe", "nam4", "us-central1"):
        assert list(plan(["us-east1"], {"key_locations": {"us-east1": ok}}).key_rings) == [ok]


def test_kms_names_and_suffix_length() -> None:
    (message,) = problems_of(["us-east1"], {"key_ring_name": "ring/1"})
    assert message == "gcp.key_ring_name: expected 1-63 characters of letters, digits, '_' and '-', got 'ring/1'"
    base = "k" * 60
    (message,) = problems_of(["us-east1"], {"crypto_key_name": base, "key_locations": {"us-east1": "global"}})
    assert message.startswith("gcp.crypto_key_name: expected a name that stays within 63 characters")
    assert f"'{base}-us-east1'" in message and message.endswith(f"got {base!r}")


@pytest.mark.parametrize("period", ["30d", "3600s", "7776000", "9999999999s", 86400])
def test_rotation_period_rules(period: object) -> None:
    (message,) = problems_of(["us-east1"], {"rotation_period": period})
    assert message.startswith("gcp.rotation_period: expected a duration in seconds such as '7776000s'")
    assert message.endswith(f"got {period!r}")


def test_byo_key_rules() -> None:
    versioned = "projects/p-123456/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1"
    (message,) = problems_of(["us-east1"], {"byo_keys": {"us-east1": versioned}})
    assert message.startswith("gcp.byo_keys.us-east1: expected a Cloud KMS crypto key name without a version")
    assert "drop the /cryptoKeyVersions/<n> suffix" in message
    byo = "projects/p-123456/locations/global/keyRings/r/cryptoKeys/k"
    messages = problems_of(
        ["us-east1"],
        {"byo_keys": {"us-east1": byo}, "key_locations": {"us-east1": "global"}},
        region_key_generations={"us-east1": 2},
    )
    assert messages == [
        "gcp.key_locations.us-east1: expected no location for us-east1, whose key comes from gcp.byo_keys, "
        "got 'global'",
        "region_key_generations.us-east1: expected only regions whose keys this component creates (us-east1 "
        "uses gcp.byo_keys: rotate it by changing its URI), got 2",
    ]


def test_every_problem_is_reported_at_once() -> None:
    messages = problems_of(
        ["us-east-1"],
        {
            "project": "Bad_Project",
            "service_account_id": "x",
            "protection_level": "EXTERNAL",
            "servce_account_id": "typo",
            "protect": "yes",
        },
        key_generation=0,
    )
    fields = [m.split(":", 1)[0] for m in messages]
    assert fields == [
        "gcp.servce_account_id",
        "regions[0]",
        "gcp.project",
        "gcp.service_account_id",
        "gcp.protection_level",
        "gcp.protect",
        "key_generation",
    ]
    assert "expected one of SOFTWARE, HSM, got 'EXTERNAL'" in messages[4]


def test_account_id_must_be_a_gcp_project() -> None:
    args: dict[str, Any] = {"cluster_id": CLUSTER_ID, "gcp": {"project": PROJECT}}
    with pytest.raises(SpecProblems) as caught:
        plan_gcp_keys(CLUSTER_ID, ["us-east1"], "123456789012", args)  # type: ignore[arg-type]
    (message,) = [str(p) for p in caught.value.problems]
    assert message.startswith("account_id: expected the cluster's GCP project id")
    assert message.endswith("got '123456789012'")


VAULT_RING = "projects/cust-proj/locations/global/keyRings/crdb-vault"


def test_vault_plan_has_the_identity_and_no_cloud_keys() -> None:
    result = plan(["us-east1", "us-west1"], vault={"key_collection": VAULT_RING}, key_generation=2)

    assert result.uses_vault is True
    assert (result.key_rings, result.crypto_keys, result.byo_keys, result.key_uris) == ({}, [], {}, {})
    assert result.service_account_email == "crdb-cmek-456789ab@cust-proj.iam.gserviceaccount.com"
    assert result.crl_principal == "crl-kms-user-0123456789ab@crl-prod-abc.iam.gserviceaccount.com"


def test_vault_problems_and_gcp_key_options_are_reported_together() -> None:
    messages = problems_of(
        ["us-east1"],
        {"crypto_key_name": "k", "protection_level": "HSM", "byo_keys": {"us-east1": VAULT_RING + "/cryptoKeys/k"}},
        vault={},
    )
    assert messages[0] == (
        "vault: cannot be combined with gcp.byo_keys (a region gets either its own key or a Vault key), got both"
    )
    assert messages[1].startswith("vault.key_collections['us-east1']: expected ")
    assert messages[2:] == [
        "gcp.crypto_key_name: has no effect with vault (Vault makes the keys), got 'k'",
        "gcp.protection_level: has no effect with vault (Vault makes the keys), got 'HSM'",
    ]


def test_a_long_value_is_cut_in_the_message() -> None:
    (message,) = problems_of(["us-east1"], {"display_name": "x" * 100_000})

    assert message.startswith("gcp.display_name: expected 1-100 characters, got 'xxxx")
    assert message.endswith("... (100000 characters)")
    assert len(message) < 250


@pytest.mark.parametrize(
    ("gcp", "field"),
    [
        ({"project": "customer-kms\n"}, "gcp.project"),
        ({"key_ring_name": "crdb\n"}, "gcp.key_ring_name"),
        ({"crypto_key_name": "cmek\n"}, "gcp.crypto_key_name"),
        ({"service_account_id": "crdb-cmek-sa\n"}, "gcp.service_account_id"),
        ({"key_locations": {"us-east1": "us\n"}}, "gcp.key_locations.us-east1"),
        ({"rotation_period": full_width("7776000s")}, "gcp.rotation_period"),
        ({"byo_keys": {"us-east1": "projects/customer-kms/locations/us-east1/keyRings/r/cryptoKeys/k\n"}}, "gcp.byo_keys.us-east1"),
    ],
    ids=["project", "key-ring", "crypto-key", "service-account", "location", "rotation-full-width", "byo-key"],
)
def test_gcp_names_match_the_whole_value_in_ascii(gcp: dict[str, Any], field: str) -> None:
    assert [m for m in problems_of(["us-east1"], gcp) if m.startswith(f"{field}: ")], problems_of(["us-east1"], gcp)


def test_a_region_with_a_trailing_newline_is_refused() -> None:
    assert problems_of(["us-east1\n"]) == [
        "regions[0]: expected a GCP region name such as 'us-east1', got 'us-east1\\n'"
    ]
