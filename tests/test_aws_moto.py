"""The policy documents round-trip through AWS's own APIs (moto): what the component would send
is accepted and read back unchanged, and the multi-region wiring works.

moto checks document *shape* and round-trips; it is no authority on whether AWS grants the
access (it does not evaluate KMS key policies). ``update_assume_role_policy`` is used because,
unlike ``create_role``, moto validates the trust document there.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from cmek_component.aws import policies
from cmek_component.manifest.identifiers import AWS_KEY_ARN_RE, AWS_ROLE_ARN_RE

CRDB_ACCOUNT = "123456789012"
ORG_ID = "2a6b7c1e-94a3-4b8f-9e0d-4f1b6e7a8c9d"
PRIMARY = "us-east-1"
REPLICA_REGIONS = ("us-west-2", "eu-west-1")
ALIAS = "alias/crdb-cmek-8f1c2d3e-0000-4000-8000-000000000001"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's in-process AWS with fake credentials; yields the deploying account id."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": PRIMARY,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sts").get_caller_identity()["Account"]


def create_role() -> str:
    iam = boto3.client("iam")
    trust = policies.to_json(policies.trust_policy(CRDB_ACCOUNT, ORG_ID))
    role = iam.create_role(RoleName="crdb-cmek", AssumeRolePolicyDocument=trust)["Role"]
    # moto validates trust documents here (not in create_role): this must not raise.
    iam.update_assume_role_policy(RoleName="crdb-cmek", PolicyDocument=trust)
    return role["Arn"]


def test_trust_policy_round_trips_and_attaches_nothing(aws: str) -> None:
    role_arn = create_role()
    iam = boto3.client("iam")
    role = iam.get_role(RoleName="crdb-cmek")["Role"]
    assert AWS_ROLE_ARN_RE.match(role_arn)
    assert role["AssumeRolePolicyDocument"] == policies.trust_policy(CRDB_ACCOUNT, ORG_ID)
    assert iam.list_attached_role_policies(RoleName="crdb-cmek")["AttachedPolicies"] == []
    assert iam.list_role_policies(RoleName="crdb-cmek")["PolicyNames"] == []


def test_moto_rejects_a_malformed_trust_policy_so_the_round_trip_can_fail(aws: str) -> None:
    iam = boto3.client("iam")
    create_role()
    broken = policies.trust_policy(CRDB_ACCOUNT, ORG_ID)
    broken["Statement"][0]["Condition"] = {"StringEqualz": {"sts:ExternalId": ORG_ID}}
    with pytest.raises(iam.exceptions.MalformedPolicyDocumentException):
        iam.update_assume_role_policy(RoleName="crdb-cmek", PolicyDocument=json.dumps(broken))


def test_multi_region_key_replicas_policy_and_aliases_round_trip(aws: str) -> None:
    role_arn = create_role()
    admin = policies.account_root(aws)
    policy = policies.to_json(policies.key_policy(role_arn, [admin]))

    kms = boto3.client("kms", region_name=PRIMARY)
    key = kms.create_key(
        Policy=policy,
        Description="CockroachDB Cloud CMEK",
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        MultiRegion=True,
    )["KeyMetadata"]
    assert key["KeyId"].startswith("mrk-")
    assert key["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    # moto writes multi-region ids as mrk-<uuid>; AWS writes mrk-<32 hex>, which the
    # manifest's ARN rule expects, so the ARN is checked for its region and account only.
    assert key["Arn"].startswith(f"arn:aws:kms:{PRIMARY}:{aws}:key/mrk-")
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key["KeyId"])
    # put_key_policy is what aws.kms.KeyPolicy does for bring-your-own keys.
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=policy)
    assert json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == json.loads(policy)
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"] is True

    for region in REPLICA_REGIONS:
        # moto looks the key up by id only (AWS also takes the ARN) and copies the primary's policy.
        replica = kms.replicate_key(KeyId=key["KeyId"], ReplicaRegion=region, Policy=policy)["ReplicaKeyMetadata"]
        assert replica["KeyId"] == key["KeyId"]
        assert replica["Arn"] == key["Arn"].replace(f":{PRIMARY}:", f":{region}:")
        regional = boto3.client("kms", region_name=region)
        # moto's replica shares the primary's alias table (a shallow copy), so the per-region
        # alias of a replica is checked in the per-region test instead.
        described = regional.describe_key(KeyId=replica["KeyId"])["KeyMetadata"]
        assert described["Arn"] == replica["Arn"]
        assert described["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
        assert json.loads(regional.get_key_policy(KeyId=replica["KeyId"], PolicyName="default")["Policy"]) == (
            policies.key_policy(role_arn, [admin])
        )


def test_per_region_keys_same_alias_everywhere_and_cut_access_policy_round_trip(aws: str) -> None:
    role_arn = create_role()
    admin = policies.account_root(aws)
    for region in (PRIMARY, *REPLICA_REGIONS):
        kms = boto3.client("kms", region_name=region)
        key = kms.create_key(Policy=policies.to_json(policies.key_policy(role_arn, [admin])))["KeyMetadata"]
        assert "MultiRegionConfiguration" not in key
        kms.create_alias(AliasName=ALIAS, TargetKeyId=key["KeyId"])  # aliases are regional
        assert kms.describe_key(KeyId=ALIAS)["KeyMetadata"]["Arn"] == key["Arn"]
        assert AWS_KEY_ARN_RE.match(key["Arn"])
        assert AWS_KEY_ARN_RE.match(key["Arn"]).group("region") == region  # type: ignore[union-attr]
        cut = policies.to_json(policies.key_policy(role_arn, [admin], grant_usage=False))
        kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=cut)
        stored = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
        assert [s["Sid"] for s in stored["Statement"]] == [policies.KEY_ADMINISTRATION_SID]
        assert role_arn not in json.dumps(stored)
