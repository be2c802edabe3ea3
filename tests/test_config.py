"""Stack configuration -> ClusterCmekArgs: the schema, its defaults and the errors a user sees.

Values are given as Pulumi hands them to the program: strings, structured values as JSON text.
"""

from __future__ import annotations

import json
from typing import Any, get_type_hints

import pytest

from cmek_component.component.args import (
    ActivationOptions,
    AwsKeyOptions,
    ClusterCmekArgs,
    GcpKeyOptions,
    VaultKeyOptions,
)
from cmek_component.stack.config import ConfigError, parse_stack_config
from cmek_component.stack.schema import cluster_fields, schema_fields
from tests.support.digits import arabic_indic, full_width

CLUSTER_KEYS = ", ".join(cluster_fields())
AWS_KEYS = ", ".join(schema_fields(AwsKeyOptions))

AWS_ID = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
AWS_ID_2 = "4261032b-e5e9-4ea5-8d58-bbcce2652dcd"
GCP_ID = "76ca373f-796f-4665-8685-4b0276fa3a66"
KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/mrk-0123456789abcdef0123456789abcdef"
GCP_KEY = "projects/customer-kms/locations/us-east1/keyRings/crdb/cryptoKeys/cmek"


def aws_cluster(**overrides: Any) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "cluster_id": AWS_ID,
        "cloud": "AWS",
        "regions": ["eu-west-1", "us-east-1", "us-west-2"],
        "account_id": "548012347802",
        "organization_id": "52337060-d4a4-4ece-98df-052610c8ec9f",
    }
    cluster.update(overrides)
    return cluster


def gcp_cluster(**overrides: Any) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "cluster_id": GCP_ID,
        "cloud": "GCP",
        "regions": ["europe-west1", "us-east1", "us-west1"],
        "account_id": "crl-prod-9kd",
    }
    cluster.update(overrides)
    return cluster


def stack(*clusters: dict[str, Any], **keys: Any) -> dict[str, str]:
    """A flat config map as Pulumi passes it: ``cmek:clusters`` as JSON, extra keys as given."""
    values = {"cmek:clusters": json.dumps(list(clusters))}
    for key, value in keys.items():
        values[key.replace("__", ":")] = value if isinstance(value, str) else json.dumps(value)
    return values


def problems(values: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, secret_keys=secret_keys)
    return [str(p) for p in caught.value.problems]


# ---------------------------------------------------------------------------------------------
# Valid configurations
# ---------------------------------------------------------------------------------------------


def test_aws_cluster_becomes_args_named_from_the_cluster_id() -> None:
    [cluster] = parse_stack_config(stack(aws_cluster(key_generation=2)), secret_keys=())

    assert cluster.name == "cluster-b23eaee4"
    assert cluster.args == aws_cluster(key_generation=2)


def test_several_clusters_keep_their_order_and_explicit_names() -> None:
    clusters = parse_stack_config(stack(aws_cluster(name="payments"), gcp_cluster()))

    assert [(c.name, c.args["cluster_id"]) for c in clusters] == [("payments", AWS_ID), ("cluster-76ca373f", GCP_ID)]
    assert "name" not in clusters[0].args


def test_other_namespaces_are_ignored_and_a_secret_api_key_is_accepted() -> None:
    values = stack(aws_cluster(), **{"aws__region": "us-east-1", "cockroach__apiKey": "k", "cockroach__apiUrl": "http://127.0.0.1:8080"})

    [cluster] = parse_stack_config(values, secret_keys={"cockroach:apiKey"})

    assert cluster.args["cluster_id"] == AWS_ID


def test_only_cluster_id_is_required_the_rest_comes_from_the_cloud_api() -> None:
    [cluster] = parse_stack_config(stack({"cluster_id": AWS_ID}))

    assert cluster.args == {"cluster_id": AWS_ID}


def test_stack_wide_options_are_merged_under_each_clusters_own() -> None:
    values = stack(
        aws_cluster(aws={"key_mode": "per-region", "tags": {"team": "payments"}}),
        aws_cluster(cluster_id=AWS_ID_2, regions=["us-east-1"]),
        gcp_cluster(),
        cmek__aws={"key_mode": "single", "tags": {"owner": "platform", "team": "db"}, "protect": True},
        cmek__gcp={"protection_level": "HSM"},
    )

    first, second, gcp = parse_stack_config(values)

    assert first.args["aws"] == {"key_mode": "per-region", "protect": True, "tags": {"owner": "platform", "team": "payments"}}
    assert second.args["aws"] == {"key_mode": "single", "protect": True, "tags": {"owner": "platform", "team": "db"}}
    assert gcp.args["gcp"] == {"protection_level": "HSM"}
    assert "aws" not in gcp.args


