"""``ClusterCmek`` on AWS under Pulumi mocks: the exact children, their inputs and options, the
activation's inputs and dependencies, the outputs, every key mode, bring-your-own keys,
rotation, added regions, and validation before any resource.

Each ``run`` is a fresh program (new event loop, ``reset_options``, new mocks), so one test can
compare two runs as two ``pulumi up`` would. All cluster facts are given, so no Cloud API call
is made (the client factory fails the test if it is ever used).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
import pytest

from cmek_component import ClusterCmek
from cmek_component.aws import policies
from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.manifest.problems import SpecProblems
from cmek_component.simulator import SEED_API_KEY, SimulatorServer, seeds
from tests.support.digits import full_width
from tests.support.pulumi_fixtures import RecordedResource, Recorder, RecordingMonitor

CLUSTER_ID = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
ORG_ID = "52337060-d4a4-4ece-98df-052610c8ec9f"
CRDB_ACCOUNT = "123456789012"
CUSTOMER = "111122223333"
CALLER_ROOT = f"arn:aws:iam::{CUSTOMER}:root"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
ALIAS = f"alias/crdb-cmek-{CLUSTER_ID}"

COMPONENT = "cockroach:cmek:ClusterCmek"
ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
REPLICA = "aws:kms/replicaKey:ReplicaKey"
ALIAS_TYPE = "aws:kms/alias:Alias"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
ACTIVATION = "pulumi-python:dynamic/cockroach:CmekActivation"
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
VAULT_READ = "vault:generic/getSecret:getSecret"
GET_ALIAS = "aws:kms/getAlias:getAlias"
KEY_TYPES = (KEY, REPLICA)


def role_arn(name: str = "prod-role") -> str:
    return f"arn:aws:iam::{CUSTOMER}:role/{name}"


def fake_key_id(name: str, multi_region: bool) -> str:
    digest = hashlib.sha256(name.encode()).hexdigest()
    if multi_region:
        return "mrk-" + digest[:32]
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def key_arn(region: str, key_id: str) -> str:
    return f"arn:aws:kms:{region}:{CUSTOMER}:key/{key_id}"


def _role_outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    role_name = inputs.get("name") or name
    return {"arn": role_arn(role_name), "name": role_name}


def _key_outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    key_id = fake_key_id(name, bool(inputs.get("multiRegion")))
    return {"keyId": key_id, "arn": key_arn(inputs["region"], key_id)}


def _replica_outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    key_id = inputs["primaryKeyArn"].rsplit("/", 1)[1]
    return {"keyId": key_id, "arn": key_arn(inputs["region"], key_id)}


def _activation_outputs(name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    regions = [
        {"region": spec["region"], "status": "ENABLED", "key_uri": spec["key_spec"]["uri"]}
        for spec in inputs.get("region_specs") or []
    ]
    return {"status": "ENABLED", "regions": regions, "key_history": {}}


def _caller_identity(_args: dict[str, Any]) -> dict[str, Any]:
    return {"accountId": CUSTOMER, "arn": f"arn:aws:iam::{CUSTOMER}:user/deployer", "userId": "AIDAEXAMPLE", "id": CUSTOMER}


def _vault_read(args: dict[str, Any]) -> dict[str, Any]:
    """``vault read <mount>/kms/<entry>/key/<key>``: the key's name in KMS is ``<key>-<timestamp>``."""
    key = args["path"].rsplit("/", 1)[1]
    return {"path": args["path"], "dataJson": json.dumps({"name": f"{key}-1700000000"}), "data": {}}


def _get_alias(args: dict[str, Any]) -> dict[str, Any]:
    key_id = fake_key_id(args["name"], False)
    return {"name": args["name"], "arn": "x", "targetKeyArn": key_arn(args["region"], key_id), "targetKeyId": key_id}


def no_cloud_api() -> Any:
    raise AssertionError("the component must not call the Cloud API when every fact is given")


@dataclass
class Run:
    """What one program run registered, and the component's outputs (resolved)."""

    recorder: Recorder
    component_urn: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    def of(self, typ: str) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.by_type(typ)}

    def keys(self) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.resources() if r.type in KEY_TYPES}

    def children(self) -> list[RecordedResource]:
        return [r for r in self.recorder.resources() if r.type != COMPONENT]

    def activation(self) -> RecordedResource:
        return self.recorder.one(ACTIVATION, "prod-activation")

    def region_specs(self) -> list[dict[str, Any]]:
        return self.activation().inputs["region_specs"]

    def uris(self) -> dict[str, str]:
        return {spec["region"]: spec["key_spec"]["uri"] for spec in self.region_specs()}

    def arn_of(self, resource_name: str) -> str:
        resource = self.keys()[resource_name]
        if resource.type == KEY:
            return _key_outputs(resource_name, resource.inputs)["arn"]
        return _replica_outputs(resource_name, resource.inputs)["arn"]

    def caller_identity_calls(self) -> int:
        return sum(1 for call in self.recorder.calls if call.token == CALLER_IDENTITY)


