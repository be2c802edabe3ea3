"""The rehearsal's parts on their own: stack config and overrides, plan diffs, the AWS stand-in's
added AWS rules and its journal replay, the GCP stand-in's rules, the state file's secrets, the
command line's argument errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pulumi.output import Unknown
from pulumi.runtime import rpc

from cmek_component import cli
from cmek_component.rehearsal import aws_world, gcp_world
from cmek_component.rehearsal.aws_world import AwsWorld, lockout_problem
from cmek_component.rehearsal.calls import Journal
from cmek_component.rehearsal.cloud_world import CloudWorld, Timings
from cmek_component.rehearsal.errors import RehearsalError
from cmek_component.rehearsal.gcp_world import GcpWorld
from cmek_component.rehearsal.plan import PlanStep, changed_keys, render_table
from cmek_component.rehearsal.stack_config import (
    StackConfigError,
    apply_override,
    load_stack_config,
    parse_path,
)
from cmek_component.rehearsal.state import ResourceState, StackState, load_state, save_state
from cmek_component.simulator import seeds

REPO = Path(__file__).resolve().parents[1]

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::548012347802:root"},
                   "Action": "sts:AssumeRole",
                   "Condition": {"StringEquals": {"sts:ExternalId": "52337060-d4a4-4ece-98df-052610c8ec9f"}}}],
})


def key_policy(admin_actions: list[str], admin: str = "arn:aws:iam::123456789012:root") -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:role/r"},
             "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
            {"Effect": "Allow", "Principal": {"AWS": admin}, "Action": admin_actions, "Resource": "*"},
        ],
    })


# ------------------------------------------------------------------ stack config


def write_stack(tmp_path: Path, body: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    stack = tmp_path / "stacks" / "Pulumi.dev.yaml"
    stack.parent.mkdir()
    stack.write_text(body)
    return stack


def test_stack_config_reads_project_stack_and_flattens_like_the_cli(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, (
        "config:\n  aws:region: us-west-2\n  clusters:\n    - cluster_id: abc\n      key_generation: 1\n"
        "  cockroach:apiKey:\n    secure: v1:xyz\n"
    ))
    config = load_stack_config(stack)
    assert (config.project, config.stack, config.main) == ("demo", "dev", tmp_path / "__main__.py")
    assert config.flat() == {"aws:region": "us-west-2", "demo:clusters": '[{"cluster_id":"abc","key_generation":1}]'}
    assert config.secret_keys == ["cockroach:apiKey"]


def test_overrides_use_the_cli_path_syntax_and_yaml_values(tmp_path: Path) -> None:
    config = load_stack_config(write_stack(tmp_path, "config:\n  clusters:\n    - cluster_id: abc\n"))
    config = apply_override(config, "clusters[0].key_generation=2")
    config = apply_override(config, "clusters[0].add_regions={us-east-2: 3}")
    config = apply_override(config, "clusters[0].aws.tags.team=db")
    config = apply_override(config, "aws:region=eu-west-1")
    assert config.values["demo:clusters"] == [
        {"cluster_id": "abc", "key_generation": 2, "add_regions": {"us-east-2": 3}, "aws": {"tags": {"team": "db"}}}
    ]
    assert config.values["aws:region"] == "eu-west-1"
    assert parse_path("clusters[1].gcp.key_locations") == ["clusters", 1, "gcp", "key_locations"]


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("clusters[0].key_generation", "expected <path>=<value>"),
        ("clusters[5].revoke=true", "past the end of a list of 1"),
        ("clusters.revoke=true", "clusters is not a mapping"),
        ("clusters[0]..revoke=true", "empty segment"),
    ],
)
def test_bad_overrides_name_the_override_and_the_rule(tmp_path: Path, assignment: str, message: str) -> None:
    config = load_stack_config(write_stack(tmp_path, "config:\n  clusters:\n    - cluster_id: abc\n"))
    with pytest.raises(StackConfigError, match=message):
        apply_override(config, assignment)


def test_cli_refuses_a_missing_stack_file_and_bad_timings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["rehearse", str(tmp_path / "Pulumi.nope.yaml")]) == 2
    assert "no such stack file" in capsys.readouterr().err
    assert cli.main(["rehearse", str(REPO / "stacks" / "Pulumi.local.yaml"), "--enable-seconds", "-1"]) == 2
    assert "--enable-seconds: expected seconds >= 0, got -1" in capsys.readouterr().err


# ------------------------------------------------------------------ plan


def test_changed_keys_follow_the_engine_property_diff() -> None:
    old = {"a": 3, "b": None, "c": {"x": 1}, "d": "same"}
    assert changed_keys(old, {"a": 3.0, "c": {"x": 1}, "d": "same"}) == []
    assert changed_keys(old, {"a": 4, "b": [], "c": {"x": 2}, "d": "same"}) == ["a", "c"]
    assert changed_keys(old, {"a": 3, "c": {"x": Unknown()}, "d": "same"}) == ["c"]


def test_plan_table_has_one_row_per_resource_and_a_summary() -> None:
    steps = [
        PlanStep("create", "u1", "aws:kms/key:Key", "k2"),
        PlanStep("update", "u2", "pulumi-python:dynamic/cockroach:CmekActivation", "act", ["region_specs"]),
        PlanStep("replace", "u3", "aws:iam/role:Role", "role", ["name", "tags"], ["name"]),
        PlanStep("same", "u4", "aws:kms/alias:Alias", "alias"),
        PlanStep("retain", "u5", "aws:kms/key:Key", "k1"),
    ]
    table = render_table(steps, "Plan")
    assert "cockroach:CmekActivation" in table and "aws:kms:Key" in table
    assert "[name*, tags]" in table and "[region_specs]" in table
    assert table.splitlines()[-1] == (
        "Resources: 1 to create, 1 to update, 1 to replace, 1 unchanged, "
        "1 to retain (removed from the stack, kept in the cloud)"
    )


# ------------------------------------------------------------------ AWS stand-in


def test_kms_lockout_check_needs_put_key_policy_for_the_deployer() -> None:
    caller, account = "arn:aws:sts::123456789012:user/moto", "123456789012"
    assert lockout_problem(key_policy(["kms:Put*", "kms:Describe*"]), caller, account) is None
    assert lockout_problem(key_policy(["kms:*"]), caller, account) is None
    assert "lockout" in str(lockout_problem(key_policy(["kms:Describe*"]), caller, account))
    assert "lockout" in str(lockout_problem(key_policy(["kms:*"], admin="arn:aws:iam::999999999999:root"), caller, account))


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[AwsWorld]:
    world = AwsWorld(Journal.load(tmp_path / "aws-journal.jsonl"))
    world.start()
    yield world
    world.stop()


def test_create_role_refuses_a_malformed_trust_policy_that_moto_alone_accepts(aws: AwsWorld) -> None:
    with pytest.raises(RehearsalError, match="MalformedPolicyDocument"):
        aws.create(aws_world.ROLE, "role", "urn:role", {"assumeRolePolicy": json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "sts:AssumeRole"}]})}, "us-east-1")
    assert aws.journal.entries == []


def test_keys_get_aws_ids_aliases_are_regional_and_the_journal_rebuilds_moto(aws: AwsWorld, tmp_path: Path) -> None:
    role = aws.create(aws_world.ROLE, "role", "urn:role", {"assumeRolePolicy": TRUST}, "us-east-1")
    key = aws.create(aws_world.KEY, "key", "urn:key", {
        "multiRegion": True, "enableKeyRotation": True, "policy": key_policy(["kms:*"]),
        "description": "k"}, "eu-west-1")
    assert key.id.startswith("mrk-") and len(key.id) == 36  # AWS's format: mrk- and 32 hex digits
    replica = aws.create(aws_world.REPLICA_KEY, "replica", "urn:replica", {
        "primaryKeyArn": key.outputs["arn"], "policy": key_policy(["kms:*"]), "description": "r"}, "us-west-2")
    for region, target in (("eu-west-1", key.id), ("us-west-2", replica.id)):
        aws.create(aws_world.ALIAS, "alias", "urn:alias", {"name": "alias/crdb", "targetKeyId": target}, region)
    with pytest.raises(RehearsalError, match="lockout"):
        aws.create(aws_world.KEY, "bad", "urn:bad", {"policy": key_policy(["kms:Describe*"])}, "eu-west-1")
    assert json.loads(aws.key_policy("us-west-2", replica.id)) == json.loads(key_policy(["kms:*"]))
    aws.stop()

    rebuilt = AwsWorld(Journal.load(tmp_path / "aws-journal.jsonl"))
    rebuilt.start()
    try:
        assert rebuilt.verify(aws_world.ROLE, role.id, role.outputs, "us-east-1") is None
        assert rebuilt.verify(aws_world.KEY, key.id, key.outputs, "eu-west-1") is None
        assert rebuilt.verify(aws_world.REPLICA_KEY, replica.id, replica.outputs, "us-west-2") is None
        assert rebuilt.verify(aws_world.ALIAS, "alias/crdb", {}, "us-west-2") is None
        assert rebuilt.verify(aws_world.KEY, "mrk-" + "0" * 32, {"arn": "x"}, "eu-west-1") is not None
        assert rebuilt.calls == []  # the replay is not a call of this run
    finally:
        rebuilt.stop()


def test_a_read_only_aws_world_refuses_mutating_calls(tmp_path: Path) -> None:
    world = AwsWorld(Journal.load(tmp_path / "j.jsonl"), read_only=True)
    world.start()
    try:
        assert world.caller()["accountId"] == "123456789012"
        with pytest.raises(RehearsalError, match="preview attempted a mutating AWS call"):
            world.create(aws_world.ROLE, "role", "urn:role", {"assumeRolePolicy": TRUST}, "us-east-1")
    finally:
        world.stop()
    assert not (tmp_path / "j.jsonl").exists()


# ------------------------------------------------------------------ GCP stand-in


def test_gcp_stand_in_applies_gcps_naming_and_enum_rules(tmp_path: Path) -> None:
    world = GcpWorld(tmp_path / "gcp.json", default_project="customer-kms-project")
    with pytest.raises(RehearsalError, match="6-30 characters"):
        world.create(gcp_world.ACCOUNT, "sa", {"accountId": "Crdb_SA"})
    account = world.create(gcp_world.ACCOUNT, "sa", {"accountId": "crdb-cmek-sa"})
    assert account.id == "projects/customer-kms-project/serviceAccounts/crdb-cmek-sa@customer-kms-project.iam.gserviceaccount.com"
    assert len(account.outputs["uniqueId"]) == 21 and account.outputs["uniqueId"].isdigit()
    with pytest.raises(RehearsalError, match="Cloud KMS location"):
        world.create(gcp_world.KEY_RING, "ring", {"name": "ring", "location": "us-east-1"})
    ring = world.create(gcp_world.KEY_RING, "ring", {"name": "ring", "location": "us-east1"})
    with pytest.raises(RehearsalError, match="purpose: expected one of ENCRYPT_DECRYPT"):
        world.create(gcp_world.CRYPTO_KEY, "key", {"name": "k", "keyRing": ring.id, "purpose": "BOGUS"})
    with pytest.raises(RehearsalError, match="rotationPeriod"):
        world.create(gcp_world.CRYPTO_KEY, "key", {"name": "k", "keyRing": ring.id, "rotationPeriod": "3600s"})
    with pytest.raises(RehearsalError, match="GOOGLE_SYMMETRIC_ENCRYPTION"):
        world.create(gcp_world.CRYPTO_KEY, "key", {"name": "k", "keyRing": ring.id,
                                                   "versionTemplate": {"algorithm": "RSA_SIGN_PSS_2048_SHA256"}})
    key = world.create(gcp_world.CRYPTO_KEY, "key", {"name": "k", "keyRing": ring.id})
    assert key.id == "projects/customer-kms-project/locations/us-east1/keyRings/ring/cryptoKeys/k"
    with pytest.raises(RehearsalError, match="member: expected"):
        world.create(gcp_world.CRYPTO_KEY_IAM_MEMBER, "grant", {"cryptoKeyId": key.id,
                                                                "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
                                                                "member": "crdb-cmek-sa"})
    with pytest.raises(RehearsalError, match="NOT_FOUND"):
        world.create(gcp_world.CRYPTO_KEY_IAM_MEMBER, "grant", {"cryptoKeyId": ring.id + "/cryptoKeys/missing",
                                                                "role": "roles/x", "member": account.outputs["member"]})
    assert world.delete(gcp_world.KEY_RING, ring.id, ring.outputs).startswith("removed from state")
    with pytest.raises(RehearsalError, match="ALREADY_EXISTS"):
        world.create(gcp_world.KEY_RING, "ring", {"name": "ring", "location": "us-east1"})
    world.save()
    reloaded = GcpWorld(tmp_path / "gcp.json")
    reloaded.load()
    assert ring.id in reloaded.names_used and key.id in reloaded.objects


# ------------------------------------------------------------------ state file


def test_state_file_keeps_secret_hashes_only_and_refuses_a_forbidden_value(tmp_path: Path) -> None:
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2"}
    state = StackState("cmek", "local", [ResourceState(
        urn="urn:x", type="aws:kms/key:Key", name="k", custom=True, id="id", inputs={"tag": secret},
        outputs={"tag": secret, "arn": "arn"}, retain_on_delete=True)])
    path = tmp_path / "state.json"
    save_state(path, state)
    text = path.read_text()
    assert "hunter2" not in text and "secret_sha256" in text
    loaded = load_state(path, "cmek", "local")
    assert loaded.resources[0].retain_on_delete and loaded.resources[0].outputs["arn"] == "arn"
    with pytest.raises(RuntimeError, match="refusing"):
        save_state(path, StackState("cmek", "local", outputs={"leak": "key-123"}), forbidden=["key-123"])
    assert "key-123" not in path.read_text()
    with pytest.raises(ValueError, match="not cmek/other"):
        load_state(path, "cmek", "other")


# ------------------------------------------------------------------ Cloud API simulator between runs


def post_cmek(world: CloudWorld) -> int:
    response = requests.post(
        f"{world.url}/api/v1/clusters/{seeds.AWS_MULTI}/cmek",
        json={"region_specs": seeds.region_specs(seeds.AWS_MULTI)},
        headers={"Authorization": f"Bearer {world.api_key}", "Cc-Version": "2024-09-16"},
        timeout=10,
    )
    return response.status_code


def test_the_simulator_world_is_rebuilt_from_its_journal_under_the_timings_of_each_request(tmp_path: Path) -> None:
    journal_path = tmp_path / "cloud-journal.jsonl"
    first = CloudWorld(Journal.load(journal_path), Timings(enable=0, iam_propagation=3600))
    first.start()
    try:
        assert post_cmek(first) == 400  # the grant has not propagated yet
        first.save()
    finally:
        first.stop()
    second = CloudWorld(Journal.load(journal_path), Timings(enable=0, iam_propagation=0))
    second.start()  # replays the refused POST as refused, although this run has no propagation delay
    try:
        assert second.new_requests() == []
        assert second.cmek(seeds.AWS_MULTI) is None
        assert post_cmek(second) == 200
        second.save()
    finally:
        second.stop()
    third = CloudWorld(Journal.load(journal_path), Timings(enable=0))
    third.start()
    try:
        cmek = third.cmek(seeds.AWS_MULTI)
        assert cmek is not None and cmek["status"] == "ENABLED"
    finally:
        third.stop()


def test_a_journal_the_simulator_does_not_reproduce_is_refused_and_left_alone(tmp_path: Path) -> None:
    journal_path = tmp_path / "cloud-journal.jsonl"
    world = CloudWorld(Journal.load(journal_path), Timings(enable=0))
    world.start()
    try:
        assert post_cmek(world) == 200
        world.save()
    finally:
        world.stop()
    tampered = journal_path.read_text().replace('"status": 200', '"status": 400')
    journal_path.write_text(tampered)
    again = CloudWorld(Journal.load(journal_path), Timings(enable=0))
    with pytest.raises(RehearsalError, match="gave 200, not 400 as recorded"):
        again.start()
    assert again.simulator is None and again.server is None
    assert journal_path.read_text() == tampered