def test_every_key_of_the_component_args_is_accepted() -> None:
    """A config using every field of every args TypedDict parses: the schema is the args'."""
    aws_options = {
        "key_mode": "multi-region", "primary_region": "us-east-1", "alias": "alias/payments-cmek",
        "admin_principals": ["arn:aws:iam::111122223333:role/kms-admin"], "role_name": "crdb-cmek",
        "role_path": "/crdb/", "permissions_boundary": "arn:aws:iam::111122223333:policy/boundary",
        "tags": {"team": "db"}, "byo_keys": {"us-east-1": KEY_ARN, "us-west-2": KEY_ARN},
        "attach_key_policy": True, "enable_key_rotation": True, "deletion_window_in_days": 7,
        "retain_on_delete": True, "protect": False, "cut_key_access": False,
    }
    gcp_options = {
        "project": "customer-kms", "service_account_id": "crdb-cmek-sa", "display_name": "CMEK",
        "key_locations": {"us-east1": "us"}, "key_ring_name": "crdb", "crypto_key_name": "cmek",
        "protection_level": "SOFTWARE", "rotation_period": "7776000s", "byo_keys": {"us-east1": GCP_KEY},
        "grant_byo_keys": True, "retain_on_delete": True, "protect": True, "cut_key_access": False,
    }
    activation = {"wait_timeout_seconds": 3600, "iam_propagation_timeout_seconds": 600}
    vault = {
        "mount_path": "keymgmt", "manage_mount": False, "namespace": "admin", "kms_name": "awskms",
        "key_name": "crdb-cmek-vault", "key_collection": "us-east-1", "key_collections": {"us-east-1": "us-east-1"},
        "protection": "hsm", "credentials": "vault-server", "credentials_version": 1,
        "deletion_allowed": False, "retain_on_delete": True, "protect": False,
    }
    cluster = {
        "name": "everything", "cluster_id": AWS_ID, "cloud": "AWS", "regions": ["us-east-1"],
        "account_id": "548012347802", "organization_id": "org", "add_regions": {"us-west-2": 3},
        "key_generation": 3, "region_key_generations": {}, "rotation_trigger": "", "revoke": False,
        "aws": aws_options, "gcp": gcp_options, "activation": activation, "vault": vault,
    }
    gcp_only = {**gcp_cluster(regions=["us-east1"]), "gcp": gcp_options}
    vault_only = {**aws_cluster(cluster_id=AWS_ID_2, regions=["us-east-1"]), "vault": vault}
    assert set(cluster) - {"name"} == set(get_type_hints(ClusterCmekArgs))
    assert set(aws_options) == set(get_type_hints(AwsKeyOptions))
    assert set(gcp_options) == set(get_type_hints(GcpKeyOptions))
    assert set(activation) == set(get_type_hints(ActivationOptions))
    assert set(vault) == set(get_type_hints(VaultKeyOptions))
    del cluster["gcp"]  # GCP options on an AWS cluster are refused (tested below)
    del cluster["vault"]  # Vault and byo_keys exclude each other (tested below)

    parsed = parse_stack_config(stack(cluster, gcp_only, vault_only))

    assert parsed[0].args["aws"] == aws_options
    assert parsed[0].args["activation"] == activation
    assert parsed[1].args["gcp"] == gcp_options
    assert parsed[2].args["vault"] == vault


# ---------------------------------------------------------------------------------------------
# Wrong types and values: the message names the key, the rule and the value
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"key_generation": "two"}, "cmek:clusters[0].key_generation: expected an integer from 1 to 100, got 'two'"),
        ({"key_generation": 0}, "cmek:clusters[0].key_generation: expected an integer from 1 to 100, got 0"),
        ({"key_generation": "2"}, "cmek:clusters[0].key_generation: expected an integer from 1 to 100, got '2' (a string: write the number without quotes)"),
        ({"revoke": "yes"}, "cmek:clusters[0].revoke: expected true or false, got 'yes'"),
        ({"regions": "us-east-1"}, "cmek:clusters[0].regions: expected a list of strings, got 'us-east-1'"),
        ({"cloud": "aws"}, "cmek:clusters[0].cloud: expected one of 'AWS', 'GCP', got 'aws'; did you mean 'AWS'?"),
        ({"cloud": "AZURE"}, "cmek:clusters[0].cloud: expected one of 'AWS', 'GCP', got 'AZURE'"),
        ({"cluster_id": "my-cluster"}, "cmek:clusters[0].cluster_id: expected a CockroachDB Cloud cluster id: a UUID in canonical form, 8-4-4-4-12 lower-case hex digits as in the cluster's URL (such as 8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f), got 'my-cluster'"),
        ({"add_regions": {"ap-south-1": 1}}, 'cmek:clusters[0].add_regions["ap-south-1"]: expected an integer >= 3, got 1'),
        ({"add_regions": ["ap-south-1"]}, "cmek:clusters[0].add_regions: expected a map of string to integer, got ['ap-south-1']"),
        ({"aws": {"key_mode": "multiregion"}}, "cmek:clusters[0].aws.key_mode: expected one of 'multi-region', 'per-region', 'single', got 'multiregion'; did you mean 'multi-region'?"),
        ({"aws": {"deletion_window_in_days": 45}}, "cmek:clusters[0].aws.deletion_window_in_days: expected an integer from 7 to 30, got 45"),
        ({"aws": {"alias": "alias/aws/ebs"}}, "cmek:clusters[0].aws.alias: expected 'alias/<name>' with at most 256 characters of a-zA-Z0-9:/_-, not starting with 'alias/aws/' (reserved for AWS managed keys), got 'alias/aws/ebs'"),
        ({"aws": {"tags": {"team": 7}}}, 'cmek:clusters[0].aws.tags["team"]: expected a string, got 7 (a number: quote it in the stack file, or set it with `pulumi config set --path --type string`)'),
        ({"activation": {"wait_timeout_seconds": True}}, "cmek:clusters[0].activation.wait_timeout_seconds: expected an integer from 1 to 604800, got True"),
        ({"aws": "multi-region"}, f"cmek:clusters[0].aws: expected an object with keys {AWS_KEYS}, got 'multi-region'"),
        ({"vault": {"credentials_version": 0}}, "cmek:clusters[0].vault.credentials_version: expected an integer >= 1, got 0"),
        ({"vault": {"protection": "HSM"}}, "cmek:clusters[0].vault.protection: expected one of 'hsm', 'software', got 'HSM'; did you mean 'hsm'?"),
    ],
)
def test_a_wrong_type_or_value_names_the_key_the_rule_and_the_value(overrides: dict[str, Any], expected: str) -> None:
    assert problems(stack(aws_cluster(**overrides))) == [expected]