OUTPUT_NAMES = (
    "role_arn",
    "key_arns",
    "aliases",
    "auth_principal",
    "key_uris",
    "region_specs",
    "cmek_config_json",
    "status",
    "region_statuses",
    "service_account_email",
    "key_policy",
)


@pytest.fixture
def run() -> Iterator[Callable[..., Run]]:
    """``run(aws=..., regions=..., preview=..., **args)``: one program run under fresh mocks."""
    loops: list[asyncio.AbstractEventLoop] = []
    recorders: list[Recorder] = []

    def execute(
        aws: dict[str, Any] | None = None,
        preview: bool = False,
        facts: bool = True,
        client_factory: Callable[[], Any] = no_cloud_api,
        **overrides: Any,
    ) -> Run:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        asyncio.set_event_loop(loop)
        pulumi.runtime.reset_options(project="cmek", stack="test")
        recorder = Recorder(
            outputs={
                ROLE: _role_outputs,
                KEY: _key_outputs,
                REPLICA: _replica_outputs,
                ACTIVATION: _activation_outputs,
            },
            call_results={CALLER_IDENTITY: _caller_identity, VAULT_READ: _vault_read, GET_ALIAS: _get_alias},
        )
        monitor = RecordingMonitor(recorder)
        recorder.monitor = monitor
        recorders.append(recorder)
        pulumi.runtime.set_mocks(recorder, project="cmek", stack="test", preview=preview, monitor=monitor)
        args: dict[str, Any] = {"cluster_id": CLUSTER_ID}
        if facts:
            args.update(
                {"cloud": "AWS", "regions": list(REGIONS), "account_id": CRDB_ACCOUNT, "organization_id": ORG_ID}
            )
        if aws is not None:
            args["aws"] = aws
        args.update(overrides)
        result = Run(recorder)

        @pulumi.runtime.test
        def program() -> pulumi.Output[Any]:
            component = ClusterCmek("prod", args, client_factory=client_factory)  # type: ignore[arg-type]
            outputs = {name: pulumi.Output.from_input(getattr(component, name)) for name in OUTPUT_NAMES}

            def keep(values: list[Any]) -> None:
                result.component_urn, result.outputs = values

            return pulumi.Output.all(component.urn, pulumi.Output.all(**outputs)).apply(keep)

        program()
        return result

    execute.recorders = recorders  # type: ignore[attr-defined]
    yield execute
    for loop in loops:
        loop.close()


def key_policy(admins: list[str] | None = None, role: str | None = None) -> dict[str, Any]:
    """The expected key policy, written out (not built with the code under test)."""
    admins = admins or [CALLER_ROOT]
    return {
        "Version": "2012-10-17",
        "Id": "crdb-cmek-kms",
        "Statement": [
            {
                "Sid": "Allow use of the key for CMEK",
                "Effect": "Allow",
                "Principal": {"AWS": role or role_arn()},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:ReEncrypt*"],
                "Resource": "*",
            },
            {
                "Sid": "Allow administration of the key",
                "Effect": "Allow",
                "Principal": {"AWS": admins[0] if len(admins) == 1 else admins},
                "Action": list(policies.KEY_ADMINISTRATION_ACTIONS),
                "Resource": "*",
            },
        ],
    }


def region_spec(region: str, uri: str) -> dict[str, Any]:
    return {"region": region, "key_spec": {"type": "AWS_KMS", "uri": uri, "auth_principal": role_arn()}}


# --------------------------------------------------------------------------------------------
# Default: multi-region
# --------------------------------------------------------------------------------------------


