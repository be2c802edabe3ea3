"""Vault ``keymgmt`` plan and naming rules (pure): what would be declared, and every refusal,
each naming the field, the rule and the value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cmek_component.manifest.problems import SpecError, SpecProblems
from cmek_component.vault.plan import plan_vault_keys
from cmek_component.vault.rules import (
    aws_alias_name,
    aws_key_arn,
    distribution_path,
    gcp_key_uri,
    kms_key_name,
    plaintext_secret_problems,
)

RING = "projects/cust-proj/locations/global/keyRings/crdb-vault"
ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def args(vault: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"cluster_id": "c", "vault": vault or {}, **extra}


def messages(excinfo: pytest.ExceptionInfo[SpecProblems]) -> list[str]:
    return [str(problem) for problem in excinfo.value.problems]


def test_aws_defaults_follow_the_seed_one_entry_and_key_per_region() -> None:
    plan = plan_vault_keys("AWS", ["us-west-2", "us-east-1"], args())

    assert (plan.mount_path, plan.manage_mount, plan.protection, plan.namespace) == ("keymgmt", True, "hsm", None)
    assert (plan.credentials, plan.credentials_version, plan.deletion_allowed) == ("config", 1, False)
    assert (plan.retain_on_delete, plan.protect) == (True, False)
    assert [(e.name, e.key_collection, e.regions) for e in plan.kms_entries] == [
        ("awskms-us-east-1", "us-east-1", ("us-east-1",)),
        ("awskms-us-west-2", "us-west-2", ("us-west-2",)),
    ]
    assert [(k.name, k.kms.name, k.generation) for k in plan.keys] == [
        ("crdb-cmek-vault-us-east-1", "awskms-us-east-1", 1),
        ("crdb-cmek-vault-us-west-2", "awskms-us-west-2", 1),
    ]
    assert {r: k.name for r, k in plan.region_keys.items()} == {
        "us-east-1": "crdb-cmek-vault-us-east-1",
        "us-west-2": "crdb-cmek-vault-us-west-2",
    }


def test_gcp_uses_one_entry_name_to_create_distribute_and_read() -> None:
    # The seed creates keymgmt/kms/gcpckms but imports into keymgmt/kms/gcpkms/...; here the one
    # entry name is used for every path.
    plan = plan_vault_keys("GCP", ["us-east1", "us-west1"], args({"key_collection": RING}))

    assert [(e.name, e.key_collection, e.regions) for e in plan.kms_entries] == [
        ("gcpckms-global", RING, ("us-east1", "us-west1"))
    ]
    (key,) = plan.keys
    assert key.name == "crdb-cmek-vault-global"
    assert key.read_path(plan.mount_path) == "keymgmt/kms/gcpckms-global/key/crdb-cmek-vault-global"
    assert plan.region_keys == {"us-east1": key, "us-west1": key}


def test_options_are_taken_as_given() -> None:
    plan = plan_vault_keys(
        "GCP",
        ["us-east1", "europe-west1"],
        args(
            {
                "mount_path": "kms/crdb",
                "manage_mount": False,
                "namespace": "admin/team",
                "kms_name": "gcp",
                "key_name": "cmek",
                "key_collection": RING,
                "key_collections": {"europe-west1": "projects/cust-proj/locations/europe-west1/keyRings/eu"},
                "protection": "software",
                "credentials": "vault-server",
                "credentials_version": 3,
                "deletion_allowed": True,
                "retain_on_delete": False,
                "protect": True,
            }
        ),
    )

    assert (plan.mount_path, plan.manage_mount, plan.namespace, plan.protection) == ("kms/crdb", False, "admin/team", "software")
    assert (plan.credentials, plan.credentials_version) == ("vault-server", 3)
    assert (plan.deletion_allowed, plan.retain_on_delete, plan.protect) == (True, False, True)
    assert [(e.name, e.regions) for e in plan.kms_entries] == [("gcp-europe-west1", ("europe-west1",)), ("gcp-global", ("us-east1",))]
    assert {r: k.read_path(plan.mount_path) for r, k in plan.region_keys.items()} == {
        "europe-west1": "kms/crdb/kms/gcp-europe-west1/key/cmek-europe-west1",
        "us-east1": "kms/crdb/kms/gcp-global/key/cmek-global",
    }


def test_adding_a_region_never_renames_existing_entries_or_keys() -> None:
    before = plan_vault_keys("AWS", ["us-east-1"], args())
    after = plan_vault_keys("AWS", ["us-east-1", "eu-west-1"], args())

    assert before.region_keys["us-east-1"].name == after.region_keys["us-east-1"].name
    assert before.region_keys["us-east-1"].kms.name == after.region_keys["us-east-1"].kms.name
    assert before.region_keys["us-east-1"].resource_suffix == after.region_keys["us-east-1"].resource_suffix


def test_generations_keep_every_older_key_and_point_each_region_at_its_own() -> None:
    plan = plan_vault_keys(
        "AWS", ["us-east-1", "eu-west-1"], args(key_generation=2, region_key_generations={"eu-west-1": 3})
    )

    assert [(k.name, k.resource_suffix) for k in plan.keys] == [
        ("crdb-cmek-vault-eu-west-1", "eu-west-1"),
        ("crdb-cmek-vault-eu-west-1-g2", "eu-west-1-g2"),
        ("crdb-cmek-vault-eu-west-1-g3", "eu-west-1-g3"),
        ("crdb-cmek-vault-us-east-1", "us-east-1"),
        ("crdb-cmek-vault-us-east-1-g2", "us-east-1-g2"),
    ]
    assert {r: k.name for r, k in plan.region_keys.items()} == {
        "eu-west-1": "crdb-cmek-vault-eu-west-1-g3",
        "us-east-1": "crdb-cmek-vault-us-east-1-g2",
    }


def test_every_problem_is_reported_with_field_rule_and_value() -> None:
    with pytest.raises(SpecProblems) as excinfo:
        plan_vault_keys(
            "AWS",
            ["us-east-1"],
            args(
                {
                    "mount_path": "/keymgmt/",
                    "namespace": "admin/",
                    "kms_name": "aws kms",
                    "key_name": "crdb.cmek",
                    "protection": "HSM",
                    "credentials": "env",
                    "credentials_version": 0,
                    "retain_on_delete": "yes",
                    "key_collections": {"us-east-1": "us-east1", "us-west-2": "us-west-2"},
                }
            ),
        )

    assert messages(excinfo) == [
        "vault.mount_path: expected a path such as 'keymgmt' (letters, digits, '_', '-', inner '/'; "
        "no leading or trailing '/'), got '/keymgmt/'",
        "vault.namespace: expected a namespace such as 'admin' or 'admin/team' (no leading or trailing '/'), got 'admin/'",
        "vault.kms_name: expected letters, digits, '_' and '-' only, got 'aws kms'",
        "vault.key_name: expected letters, digits, '_' and '-' only, got 'crdb.cmek'",
        "vault.protection: expected one of hsm, software, got 'HSM'",
        "vault.credentials: expected one of config, vault-server, got 'env'",
        "vault.credentials_version: expected an integer of at least 1, got 0",
        "vault.retain_on_delete: expected true or false, got 'yes'",
        "vault.key_collections['us-west-2']: expected one of the cluster regions ['us-east-1'], got 'us-west-2'",
        "vault.key_collections['us-east-1']: expected an AWS region such as 'us-east-1', got 'us-east1'; "
        "did you mean 'us-east-1'?",
    ]


def test_gcp_needs_an_existing_key_ring_for_every_region() -> None:
    with pytest.raises(SpecProblems) as excinfo:
        plan_vault_keys("GCP", ["us-east1", "us-west1"], args({"key_collections": {"us-west1": "my-ring"}}))

    assert messages(excinfo) == [
        "vault.key_collections['us-east1']: expected an existing Cloud KMS key ring "
        "(projects/<project>/locations/<location>/keyRings/<ring>) for every cluster region "
        "(or vault.key_collection for all), got None",
        "vault.key_collections['us-west1']: expected an existing Cloud KMS key ring "
        "(projects/<project>/locations/<location>/keyRings/<ring>), got 'my-ring'",
    ]


def test_two_key_rings_in_one_location_are_refused() -> None:
    with pytest.raises(SpecProblems) as excinfo:
        plan_vault_keys(
            "GCP",
            ["us-east1", "us-west1"],
            args(
                {
                    "key_collections": {
                        "us-east1": "projects/p-123456/locations/us/keyRings/a",
                        "us-west1": "projects/p-123456/locations/us/keyRings/b",
                    }
                }
            ),
        )

    assert messages(excinfo) == [
        "vault.key_collections: expected one key ring per location (entries and keys are named after the "
        "location), got 'projects/p-123456/locations/us/keyRings/a' and 'projects/p-123456/locations/us/keyRings/b'"
    ]


def test_vault_and_bring_your_own_keys_exclude_each_other() -> None:
    with pytest.raises(SpecProblems) as excinfo:
        plan_vault_keys("AWS", ["us-east-1"], args(aws={"byo_keys": {"us-east-1": ARN}}))

    assert messages(excinfo) == [
        "vault: cannot be combined with aws.byo_keys (a region gets either its own key or a Vault key), got both"
    ]


def test_a_key_name_the_kms_could_not_hold_is_refused() -> None:
    longest = plan_vault_keys("AWS", ["ap-southeast-2"], args({"key_name": "k" * 37}))
    assert len(longest.keys[0].name) == 52
    with pytest.raises(SpecProblems) as excinfo:
        plan_vault_keys("AWS", ["ap-southeast-2"], args({"key_name": "k" * 38}))

    (message,) = messages(excinfo)
    assert message.startswith("vault.key_name: expected the key name '" + "k" * 38 + "-ap-southeast-2'")
    assert "at most 52 characters (the KMS adds '-<timestamp>')" in message


def test_generation_problems_name_the_generation_fields() -> None:
    with pytest.raises(SpecProblems) as excinfo:
        plan_vault_keys("AWS", ["us-east-1"], args(key_generation=0, region_key_generations={"eu-west-1": 2}))

    assert messages(excinfo) == [
        "key_generation: expected a whole number from 1 to 100 (every generation stays declared), got 0",
        "region_key_generations.eu-west-1: expected a cluster region as key (us-east-1), got 'eu-west-1'",
    ]


def test_unknown_cloud_is_refused() -> None:
    with pytest.raises(SpecError, match=r"cloud: expected 'AWS' or 'GCP' for Vault key material, got 'AZURE'"):
        plan_vault_keys("AZURE", ["eastus"], args())


def test_distributed_key_name_is_read_from_vault_read_data() -> None:
    data = json.dumps({"name": "crdb-cmek-vault-global-1700000000", "protection": "hsm", "versions": {"1": "x"}})

    assert kms_key_name(data, "keymgmt/kms/gcpckms-global/key/crdb-cmek-vault-global") == "crdb-cmek-vault-global-1700000000"
    with pytest.raises(SpecError) as excinfo:
        kms_key_name(json.dumps({"versions": {}}), "keymgmt/kms/k/key/n")
    assert str(excinfo.value) == (
        "vault read keymgmt/kms/k/key/n: data.name: expected the key's name in the KMS "
        "(such as 'crdb-cmek-vault-<suffix>'), got None"
    )
    with pytest.raises(SpecError, match=r"vault read p: expected the JSON data of a distributed key, got 'not json'"):
        kms_key_name("not json", "p")


def test_key_uris_from_the_kms_key_name() -> None:
    assert gcp_key_uri(RING, "crdb-cmek-vault-global-17") == f"{RING}/cryptoKeys/crdb-cmek-vault-global-17"
    assert aws_alias_name("crdb-cmek-vault-us-east-1-17") == "alias/hashicorp/crdb-cmek-vault-us-east-1-17"
    assert aws_key_arn(ARN, "alias/hashicorp/x", "us-east-1") == ARN
    with pytest.raises(SpecError, match=r"expected a key in eu-west-1 \(the Vault KMS entry's key_collection\)"):
        aws_key_arn(ARN, "alias/hashicorp/x", "eu-west-1")
    with pytest.raises(SpecError, match=r"target_key_arn: expected a KMS key ARN"):
        aws_key_arn("arn:aws:kms:us-east-1:111122223333:alias/x", "alias/hashicorp/x", "us-east-1")
    assert distribution_path("/keymgmt/", "awskms-us-east-1", "k") == "keymgmt/kms/awskms-us-east-1/key/k"


def test_plain_text_secrets_in_config_are_named() -> None:
    problems = plaintext_secret_problems({"vault:token": False, "cmek-vault:awsSecretKey": True})

    assert [str(p) for p in problems] == [
        "vault:token: must be a secret (run `pulumi config set --secret vault:token <value>`), got a plain-text value"
    ]


@pytest.mark.parametrize(
    ("cloud", "vault", "field"),
    [
        ("AWS", {"key_collection": "us-east-1\n"}, "vault.key_collection"),
        ("AWS", {"mount_path": "keymgmt\n"}, "vault.mount_path"),
        ("AWS", {"key_name": "crdb\n"}, "vault.key_name"),
        ("GCP", {"key_collection": "projects/customer-kms/locations/us-east1/keyRings/r\n"}, "vault.key_collection"),
    ],
    ids=["aws-collection", "mount-path", "key-name", "gcp-key-ring"],
)
def test_vault_names_match_the_whole_value(cloud: str, vault: dict[str, Any], field: str) -> None:
    region = "us-east-1" if cloud == "AWS" else "us-east1"
    with pytest.raises(SpecProblems) as caught:
        plan_vault_keys(cloud, [region], args(vault))

    assert [m for m in messages(caught) if m.startswith(f"{field}: ") and "\\n'" in m], messages(caught)


def test_a_distributed_key_name_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(SpecError):
        kms_key_name(json.dumps({"name": "crdb-cmek-vault-us-east-1-1700000000\n"}), "keymgmt/kms/awskms/key/k")