def test_an_aws_account_id_written_as_a_number_is_refused_with_the_fix() -> None:
    # `pulumi config set --path 'clusters[0].account_id' 548012347802` stores a number.
    assert problems(stack(aws_cluster(account_id=548012347802))) == [
        "cmek:clusters[0].account_id: expected a string, got 548012347802 (a number: quote it in "
        "the stack file, or set it with `pulumi config set --path --type string`)"
    ]


def test_account_id_is_checked_against_the_clusters_cloud() -> None:
    assert problems(stack(aws_cluster(account_id="crl-prod-9kd"), gcp_cluster(account_id="548012347802"))) == [
        "cmek:clusters[0].account_id: expected a 12-digit AWS account id, got 'crl-prod-9kd'",
        "cmek:clusters[1].account_id: expected a GCP project id, got '548012347802'",
    ]


def test_gcp_protection_level_suggests_the_right_case_and_gcp_byo_key_drops_versions() -> None:
    cluster = gcp_cluster(
        regions=["us-east1"],
        gcp={"protection_level": "hsm", "byo_keys": {"us-east1": GCP_KEY + "/cryptoKeyVersions/1"}},
    )
    found = problems(stack(cluster))

    assert found[0] == "cmek:clusters[0].gcp.protection_level: expected one of 'SOFTWARE', 'HSM', got 'hsm'; did you mean 'HSM'?"
    assert found[1].startswith('cmek:clusters[0].gcp.byo_keys["us-east1"]: expected a Cloud KMS crypto key name without a version')
    assert found[1].endswith("/cryptoKeyVersions/1'; drop the /cryptoKeyVersions/<n> suffix")
    assert len(found) == 2


# ---------------------------------------------------------------------------------------------
# Unknown and missing keys
# ---------------------------------------------------------------------------------------------


def test_unknown_keys_anywhere_are_named_with_a_suggestion() -> None:
    values = stack(
        aws_cluster(),
        aws_cluster(cluster_id=AWS_ID_2, aws={"key_mod": "single"}, regoins=["us-east-1"]),
        cmek__cluster=[],
        cmek__aws={"tagz": {}},
        cockroach__apiUrll="https://cockroachlabs.cloud",
    )

    assert problems(values) == [
        "cmek:cluster: unknown key; did you mean 'clusters'?",
        "cockroach:apiUrll: unknown key; did you mean 'apiUrl'?",
        "cmek:aws.tagz: unknown key; did you mean 'tags'?",
        "cmek:clusters[1].aws.key_mod: unknown key; did you mean 'key_mode'?",
        "cmek:clusters[1].regoins: unknown key; did you mean 'regions'?",
    ]


def test_an_unknown_key_without_a_close_match_lists_the_valid_keys() -> None:
    assert problems(stack(aws_cluster(activation={"retries": 3}))) == [
        "cmek:clusters[0].activation.retries: unknown key; valid keys: wait_timeout_seconds, iam_propagation_timeout_seconds"
    ]