def test_multi_region_declares_role_primary_replicas_aliases_and_activation(run: Callable[..., Run]) -> None:
    result = run()

    assert sorted((r.type, r.name) for r in result.children()) == sorted(
        [
            (ROLE, "prod-role"),
            (KEY, "prod-key"),
            (REPLICA, "prod-replica-us-west-2"),
            (REPLICA, "prod-replica-eu-west-1"),
            (ALIAS_TYPE, "prod-alias-us-east-1"),
            (ALIAS_TYPE, "prod-alias-us-west-2"),
            (ALIAS_TYPE, "prod-alias-eu-west-1"),
            (ACTIVATION, "prod-activation"),
        ]
    )
    component = result.recorder.one(COMPONENT, "prod")
    assert result.component_urn == component.urn

    # Identity: the exact trust policy, nothing attached.
    role = result.of(ROLE)["prod-role"]
    assert set(role.inputs) == {"assumeRolePolicy", "description"}
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": ORG_ID}},
            }
        ],
    }

    # The primary key: multi-region symmetric ENCRYPT_DECRYPT in the first region, exact policy.
    primary = result.of(KEY)["prod-key"]
    assert {k: v for k, v in primary.inputs.items() if k != "policy"} == {
        "description": f"CockroachDB Cloud CMEK for cluster {CLUSTER_ID}, key generation 1",
        "keyUsage": "ENCRYPT_DECRYPT",
        "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
        "multiRegion": True,
        "enableKeyRotation": True,
        "deletionWindowInDays": 30,
        "region": "us-east-1",
    }
    assert json.loads(primary.inputs["policy"]) == key_policy()
    assert primary.inputs["policy"] == policies.to_json(key_policy())

    # Replicas: of the primary, in every other region, with the very same policy.
    primary_arn = result.arn_of("prod-key")
    for region in ("us-west-2", "eu-west-1"):
        replica = result.of(REPLICA)[f"prod-replica-{region}"]
        assert replica.inputs == {
            "primaryKeyArn": primary_arn,
            "description": f"CockroachDB Cloud CMEK for cluster {CLUSTER_ID}, key generation 1",
            "deletionWindowInDays": 30,
            "policy": primary.inputs["policy"],
            "region": region,
        }
        assert replica.property_dependencies["primaryKeyArn"] == [primary.urn]

    # Aliases: the same name next to each key and replica.
    for region in REGIONS:
        alias = result.of(ALIAS_TYPE)[f"prod-alias-{region}"]
        target = "prod-key" if region == "us-east-1" else f"prod-replica-{region}"
        assert alias.inputs == {
            "name": ALIAS,
            "targetKeyId": result.arn_of(target).rsplit("/", 1)[1],
            "region": region,
        }

    # The admin principal came from aws.get_caller_identity, asked once.
    assert result.caller_identity_calls() == 1


def test_every_child_is_parented_to_the_component_and_keys_are_retained(run: Callable[..., Run]) -> None:
    result = run()
    for child in result.children():
        assert child.parent == result.component_urn, child.name
        assert child.name.startswith("prod-"), child.name
        assert child.protect is False, child.name
    for key in result.keys().values():
        assert key.retain_on_delete is True, key.name
    assert result.of(ROLE)["prod-role"].retain_on_delete is True
    for alias in result.of(ALIAS_TYPE).values():
        assert alias.retain_on_delete is False
    assert result.activation().retain_on_delete is False


def test_activation_gets_the_region_specs_and_waits_for_role_and_every_key_policy(run: Callable[..., Run]) -> None:
    result = run()
    activation = result.activation()
    expected_specs = [
        region_spec("eu-west-1", result.arn_of("prod-replica-eu-west-1")),
        region_spec("us-east-1", result.arn_of("prod-key")),
        region_spec("us-west-2", result.arn_of("prod-replica-us-west-2")),
    ]
    assert activation.inputs["cluster_id"] == CLUSTER_ID
    assert activation.inputs["region_specs"] == expected_specs
    assert activation.inputs["new_region_nodes"] == {}
    assert activation.inputs["rotation_trigger"] == ""
    assert activation.inputs["revoke"] is False

    # Ordering: CMEK is never enabled before the role and every key policy exist.
    must_wait_for = {result.of(ROLE)["prod-role"].urn} | {k.urn for k in result.keys().values()}
    assert len(must_wait_for) == 4
    assert must_wait_for <= set(activation.dependencies)


