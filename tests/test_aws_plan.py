"""``plan_aws_keys``: the pure plan behind the AWS children (names stay stable across runs, which
key serves each region, and the rules that need no Pulumi engine)."""

from __future__ import annotations

from typing import Any

import pytest

from cmek_component.aws.plan import plan_aws_keys
from cmek_component.component.cloud_keys import ClusterFacts
from cmek_component.manifest.problems import SpecProblems

CLUSTER_ID = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
FACTS = ClusterFacts(CLUSTER_ID, "AWS", ["us-east-1", "us-west-2", "eu-west-1"], "123456789012", "org-1")
BYO = {
    region: f"arn:aws:kms:{region}:111122223333:key/1b4bd1c2-7a8e-4c57-9f53-6d2c8a1e0f0{i}"
    for i, region in enumerate(FACTS.regions)
}


def plan(**args: Any):  # type: ignore[no-untyped-def]
    return plan_aws_keys("prod", FACTS, {"cluster_id": CLUSTER_ID, **args})  # type: ignore[typeddict-item]


def test_generations_keep_every_older_name_and_serve_the_newest() -> None:
    third = plan(key_generation=3)
    names = [k.resource_name for k in third.keys]
    assert names == [
        "prod-key", "prod-replica-us-west-2", "prod-replica-eu-west-1",
        "prod-key-g2", "prod-replica-us-west-2-g2", "prod-replica-eu-west-1-g2",
        "prod-key-g3", "prod-replica-us-west-2-g3", "prod-replica-eu-west-1-g3",
    ]  # fmt: skip
    assert [k.resource_name for k in plan(key_generation=2).keys] == names[:6]
    assert third.serving == {
        "us-east-1": "prod-key-g3",
        "us-west-2": "prod-replica-us-west-2-g3",
        "eu-west-1": "prod-replica-eu-west-1-g3",
    }
    replicas = [k for k in third.keys if k.kind == "replica"]
    assert {k.primary for k in replicas if k.generation == 2} == {"prod-key-g2"}
    assert third.aliases == [f"alias/crdb-cmek-{CLUSTER_ID}", f"alias/crdb-cmek-{CLUSTER_ID}-g2", f"alias/crdb-cmek-{CLUSTER_ID}-g3"]


def test_per_region_generations_are_independent() -> None:
    result = plan(aws={"key_mode": "per-region"}, key_generation=2, region_key_generations={"eu-west-1": 4, "us-east-1": 1})
    by_region: dict[str, list[int]] = {}
    for key in result.keys:
        by_region.setdefault(key.region, []).append(key.generation)
    assert by_region == {"us-east-1": [1], "us-west-2": [1, 2], "eu-west-1": [1, 2, 3, 4]}
    assert result.serving == {
        "us-east-1": "prod-key-us-east-1",
        "us-west-2": "prod-key-us-west-2-g2",
        "eu-west-1": "prod-key-eu-west-1-g4",
    }
    assert all(not key.multi_region for key in result.keys)


def test_byo_plan_carries_the_arns_and_declares_no_key() -> None:
    result = plan(aws={"byo_keys": BYO, "attach_key_policy": True, "cut_key_access": True})
    assert (result.key_mode, result.keys, result.byo_keys, result.attach_key_policy) == ("byo", [], dict(sorted(BYO.items())), True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            {"aws": {"alias": "alias/" + "a" * 250}, "key_generation": 2},
            "aws.alias: must be at most 256 characters (has 259) with the suffix of generation 2",
        ),
        (
            {"aws": {"byo_keys": BYO, "cut_key_access": True}},
            "aws.cut_key_access: with aws.byo_keys only applies with aws.attach_key_policy",
        ),
        ({"aws": {"byo_keys": BYO, "alias": "alias/x"}}, "aws.alias: has no effect with aws.byo_keys (no key is created), got 'alias/x'"),
        ({"aws": {"byo_keys": {**BYO, "ap-south-1": BYO["us-east-1"]}}}, "aws.byo_keys.ap-south-1: expected a cluster region as key"),
        ({"aws": {"role_name": "crdb cmek"}}, "aws.role_name: expected 1-64 characters of a-zA-Z0-9+=,.@_-, got 'crdb cmek'"),
        ({"aws": {"permissions_boundary": "boundary"}}, "aws.permissions_boundary: expected a managed policy ARN"),
        ({"aws": {"tags": {"team": 1}}}, "aws.tags: expected a mapping of tag name -> string value"),
        ({"aws": "multi-region"}, "aws: expected a mapping of AWS options, got 'multi-region'"),
    ],
)
def test_plan_rules(args: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecProblems) as raised:
        plan(**args)
    assert any(str(problem).startswith(message) for problem in raised.value.problems), raised.value.problems


def test_an_organization_id_is_required_on_aws() -> None:
    facts = ClusterFacts(CLUSTER_ID, "AWS", ["us-east-1"], "123456789012", "")
    with pytest.raises(SpecProblems) as raised:
        plan_aws_keys("prod", facts, {"cluster_id": CLUSTER_ID})
    assert str(raised.value).startswith("organization_id: expected the CockroachDB Cloud organization id")