def test_a_cluster_without_cluster_id_is_refused() -> None:
    cluster = aws_cluster()
    del cluster["cluster_id"]

    assert problems(stack(aws_cluster(), cluster)) == ["cmek:clusters[1].cluster_id: required key is missing (string)"]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"aws:region": "us-east-1"}, "cmek:clusters: required key is missing; add a cluster with `pulumi config set --path 'clusters[0].cluster_id' <cluster id>`"),
        ({"cmek:clusters": "[]"}, "cmek:clusters: expected a list of at least one cluster object, got [] (set it with `pulumi config set --path 'clusters[0].cluster_id' <cluster id>`)"),
        ({"cmek:clusters": AWS_ID}, f"cmek:clusters: expected a list of at least one cluster object, got '{AWS_ID}' (set it with `pulumi config set --path 'clusters[0].cluster_id' <cluster id>`)"),
        ({"cmek:clusters": json.dumps([AWS_ID])}, f"cmek:clusters[0]: expected an object with keys {CLUSTER_KEYS}, got '{AWS_ID}'"),
    ],
)
def test_missing_or_malformed_clusters_list(values: dict[str, str], expected: str) -> None:
    assert problems(values) == [expected]


# ---------------------------------------------------------------------------------------------
# The API key
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["cmek:apiKey", "cmek:cockroachApiKey", "cmek:api_key"])
def test_an_api_key_in_the_project_namespace_is_refused_without_echoing_it(key: str) -> None:
    values = stack(aws_cluster(), **{key.replace(":", "__"): "CCDB1_secretvalue"})

    [message] = problems(values)

    assert message == (
        f"{key}: the CockroachDB Cloud API key is not project configuration; remove this key and "
        "run `pulumi config set --secret cockroach:apiKey <key>`"
    )


def test_an_api_key_inside_a_cluster_object_is_refused_without_echoing_it() -> None:
    [message] = problems(stack(aws_cluster(api_key="CCDB1_secretvalue")))

    assert message.startswith("cmek:clusters[0].api_key: the CockroachDB Cloud API key is not project configuration")
    assert "CCDB1_secretvalue" not in message


def test_a_plain_text_cockroach_api_key_is_refused_without_echoing_it() -> None:
    values = stack(aws_cluster(), cockroach__apiKey="CCDB1_secretvalue")

    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values, secret_keys=())

    assert [str(p) for p in caught.value.problems] == [
        "cockroach:apiKey: must be a secret (it would be stored in plain text in the stack file); "
        "run `pulumi config set --secret cockroach:apiKey <key>`"
    ]
    assert "CCDB1_secretvalue" not in str(caught.value) + repr(caught.value)


def test_values_of_a_secret_clusters_key_are_not_shown() -> None:
    values = stack(aws_cluster(rotation_trigger=12345))

    assert problems(values, secret_keys=("cmek:clusters",)) == [
        "cmek:clusters[0].rotation_trigger: expected a string, got [secret] (a number: quote it in "
        "the stack file, or set it with `pulumi config set --path --type string`)"
    ]


# ---------------------------------------------------------------------------------------------
# Rules between keys
# ---------------------------------------------------------------------------------------------


def test_revoke_together_with_added_regions_is_refused() -> None:
    assert problems(stack(aws_cluster(revoke=True, add_regions={"ap-south-1": 3}))) == [
        "cmek:clusters[0].revoke: true cannot be combined with add_regions: a revoke must be the "
        "only change of its update; remove add_regions or set revoke to false"
    ]


def test_revoke_with_add_regions_is_left_to_the_cloud_api_when_regions_are_read_from_it() -> None:
    # Without `regions` the schema cannot tell a pending region from one added earlier (the
    # component checks against GET cluster, see test_component_facts).
    cluster = aws_cluster(revoke=True, add_regions={"ap-south-1": 3})
    del cluster["regions"]
    [parsed] = parse_stack_config(stack(cluster))
    assert parsed.args["revoke"] is True and parsed.args["add_regions"] == {"ap-south-1": 3}


def test_revoke_alone_is_accepted() -> None:
    [cluster] = parse_stack_config(stack(aws_cluster(revoke=True)))

    assert cluster.args["revoke"] is True


def test_duplicate_cluster_ids_are_refused() -> None:
    assert problems(stack(aws_cluster(), gcp_cluster(), aws_cluster(name="again"))) == [
        f"cmek:clusters[2].cluster_id: cluster '{AWS_ID}' is already configured at cmek:clusters[0]; one entry per cluster"
    ]


def test_names_derived_from_ids_that_share_a_prefix_must_be_set_explicitly() -> None:
    twin = "b23eaee4-0000-4288-95db-3e81ee22d2eb"

    assert problems(stack(aws_cluster(), aws_cluster(cluster_id=twin))) == [
        "cmek:clusters[1].name: resource name 'cluster-b23eaee4' is already used by cmek:clusters[0] "
        "(derived from cluster_id); set cmek:clusters[1].name to a distinct name"
    ]
    assert [c.name for c in parse_stack_config(stack(aws_cluster(), aws_cluster(cluster_id=twin, name="twin")))] == [
        "cluster-b23eaee4",
        "twin",
    ]


def test_a_resource_name_must_be_short_and_plain() -> None:
    assert problems(stack(aws_cluster(name="payments cluster"))) == [
        "cmek:clusters[0].name: expected a resource name of 1-40 characters A-Za-z0-9_- starting with a letter, not 'clusters', got 'payments cluster'"
    ]