def test_outputs_are_the_seed_document_and_the_activation_status(run: Callable[..., Run]) -> None:
    result = run()
    arns = {
        "eu-west-1": result.arn_of("prod-replica-eu-west-1"),
        "us-east-1": result.arn_of("prod-key"),
        "us-west-2": result.arn_of("prod-replica-us-west-2"),
    }
    document = {"region_specs": [region_spec(region, arn) for region, arn in arns.items()]}
    assert result.outputs["region_specs"] == document
    assert json.loads(result.outputs["cmek_config_json"]) == document
    assert result.outputs["cmek_config_json"] == json.dumps(document, indent=2) + "\n"
    assert result.outputs["role_arn"] == role_arn()
    assert result.outputs["auth_principal"] == role_arn()
    assert result.outputs["key_arns"] == arns
    assert result.outputs["key_uris"] == arns
    assert result.outputs["aliases"] == [ALIAS]
    assert result.outputs["status"] == "ENABLED"
    assert result.outputs["region_statuses"] == {region: "ENABLED" for region in REGIONS}
    assert result.outputs["service_account_email"] is None
    # Every multi-region ARN shares one key id: material lives in the primary only.
    assert len({arn.rsplit("/", 1)[1] for arn in arns.values()}) == 1


def test_primary_region_option_moves_the_key_material(run: Callable[..., Run]) -> None:
    result = run(aws={"primary_region": "eu-west-1"})
    assert result.of(KEY)["prod-key"].inputs["region"] == "eu-west-1"
    assert set(result.of(REPLICA)) == {"prod-replica-us-east-1", "prod-replica-us-west-2"}


# --------------------------------------------------------------------------------------------
# Other key modes
# --------------------------------------------------------------------------------------------


def test_per_region_mode_makes_one_single_region_key_per_region(run: Callable[..., Run]) -> None:
    result = run(aws={"key_mode": "per-region"})
    assert set(result.keys()) == {f"prod-key-{region}" for region in REGIONS}
    assert not result.of(REPLICA)
    for region in REGIONS:
        key = result.of(KEY)[f"prod-key-{region}"]
        assert key.inputs["region"] == region
        assert key.inputs["multiRegion"] is False
        assert json.loads(key.inputs["policy"]) == key_policy()
        assert key.retain_on_delete is True
        assert result.of(ALIAS_TYPE)[f"prod-alias-{region}"].inputs["name"] == ALIAS
    assert result.uris() == {region: result.arn_of(f"prod-key-{region}") for region in REGIONS}
    assert len(set(result.uris().values())) == 3
    assert {k.urn for k in result.keys().values()} <= set(result.activation().dependencies)


def test_single_mode_serves_every_region_from_one_key(run: Callable[..., Run]) -> None:
    result = run(aws={"key_mode": "single"})
    assert set(result.keys()) == {"prod-key"}
    key = result.of(KEY)["prod-key"]
    assert key.inputs["region"] == "us-east-1"
    assert key.inputs["multiRegion"] is False
    assert set(result.of(ALIAS_TYPE)) == {"prod-alias-us-east-1"}
    assert result.uris() == {region: result.arn_of("prod-key") for region in REGIONS}


def test_options_reach_the_children(run: Callable[..., Run]) -> None:
    admins = ["arn:aws:iam::444455556666:role/kms-admins", CALLER_ROOT]
    result = run(
        aws={
            "alias": "alias/team/cmek",
            "admin_principals": admins,
            "role_name": "crdb-cmek",
            "role_path": "/crdb/",
            "permissions_boundary": f"arn:aws:iam::{CUSTOMER}:policy/boundary",
            "tags": {"team": "data"},
            "enable_key_rotation": False,
            "deletion_window_in_days": 7,
            "protect": True,
            "retain_on_delete": False,
        }
    )
    role = result.of(ROLE)["prod-role"]
    assert {k: role.inputs[k] for k in ("name", "path", "permissionsBoundary", "tags")} == {
        "name": "crdb-cmek",
        "path": "/crdb/",
        "permissionsBoundary": f"arn:aws:iam::{CUSTOMER}:policy/boundary",
        "tags": {"team": "data"},
    }
    # No caller-identity lookup when the administrators are given.
    assert result.caller_identity_calls() == 0
    for key in result.keys().values():
        assert json.loads(key.inputs["policy"]) == key_policy(admins, role_arn("crdb-cmek"))
        assert key.inputs["tags"] == {"team": "data"}
        assert key.inputs["deletionWindowInDays"] == 7
        assert (key.protect, key.retain_on_delete) == (True, False)
    assert result.of(KEY)["prod-key"].inputs["enableKeyRotation"] is False
    assert {a.inputs["name"] for a in result.of(ALIAS_TYPE).values()} == {"alias/team/cmek"}


# --------------------------------------------------------------------------------------------
# Bring your own key
# --------------------------------------------------------------------------------------------

BYO = {
    "us-east-1": f"arn:aws:kms:us-east-1:{CUSTOMER}:key/1b4bd1c2-7a8e-4c57-9f53-6d2c8a1e0f01",
    "us-west-2": f"arn:aws:kms:us-west-2:{CUSTOMER}:key/2c5ce2d3-8b9f-4d68-a064-7e3d9b2f1a12",
    "eu-west-1": f"arn:aws:kms:us-west-2:{CUSTOMER}:key/2c5ce2d3-8b9f-4d68-a064-7e3d9b2f1a12",
}


def test_byo_keys_without_policy_creates_only_the_role(run: Callable[..., Run]) -> None:
    result = run(aws={"byo_keys": BYO})
    assert sorted(r.type for r in result.children()) == sorted([ROLE, ACTIVATION])
    assert result.uris() == BYO
    role = result.of(ROLE)["prod-role"]
    assert role.urn in result.activation().dependencies
    assert result.outputs["aliases"] == []
    # The policy to put on your own keys is still an output.
    assert result.outputs["key_policy"] == policies.to_json(key_policy())


def test_byo_keys_with_attached_policy_gets_one_key_policy_per_distinct_key(run: Callable[..., Run]) -> None:
    result = run(aws={"byo_keys": BYO, "attach_key_policy": True})
    assert not result.keys()
    policies_by_name = result.of(KEY_POLICY)
    assert set(policies_by_name) == {"prod-key-policy-us-east-1", "prod-key-policy-eu-west-1"}
    east = policies_by_name["prod-key-policy-us-east-1"]
    assert east.inputs == {
        "keyId": BYO["us-east-1"],
        "policy": policies.to_json(key_policy()),
        "region": "us-east-1",
    }
    # eu-west-1 uses the us-west-2 key: the policy goes to that key, in its own region.
    shared = policies_by_name["prod-key-policy-eu-west-1"]
    assert (shared.inputs["keyId"], shared.inputs["region"]) == (BYO["eu-west-1"], "us-west-2")
    for policy in policies_by_name.values():
        assert policy.parent == result.component_urn
        assert policy.retain_on_delete is True
        assert policy.urn in result.activation().dependencies
    assert result.of(ROLE)["prod-role"].urn in result.activation().dependencies