def test_region_names_are_checked_against_the_clusters_cloud() -> None:
    cluster = gcp_cluster(regions=["us-east-1", "us-west1"], add_regions={"us-west1": 3, "ap-south-1": 3})

    assert problems(stack(cluster)) == [
        "cmek:clusters[0].regions[0]: expected a GCP region name such as 'us-east1', got 'us-east-1'; did you mean 'us-east1'?",
        "cmek:clusters[0].add_regions[\"ap-south-1\"]: expected a GCP region name such as 'us-east1', got 'ap-south-1'; did you mean 'ap-south1'?",
        "cmek:clusters[0].add_regions[\"us-west1\"]: 'us-west1' is already a cluster region (listed in regions); remove it from add_regions",
    ]


def test_region_keyed_maps_must_name_cluster_regions() -> None:
    cluster = aws_cluster(
        regions=["us-east-1", "us-west-2"],
        aws={"key_mode": "per-region", "byo_keys": {"us-east-1": KEY_ARN}},
        region_key_generations={"eu-central-1": 2},
    )

    assert problems(stack(cluster)) == [
        "cmek:clusters[0].region_key_generations[\"eu-central-1\"]: 'eu-central-1' is not a cluster region (regions and add_regions: us-east-1, us-west-2)",
        "cmek:clusters[0].aws.byo_keys: expected a key for every cluster region; missing us-west-2",
    ]


def test_per_region_generations_need_per_region_keys_on_aws() -> None:
    assert problems(stack(aws_cluster(region_key_generations={"us-east-1": 2}))) == [
        "cmek:clusters[0].region_key_generations: needs aws.key_mode 'per-region' (a 'multi-region' "
        "key rotates every region at once: raise key_generation instead)"
    ]


def test_the_primary_region_must_be_a_cluster_region() -> None:
    assert problems(stack(aws_cluster(aws={"primary_region": "ap-south-1"}))) == [
        "cmek:clusters[0].aws.primary_region: expected one of the cluster regions (eu-west-1, us-east-1, us-west-2), got 'ap-south-1'"
    ]


def test_options_for_the_other_cloud_are_refused() -> None:
    assert problems(stack(gcp_cluster(aws={"key_mode": "single"}))) == [
        "cmek:clusters[0].aws: AWS options given for a GCP cluster (cloud: GCP); remove them"
    ]


def test_stack_wide_defaults_cannot_name_one_clusters_resources() -> None:
    values = stack(aws_cluster(), cmek__aws={"alias": "alias/shared", "key_mode": "single"}, cmek__gcp={"key_ring_name": "ring"})

    assert problems(values) == [
        "cmek:aws.alias: belongs to one cluster and cannot be a stack-wide default; set it under cmek:clusters[<i>].aws.alias",
        "cmek:gcp.key_ring_name: belongs to one cluster and cannot be a stack-wide default; set it under cmek:clusters[<i>].gcp.key_ring_name",
    ]


def test_two_clusters_cannot_share_an_explicit_alias_or_key_ring() -> None:
    values = stack(
        aws_cluster(aws={"alias": "alias/cmek"}),
        aws_cluster(cluster_id=AWS_ID_2, aws={"alias": "alias/cmek"}),
        gcp_cluster(gcp={"key_ring_name": "ring", "project": "kms-proj"}),
        gcp_cluster(cluster_id="a1a46dff-ef5d-4c39-a626-10cef6fa1c1e", gcp={"key_ring_name": "ring", "project": "kms-proj"}),
    )

    assert problems(values) == [
        "cmek:clusters[1].aws.alias: 'alias/cmek' is already used by cmek:clusters[0]; each cluster needs its own",
        "cmek:clusters[3].gcp.key_ring_name: 'ring' is already used by cmek:clusters[2]; each cluster needs its own",
    ]


def test_every_problem_is_reported_at_once_in_one_readable_error() -> None:
    values = stack(aws_cluster(key_generation="two"), {"cloud": "GCP"}, cmek__apikey="x")

    with pytest.raises(ConfigError) as caught:
        parse_stack_config(values)

    assert str(caught.value).splitlines() == [
        "invalid stack configuration (3 problems; see docs/configuration.md):",
        "  cmek:apikey: the CockroachDB Cloud API key is not project configuration; remove this key and run `pulumi config set --secret cockroach:apiKey <key>`",
        "  cmek:clusters[0].key_generation: expected an integer from 1 to 100, got 'two'",
        "  cmek:clusters[1].cluster_id: required key is missing (string)",
    ]
    assert isinstance(caught.value, ValueError)


# ---------------------------------------------------------------------------------------------
# Vault
# ---------------------------------------------------------------------------------------------


def test_vault_keys_and_your_own_keys_exclude_each_other() -> None:
    cluster = aws_cluster(regions=["us-east-1"], vault={}, aws={"key_mode": "per-region", "byo_keys": {"us-east-1": KEY_ARN}})

    assert problems(stack(cluster)) == [
        "cmek:clusters[0].vault: cannot be combined with aws.byo_keys: keys come either from Vault or from you; remove one of them"
    ]