def test_vault_key_material_gets_the_same_key_policy_and_gates_the_activation(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com:8200")
    monkeypatch.setenv("VAULT_TOKEN", "hvs.example")
    result = run(vault={"credentials": "vault-server"})
    assert not result.keys()
    assert not result.of(ALIAS_TYPE)
    vault_policies = result.of(KEY_POLICY)
    assert set(vault_policies) == {f"prod-vault-key-policy-{region}" for region in REGIONS}
    for region in REGIONS:
        policy = vault_policies[f"prod-vault-key-policy-{region}"]
        assert json.loads(policy.inputs["policy"]) == key_policy()
        assert policy.inputs["region"] == region
        assert policy.parent == result.component_urn
        assert policy.urn in result.activation().dependencies
    assert result.of(ROLE)["prod-role"].urn in result.activation().dependencies
    expected = {
        region: key_arn(region, fake_key_id(f"alias/hashicorp/crdb-cmek-vault-{region}-1700000000", False))
        for region in REGIONS
    }
    assert result.uris() == expected
    assert result.outputs["key_arns"] == dict(sorted(expected.items()))


@pytest.mark.parametrize(
    ("aws", "message"),
    [
        ({"key_mode": "per-region"}, "aws.key_mode: has no effect with vault (Vault makes the keys), got 'per-region'"),
        ({"byo_keys": BYO}, "vault: cannot be combined with aws.byo_keys"),
    ],
)
def test_vault_refuses_key_options_that_would_be_ignored(run: Callable[..., Run], aws: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecProblems) as raised:
        run(aws=aws, vault={"credentials": "vault-server"})
    assert any(str(problem).startswith(message) for problem in raised.value.problems), raised.value.problems
    assert run.recorders[-1].resources() == []  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Rotation and regions
# --------------------------------------------------------------------------------------------


def test_new_key_generation_keeps_every_old_key_unchanged_and_rotates_every_region(run: Callable[..., Run]) -> None:
    first = run()
    second = run(key_generation=2)

    old = {name: r for name, r in first.keys().items()}
    new = second.keys()
    # Old keys, replicas and aliases: same names, same inputs, still retained.
    for name, resource in old.items():
        assert name in new
        assert new[name].inputs == resource.inputs
        assert new[name].retain_on_delete is True
    for name, alias in first.of(ALIAS_TYPE).items():
        assert second.of(ALIAS_TYPE)[name].inputs == alias.inputs
    # New generation: a primary and replicas with -g2 names and aliases.
    assert set(new) - set(old) == {"prod-key-g2", "prod-replica-us-west-2-g2", "prod-replica-eu-west-1-g2"}
    assert second.of(KEY)["prod-key-g2"].inputs["description"].endswith("key generation 2")
    assert second.of(ALIAS_TYPE)["prod-alias-us-east-1-g2"].inputs["name"] == f"{ALIAS}-g2"
    # Every region now points at generation 2.
    assert second.uris() == {
        "us-east-1": second.arn_of("prod-key-g2"),
        "us-west-2": second.arn_of("prod-replica-us-west-2-g2"),
        "eu-west-1": second.arn_of("prod-replica-eu-west-1-g2"),
    }
    assert not set(second.uris().values()) & set(first.uris().values())
    assert {r.urn for r in new.values()} <= set(second.activation().dependencies)
    assert second.outputs["aliases"] == [ALIAS, f"{ALIAS}-g2"]


def test_per_region_generation_rotates_only_that_region(run: Callable[..., Run]) -> None:
    first = run(aws={"key_mode": "per-region"})
    second = run(aws={"key_mode": "per-region"}, region_key_generations={"us-west-2": 2})

    assert set(second.keys()) - set(first.keys()) == {"prod-key-us-west-2-g2"}
    for name, resource in first.keys().items():
        assert second.keys()[name].inputs == resource.inputs
    before, after = first.uris(), second.uris()
    assert after["us-west-2"] == second.arn_of("prod-key-us-west-2-g2") != before["us-west-2"]
    assert {r: after[r] for r in ("us-east-1", "eu-west-1")} == {r: before[r] for r in ("us-east-1", "eu-west-1")}


def test_rotation_trigger_and_revoke_reach_the_activation(run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(rotation_trigger="2026-07").activation().inputs["rotation_trigger"] == "2026-07"
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    revoked = run(revoke=True)
    assert revoked.activation().inputs["revoke"] is True
    assert warnings and "cut_key_access" in warnings[0]


def test_cut_key_access_removes_the_role_from_every_key_policy_and_keeps_the_keys(run: Callable[..., Run]) -> None:
    granted = run()
    cut = run(aws={"cut_key_access": True}, revoke=True)
    assert set(cut.keys()) == set(granted.keys())
    for key in cut.keys().values():
        document = json.loads(key.inputs["policy"])
        assert [s["Sid"] for s in document["Statement"]] == ["Allow administration of the key"]
        assert role_arn() not in key.inputs["policy"]
    # The role itself stays, so the region specs (and hence the activation's other inputs) do not change.
    assert cut.region_specs() == granted.region_specs()


def test_adding_a_region_creates_its_replicas_and_extends_the_activation(run: Callable[..., Run]) -> None:
    first = run(key_generation=2)
    second = run(key_generation=2, add_regions={"ap-south-1": 3})

    added = set(second.keys()) - set(first.keys())
    assert added == {"prod-replica-ap-south-1", "prod-replica-ap-south-1-g2"}
    for name, resource in first.keys().items():
        assert second.keys()[name].inputs == resource.inputs
    replica = second.of(REPLICA)["prod-replica-ap-south-1-g2"]
    assert replica.inputs["primaryKeyArn"] == second.arn_of("prod-key-g2")
    assert replica.inputs["region"] == "ap-south-1"
    activation = second.activation()
    assert activation.inputs["new_region_nodes"] == {"ap-south-1": 3}
    assert second.uris() == {**first.uris(), "ap-south-1": second.arn_of("prod-replica-ap-south-1-g2")}
    assert replica.urn in activation.dependencies


def test_a_preview_builds_the_same_program(run: Callable[..., Run]) -> None:
    preview = run(preview=True)
    up = run()
    assert sorted((r.type, r.name) for r in preview.children()) == sorted((r.type, r.name) for r in up.children())


def test_facts_read_from_the_simulator_build_the_trust_policy_and_region_specs(
    run: Callable[..., Run], simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    result = run(facts=False, client_factory=lambda: CloudApiClient(SEED_API_KEY, simulator.url))
    assert [f"{r.method} {r.path}" for r in simulator.simulator.requests] == [
        f"GET /api/v1/clusters/{seeds.AWS_MULTI}",
        "GET /api/v1/organization",
    ]
    trust = json.loads(result.of(ROLE)["prod-role"].inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::548012347802:root"}
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": seeds.ORGANIZATION_ID}}
    assert [spec["region"] for spec in result.region_specs()] == ["eu-west-1", "us-east-1", "us-west-2"]
    # Regions from the API, no primary_region: the key material goes to the first one, with a warning.
    assert result.of(KEY)["prod-key"].inputs["region"] == "eu-west-1"
    assert any(w.startswith("aws.primary_region: not set") for w in warnings)


# --------------------------------------------------------------------------------------------
# Validation before any resource
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"aws": {"alias": "alias/aws/x"}}, "aws.alias: must not start with 'alias/aws/' (reserved for AWS managed keys), got 'alias/aws/x'"),
        ({"aws": {"key_mode": "global"}}, "aws.key_mode: expected one of multi-region, per-region, single, got 'global'"),
        ({"aws": {"primary_region": "ap-south-1"}}, "aws.primary_region: expected one of the cluster regions (us-east-1, us-west-2, eu-west-1), got 'ap-south-1'"),
        ({"aws": {"byo_keys": {"us-east-1": BYO["us-east-1"]}}}, "aws.byo_keys: expected a key ARN for every cluster region (us-east-1, us-west-2, eu-west-1); missing us-west-2, eu-west-1"),
        ({"aws": {"byo_keys": {**BYO, "us-west-2": "alias/foo"}}}, "aws.byo_keys.us-west-2: expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got 'alias/foo'"),
        ({"aws": {"byo_keys": BYO}, "key_generation": 2}, "key_generation: has no effect with aws.byo_keys: rotate by changing the key ARNs, got 2"),
        ({"aws": {"attach_key_policy": True}}, "aws.attach_key_policy: only applies with aws.byo_keys"),
        ({"aws": {"deletion_window_in_days": 3}}, "aws.deletion_window_in_days: expected a whole number from 7 to 30, got 3"),
        ({"aws": {"admin_principals": []}}, "aws.admin_principals: expected at least one administrator"),
        ({"aws": {"keymode": "single"}}, "aws.keymode: expected one of the AWS options"),
        ({"aws": {"role_path": "crdb"}}, "aws.role_path: expected '/' or '/<segments>/' (at most 512 characters), got 'crdb'"),
        ({"region_key_generations": {"us-east-1": 2}}, "region_key_generations: only applies with aws.key_mode 'per-region'"),
        ({"aws": {"key_mode": "per-region"}, "region_key_generations": {"ap-south-1": 2}}, "region_key_generations.ap-south-1: expected a cluster region as key"),
        ({"key_generation": 0}, "key_generation: expected a whole number from 1 to 100 (every generation stays declared), got 0"),
        ({"regions": ["us-east1"]}, "regions[0]: expected an AWS region name such as 'us-east-1', got 'us-east1'; did you mean 'us-east-1'?"),
        ({"add_regions": {"ap-south-1": 2}}, "add_regions.ap-south-1: expected a node count of at least 3, got 2"),
        ({"account_id": "crl-prod"}, "account_id: expected a 12-digit AWS account id, got 'crl-prod'"),
        ({"cluster_id": "prod"}, "cluster_id: expected a CockroachDB Cloud cluster id: a UUID in canonical form, 8-4-4-4-12 lower-case hex digits as in the cluster's URL (such as 8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f), got 'prod'"),
        ({"colud": "AWS"}, "colud: expected one of the arguments"),
    ],
)
def test_invalid_arguments_fail_before_any_resource(run: Callable[..., Run], overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecProblems) as raised:
        run(**overrides)
    assert any(str(problem).startswith(message) for problem in raised.value.problems), raised.value.problems
    assert run.recorders[-1].resources() == []  # type: ignore[attr-defined]