def test_vault_on_gcp_needs_a_key_ring_for_every_region() -> None:
    ring = "projects/customer-kms/locations/us-east1/keyRings/crdb"
    cluster = gcp_cluster(regions=["us-east1", "us-west1"], vault={"key_collections": {"us-east1": ring}})

    assert problems(stack(cluster)) == [
        "cmek:clusters[0].vault: needs key_collection (an existing key ring, projects/<project>/"
        "locations/<location>/keyRings/<ring>) or key_collections for every cluster region on GCP"
    ]
    [parsed] = parse_stack_config(stack(gcp_cluster(regions=["us-east1"], vault={"key_collection": ring})))
    assert parsed.args["vault"] == {"key_collection": ring}


def test_vault_credentials_and_token_must_be_secrets_and_keys_known() -> None:
    values = stack(
        aws_cluster(vault={}),
        **{"cmek-vault__awsSecretKey": "plain", "cmek-vault__awsAccesKey": "x", "vault__token": "s.plain"},
    )

    found = problems(values, secret_keys=("cmek-vault:awsAccesKey",))

    assert found == [
        "cmek-vault:awsAccesKey: unknown key; did you mean 'awsAccessKey'?",
        "cmek-vault:awsSecretKey: must be a secret (run `pulumi config set --secret cmek-vault:awsSecretKey <value>`), got a plain-text value",
        "vault:token: must be a secret (run `pulumi config set --secret vault:token <value>`), got a plain-text value",
    ]


def test_the_api_url_must_be_an_http_url_and_cockroach_keys_are_checked() -> None:
    values = stack(aws_cluster(), cockroach__apiUrl="cockroachlabs.cloud", cockroach__api_key="k")

    assert problems(values, secret_keys=("cockroach:api_key",)) == [
        "cockroach:apiUrl: expected an http(s) URL such as 'https://cockroachlabs.cloud', got 'cockroachlabs.cloud'",
        "cockroach:api_key: unknown key; did you mean 'apiKey'? Run `pulumi config set --secret cockroach:apiKey <key>`",
    ]


@pytest.mark.parametrize(
    "url", ["http://cockroachlabs.cloud", "http://api.example.com:8080/base", "http://10.0.0.5", "http://127.0.0.1.nip.io"]
)
def test_the_api_url_may_be_plain_http_only_for_a_loopback_host(url: str) -> None:
    values = stack(aws_cluster(), cockroach__apiUrl=url)

    assert problems(values) == [
        "cockroach:apiUrl: expected an https:// URL: plain http:// would send the CockroachDB Cloud API key "
        "unencrypted (http:// is allowed only for a loopback host such as 127.0.0.1 or localhost, e.g. the "
        f"local simulator), got {url!r}"
    ]


@pytest.mark.parametrize(
    "url", ["https://cockroachlabs.cloud", "http://127.0.0.1:8080", "http://localhost:9000/", "http://[::1]:8080", "http://127.1.2.3"]
)
def test_https_and_loopback_http_api_urls_are_accepted(url: str) -> None:
    [cluster] = parse_stack_config(stack(aws_cluster(), cockroach__apiUrl=url))
    assert cluster.args["cluster_id"] == AWS_ID


def test_gcp_byo_keys_may_cover_only_some_regions() -> None:
    uri = "projects/keys-proj/locations/us-east1/keyRings/crdb/cryptoKeys/own"
    [parsed] = parse_stack_config(stack(gcp_cluster(gcp={"byo_keys": {"us-east1": uri}})))
    assert parsed.args["gcp"]["byo_keys"] == {"us-east1": uri}


# ---------------------------------------------------------------------------------------------
# Identifiers match whole strings, ASCII only (no trailing newline, no other scripts' digits)
# ---------------------------------------------------------------------------------------------

FULL_WIDTH_ACCOUNT = full_width("548012347802")  # 548012347802 in full-width digits
ARABIC_INDIC_ACCOUNT = arabic_indic("548012347802")  # the same in Arabic-Indic digits


@pytest.mark.parametrize(
    ("overrides", "key", "value"),
    [
        ({"account_id": "548012347802\n"}, "account_id", "548012347802\n"),
        ({"account_id": FULL_WIDTH_ACCOUNT}, "account_id", FULL_WIDTH_ACCOUNT),
        ({"account_id": ARABIC_INDIC_ACCOUNT}, "account_id", ARABIC_INDIC_ACCOUNT),
        ({"cluster_id": AWS_ID + "\n"}, "cluster_id", AWS_ID + "\n"),
        ({"regions": ["eu-west-1", "us-east-1\n", "us-west-2"]}, "regions[1]", "us-east-1\n"),
        ({"aws": {"byo_keys": dict.fromkeys(["eu-west-1", "us-east-1", "us-west-2"], KEY_ARN + "\n")}}, 'aws.byo_keys["eu-west-1"]', KEY_ARN + "\n"),
        ({"aws": {"admin_principals": ["arn:aws:iam::111122223333:root\n"]}}, "aws.admin_principals[0]", "arn:aws:iam::111122223333:root\n"),
        ({"aws": {"role_name": "crdb-cmek\n"}}, "aws.role_name", "crdb-cmek\n"),
        ({"aws": {"alias": "alias/crdb\n"}}, "aws.alias", "alias/crdb\n"),
        ({"name": "payments\n"}, "name", "payments\n"),
    ],
    ids=["account-newline", "account-full-width", "account-arabic-indic", "cluster-id-newline", "region-newline",
         "byo-key-newline", "admin-principal-newline", "role-name-newline", "alias-newline", "name-newline"],
)
def test_aws_identifiers_must_match_the_whole_value_in_ascii(overrides: dict[str, Any], key: str, value: str) -> None:
    found = [p for p in problems(stack(aws_cluster(**overrides))) if p.startswith(f"cmek:clusters[0].{key}: ")]

    assert len(found) == 1, found
    assert f"got {value!r}" in found[0]


@pytest.mark.parametrize(
    ("overrides", "key", "value"),
    [
        ({"account_id": "crl-prod-9kd\n"}, "account_id", "crl-prod-9kd\n"),
        ({"gcp": {"project": "customer-kms\n"}}, "gcp.project", "customer-kms\n"),
        ({"gcp": {"byo_keys": {"us-east1": GCP_KEY + "\n"}}}, 'gcp.byo_keys["us-east1"]', GCP_KEY + "\n"),
        ({"gcp": {"key_ring_name": "crdb\n"}}, "gcp.key_ring_name", "crdb\n"),
        ({"gcp": {"service_account_id": "crdb-cmek-sa\n"}}, "gcp.service_account_id", "crdb-cmek-sa\n"),
        ({"gcp": {"rotation_period": "7776000s\n"}}, "gcp.rotation_period", "7776000s\n"),
        ({"gcp": {"rotation_period": full_width("7776000s")}}, "gcp.rotation_period", full_width("7776000s")),
    ],
    ids=["account-newline", "project-newline", "byo-key-newline", "key-ring-newline", "service-account-newline",
         "rotation-newline", "rotation-full-width"],
)
def test_gcp_names_and_uris_must_match_the_whole_value_in_ascii(overrides: dict[str, Any], key: str, value: str) -> None:
    found = [p for p in problems(stack(gcp_cluster(**overrides))) if p.startswith(f"cmek:clusters[0].{key}: ")]

    assert len(found) == 1, found
    assert f"got {value!r}" in found[0]


def test_an_api_url_with_a_trailing_newline_is_refused() -> None:
    assert problems(stack(aws_cluster(), cockroach__apiUrl="https://cockroachlabs.cloud\n")) == [
        "cockroach:apiUrl: expected an http(s) URL such as 'https://cockroachlabs.cloud', got 'https://cockroachlabs.cloud\\n'"
    ]


# ---------------------------------------------------------------------------------------------
# Cluster ids: the canonical form only
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["{" + AWS_ID + "}", "urn:uuid:" + AWS_ID, AWS_ID.replace("-", ""), AWS_ID.upper()],
    ids=["braces", "urn", "32-hex-digits", "upper-case"],
)
def test_other_spellings_of_a_cluster_id_are_refused_with_the_canonical_one_suggested(spelling: str) -> None:
    assert problems(stack(aws_cluster(cluster_id=spelling))) == [
        "cmek:clusters[0].cluster_id: expected a CockroachDB Cloud cluster id: a UUID in canonical form, "
        "8-4-4-4-12 lower-case hex digits as in the cluster's URL (such as 8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f), "
        f"got {spelling!r}; did you mean {AWS_ID!r}?"
    ]


# ---------------------------------------------------------------------------------------------
# Bounds: key generations, wait limits, huge and non-finite numbers
# ---------------------------------------------------------------------------------------------


def test_key_generation_has_a_documented_upper_bound() -> None:
    assert problems(stack(aws_cluster(key_generation=101))) == [
        "cmek:clusters[0].key_generation: expected an integer from 1 to 100, got 101"
    ]
    [cluster] = parse_stack_config(stack(aws_cluster(key_generation=100)))
    assert cluster.args["key_generation"] == 100


def test_a_huge_key_generation_is_refused_at_once() -> None:
    huge = 10**30
    cluster = aws_cluster(key_generation=huge, aws={"key_mode": "per-region"}, region_key_generations={"us-east-1": 1000})

    assert problems(stack(cluster)) == [
        "cmek:clusters[0].key_generation: expected an integer from 1 to 100, got an integer of about 31 digits",
        'cmek:clusters[0].region_key_generations["us-east-1"]: expected an integer from 1 to 100, got 1000',
    ]


def test_wait_limits_are_finite_and_bounded() -> None:
    text = json.dumps([aws_cluster()])[:-2] + ', "activation": {"wait_timeout_seconds": 1e400, "iam_propagation_timeout_seconds": 86401}}]'

    assert problems({"cmek:clusters": text}) == [
        "cmek:clusters[0].activation.wait_timeout_seconds: expected an integer from 1 to 604800, got inf (not a finite number)",
        "cmek:clusters[0].activation.iam_propagation_timeout_seconds: expected an integer from 1 to 86400, got 86401",
    ]