def test_several_problems_are_reported_together_and_nothing_is_registered(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems) as raised:
        run(aws={"alias": "alias/aws/x", "key_mode": "global", "protect": "yes"})
    assert [p.field for p in raised.value.problems] == ["aws.protect", "aws.key_mode", "aws.alias"]
    recorder = run.recorders[-1]  # type: ignore[attr-defined]
    assert recorder.new == []
    assert recorder.resources() == []


# --------------------------------------------------------------------------------------------
# Identifiers, bounds and arguments the component cannot use
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"account_id": CRDB_ACCOUNT + "\n"}, f"account_id: expected a 12-digit AWS account id, got '{CRDB_ACCOUNT}\\n'"),
        ({"account_id": full_width("123456789012")}, f"account_id: expected a 12-digit AWS account id, got {full_width('123456789012')!r}"),
        ({"regions": ["us-east-1\n"]}, "regions[0]: expected an AWS region name such as 'us-east-1', got 'us-east-1\\n'"),
        ({"aws": {"byo_keys": {**BYO, "us-west-2": BYO["us-west-2"] + "\n"}}},
         f"aws.byo_keys.us-west-2: expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got {BYO['us-west-2'] + chr(10)!r}"),
        ({"cluster_id": "urn:uuid:" + CLUSTER_ID}, "cluster_id: expected a CockroachDB Cloud cluster id: a UUID in canonical form"),
    ],
    ids=["account-newline", "account-full-width", "region-newline", "byo-key-newline", "cluster-id-urn"],
)
def test_identifiers_are_matched_whole_and_ascii_only(run: Callable[..., Run], overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecProblems) as raised:
        run(**overrides)

    assert any(str(problem).startswith(message) for problem in raised.value.problems), raised.value.problems
    assert run.recorders[-1].resources() == []  # type: ignore[attr-defined]