def test_a_5000_digit_integer_is_named_by_its_key_and_its_length() -> None:
    text = json.dumps([aws_cluster()])[:-2] + ', "key_generation": ' + "9" * 5000 + "}]"

    assert problems({"cmek:clusters": text}) == [
        "cmek:clusters[0].key_generation: expected an integer from 1 to 100, got an integer of 5000 digits"
    ]


# ---------------------------------------------------------------------------------------------
# Names, nesting and long values
# ---------------------------------------------------------------------------------------------


def test_a_cluster_cannot_take_the_name_of_the_clusters_output() -> None:
    assert problems(stack(aws_cluster(name="clusters"))) == [
        "cmek:clusters[0].name: expected a resource name of 1-40 characters A-Za-z0-9_- starting with a "
        "letter, not 'clusters', got 'clusters'; 'clusters' is reserved: the stack exports the list of its "
        "clusters under that name"
    ]


@pytest.mark.parametrize("key", ["cmek:clusters", "cmek:aws"])
def test_deeply_nested_json_is_refused_naming_the_key(key: str) -> None:
    values = stack(aws_cluster())
    values[key] = "[" * 100_000 + "]" * 100_000

    assert problems(values) == [
        f"{key}: expected a value nested at most 16 levels deep (the deepest key of the schema is 4 levels "
        "down), got one nested deeper"
    ]


def test_nesting_beyond_the_bound_is_refused_before_recursion_can_fail() -> None:
    nested: Any = "us-east-1"
    for _ in range(17):
        nested = [nested]

    assert problems(stack(aws_cluster(regions=nested))) == [
        "cmek:clusters: expected a value nested at most 16 levels deep (the deepest key of the schema is 4 "
        "levels down), got one nested deeper"
    ]


def test_a_long_value_is_cut_in_the_message() -> None:
    long_name = "x" * 100_000

    [message] = problems(stack(gcp_cluster(gcp={"display_name": long_name})))

    assert message.startswith("cmek:clusters[0].gcp.display_name: expected 1-100 characters, not only spaces, got 'xxx")
    assert message.endswith("... (100000 characters)")
    assert len(message) < 300


# ---------------------------------------------------------------------------------------------
# Secret cluster configuration: no value in any message
# ---------------------------------------------------------------------------------------------


def test_secret_cluster_config_hides_values_in_rules_between_keys() -> None:
    cluster = aws_cluster(
        cluster_id="{" + AWS_ID + "}",
        regions=["eu-west-1", "us-east-1"],
        add_regions={"eu-west-1": 3},
        region_key_generations={"ap-south-1": 2},
        aws={"primary_region": "ap-south-1", "key_mode": "per-region", "alias": "alias/aws/secret-alias"},
    )

    found = problems(stack(cluster), secret_keys=("cmek:clusters",))

    assert [p.split(": ", 1)[0] for p in found] == [
        "cmek:clusters[0].cluster_id",
        "cmek:clusters[0].aws.alias",
        'cmek:clusters[0].add_regions["eu-west-1"]',
        'cmek:clusters[0].region_key_generations["ap-south-1"]',
        "cmek:clusters[0].aws.primary_region",
        "cmek:clusters[0].aws.primary_region",
    ]
    text = "\n".join(found)
    for value in (AWS_ID, "us-east-1", "secret-alias", "'ap-south-1'"):
        assert value not in text
    assert "[secret]" in text


# ---------------------------------------------------------------------------------------------
# The cockroach namespace is shared with the Pulumiverse CockroachDB provider
# ---------------------------------------------------------------------------------------------


def test_the_pulumiverse_cockroach_providers_keys_are_left_to_it() -> None:
    values = stack(
        aws_cluster(),
        cockroach__apiKey="ours",
        cockroach__apikey="theirs",
        cockroach__apijwt="their-jwt",
        cockroach__version="0.9.4",
    )

    [cluster] = parse_stack_config(values, secret_keys={"cockroach:apiKey", "cockroach:apikey", "cockroach:apijwt"})

    assert cluster.args["cluster_id"] == AWS_ID


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("apiKy", "cockroach:apiKy: unknown key; did you mean 'apiKey'?"),
        ("api_key", "cockroach:api_key: unknown key; did you mean 'apiKey'? Run `pulumi config set --secret cockroach:apiKey <key>`"),
        ("ApiUrl", "cockroach:ApiUrl: unknown key; did you mean 'apiUrl'?"),
        ("api_url", "cockroach:api_url: unknown key; did you mean 'apiUrl'?"),
    ],
)
def test_a_misspelling_of_our_cockroach_keys_is_still_refused(key: str, expected: str) -> None:
    assert problems(stack(aws_cluster(), **{f"cockroach__{key}": "x"})) == [expected]