def test_a_trailing_newline_never_reaches_the_trust_policy(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems):
        run(account_id=CRDB_ACCOUNT + "\n")

    assert not [r for r in run.recorders[-1].resources() if r.type == ROLE]  # type: ignore[attr-defined]


def test_a_huge_key_generation_is_refused_at_once(run: Callable[..., Run]) -> None:
    started = time.monotonic()
    with pytest.raises(SpecProblems) as raised:
        run(key_generation=10**30)

    assert time.monotonic() - started < 5
    assert [str(p) for p in raised.value.problems] == [
        "key_generation: expected a whole number from 1 to 100 (every generation stays declared), got an integer of about 31 digits"
    ]


@pytest.mark.parametrize(
    ("activation", "message"),
    [
        ({"wait_timeout_seconds": 10**400}, "activation.wait_timeout_seconds: expected a whole number of seconds from 1 to 604800, got an integer of about 401 digits"),
        ({"iam_propagation_timeout_seconds": 86401}, "activation.iam_propagation_timeout_seconds: expected a whole number of seconds from 1 to 86400, got 86401"),
    ],
    ids=["huge-wait", "iam-above-one-day"],
)
def test_wait_limits_are_bounded_before_any_resource(run: Callable[..., Run], activation: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecProblems) as raised:
        run(activation=activation)

    assert [str(p) for p in raised.value.problems] == [message]
    assert run.recorders[-1].resources() == []  # type: ignore[attr-defined]


def test_a_cluster_id_output_is_refused_with_what_to_do(pulumi_mocks: Callable[..., Recorder]) -> None:
    recorder = pulumi_mocks()

    @pulumi.runtime.test
    def program() -> None:
        created_in_this_program = pulumi.Output.from_input(CLUSTER_ID)  # e.g. cockroach.Cluster(...).id
        ClusterCmek("prod", {"cluster_id": created_in_this_program}, client_factory=no_cloud_api)  # type: ignore[typeddict-item]

    with pytest.raises(SpecProblems) as raised:
        program()

    [problem] = raised.value.problems
    assert problem.field == "cluster_id"
    assert problem.message.startswith("expected a plain value, got a Pulumi Output: ClusterCmek reads the cluster")
    assert "cockroach.Cluster(...).id" in problem.message
    assert "pass its id as a string" in problem.message and "pulumi config set clusterId <id>" in problem.message
    assert recorder.resources() == []


def test_missing_vault_credentials_are_refused_before_any_resource(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems) as raised:
        run(vault={})

    assert [p.field for p in raised.value.problems] == ["cmek-vault:awsAccessKey", "cmek-vault:awsSecretKey"]
    assert raised.value.problems[0].message.startswith(
        "required when vault.credentials is 'config' (the default): run `pulumi config set --secret cmek-vault:awsAccessKey <value>`"
    )
    assert run.recorders[-1].resources() == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(("module", "args", "extra"), [("pulumi_aws", {}, "aws"), ("pulumi_vault", {"vault": {"credentials": "vault-server"}}, "vault")])
def test_a_missing_cloud_sdk_names_the_extra_to_install(
    run: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, module: str, args: dict[str, Any], extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if the extra were not installed

    with pytest.raises(SpecProblems) as raised:
        run(**args)

    assert [str(p) for p in raised.value.problems][-1].endswith(
        f"needs the {module.replace('_', '-')} package, which is not installed: install this package with its "
        f"{extra!r} extra (`pip install 'cmek-component[{extra}]'`; from a checkout `venv/bin/pip install -e '.[{extra}]'`)"
    )
    assert run.recorders[-1].resources() == []  # type: ignore[attr-defined]
