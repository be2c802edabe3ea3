"""The local stack rehearsed end to end with ``cmek rehearse``, one process per step, as the
README's demo runs it: create, no-op, rotation, in-place rotation, add region, revoke (preview
first), destroy (preview first). Each step's JSON report gives the exact API calls made; the
simulator's final state comes from the report's ``GET .../cmek`` body.

The simulated operations take 0 s (the first poll already sees the result), so nothing sleeps.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
STACK = REPO / "stacks" / "Pulumi.local.yaml"
CLUSTER = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
ORGANIZATION = "52337060-d4a4-4ece-98df-052610c8ec9f"
CRDB_ACCOUNT = "548012347802"
API_KEY = "rehearsal-test-key-7Qf3xZ"
ALIAS = f"alias/crdb-cmek-{CLUSTER}"
ROLE = "cluster-b23eaee4-role-7a2e96a"
CMEK_PATH = f"/api/v1/clusters/{CLUSTER}/cmek"
CLUSTER_PATH = f"/api/v1/clusters/{CLUSTER}"
NO_WAIT = ["--enable-seconds", "0", "--rotate-seconds", "0", "--revoke-seconds", "0", "--add-region-seconds", "0"]
KEY_ID_RE = re.compile(r"mrk-[0-9a-f]{32}")

ROTATED = ["--set", "clusters[0].key_generation=2"]
REWRAPPED = [*ROTATED, "--set", "clusters[0].rotation_trigger=2026-q1"]
REGION_ADDED = [*REWRAPPED, "--set", "clusters[0].add_regions={us-east-2: 3}"]
REVOKED = [*REWRAPPED, "--set", "clusters[0].revoke=true"]
REVOKED_AND_ROTATED = [*REVOKED, "--set", "clusters[0].key_generation=3"]
REFUSED = ("revoke-with-rotation",)
"""Steps expected to fail; the sequence goes on after them."""


@dataclass
class Step:
    """One ``cmek rehearse`` process: its exit code, output, report and the state files
    before and after it."""

    returncode: int
    output: str
    report: dict[str, Any]
    before: dict[str, bytes]
    after: dict[str, bytes]

    def mutating(self, cloud: str) -> list[dict[str, Any]]:
        return [c for c in self.report["calls"] if c["cloud"] == cloud and c["mutating"]]

    def ops(self, which: str = "applied") -> dict[str, str]:
        return {s["name"]: s["op"] for s in self.report[which]}


def _files(state_dir: Path) -> dict[str, bytes]:
    if not state_dir.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(state_dir.iterdir()) if p.is_file()}


def run_rehearsal(state_dir: Path, report: Path, *args: str, stack: Path = STACK) -> Step:
    before = _files(state_dir)
    process = subprocess.run(
        [sys.executable, "-m", "cmek_component.cli", "rehearse", str(stack), "--state-dir", str(state_dir),
         "--project-dir", str(REPO), "--report", str(report), *NO_WAIT, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CMEK_REHEARSAL_API_KEY": API_KEY},
        timeout=300,
        check=False,
    )
    output = process.stdout + process.stderr
    loaded = json.loads(report.read_text()) if report.exists() else {}
    return Step(process.returncode, output, loaded, before, _files(state_dir))


class KeyNames:
    """Replaces each KMS key id by K1, K2 ... in order of first appearance (ids are moto's)."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        def name(match: re.Match[str]) -> str:
            return self.names.setdefault(match.group(0), f"K{len(self.names) + 1}")

        return KEY_ID_RE.sub(name, text)


def aws_calls(step: Step, keys: KeyNames) -> list[str]:
    return sorted(keys(f"{c['operation']} {c['target']}") for c in step.mutating("aws"))


def cloud_calls(step: Step) -> list[tuple[str, Any]]:
    return [(c["operation"], c["body"]) for c in step.mutating("cockroach")]


def arn(region: str, key: str) -> str:
    return f"arn:aws:kms:{region}:123456789012:key/{key}"


def specs(keys: dict[str, str]) -> list[dict[str, Any]]:
    role = f"arn:aws:iam::123456789012:role/{ROLE}"
    return [{"region": r, "key_spec": {"type": "AWS_KMS", "uri": arn(r, keys[r]), "auth_principal": role}}
            for r in sorted(keys)]


def regions(step: Step) -> dict[str, dict[str, Any]]:
    """Region -> (status, [(key uri, key status)...]) from the simulator's final CMEK state."""
    cmek = step.report["cmek"][CLUSTER]
    return {
        info["region"]: {"status": info["status"], "keys": [(k["spec"]["uri"], k["status"]) for k in info["key_infos"]]}
        for info in cmek["region_infos"]
    }


@pytest.fixture(scope="module")
def sequence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Step]]:
    """The demo sequence, each step run once; tests look at the step they are about."""
    root = tmp_path_factory.mktemp("rehearsal")
    state = root / "state"
    steps: dict[str, Step] = {}
    plan = [
        ("create", ["--show-policies"]),
        ("no-op", []),
        ("rotate", ROTATED),
        ("rewrap", REWRAPPED),
        ("add-region", REGION_ADDED),
        ("tidy", REWRAPPED),
        ("revoke-with-rotation", REVOKED_AND_ROTATED),
        ("revoke-preview", [*REVOKED, "--preview"]),
        ("revoke", REVOKED),
        ("destroy-preview", [*REVOKED, "--destroy", "--preview"]),
        ("destroy", [*REVOKED, "--destroy"]),
    ]
    for name, args in plan:
        steps[name] = run_rehearsal(state, root / f"{name}.json", *args)
        if steps[name].returncode != 0 and name not in REFUSED:
            break
    steps["_root"] = Step(0, "", {}, {}, _files(state))
    yield steps
    shutil.rmtree(root, ignore_errors=True)


def _ok(step: Step) -> Step:
    assert step.returncode == 0, step.output
    assert step.report["error"] is None, step.report["error"]
    return step


def test_create_makes_role_keys_replicas_aliases_in_moto_then_enables_cmek(sequence: dict[str, Step]) -> None:
    step = _ok(sequence["create"])
    keys = KeyNames()
    assert aws_calls(step, keys) == sorted([
        f"iam:CreateRole {ROLE}",
        "kms:CreateKey cluster-b23eaee4-key (eu-west-1)",
        "kms:EnableKeyRotation K1 (eu-west-1)",
        f"kms:CreateAlias {ALIAS} (eu-west-1)",
        "kms:ReplicateKey K1 -> us-east-1 (eu-west-1)",
        "kms:ReplicateKey K1 -> us-west-2 (eu-west-1)",
        f"kms:CreateAlias {ALIAS} (us-east-1)",
        f"kms:CreateAlias {ALIAS} (us-west-2)",
    ])
    key = next(k for k, v in keys.names.items() if v == "K1")
    # One enable, with moto's ARNs, after every AWS resource exists.
    assert cloud_calls(step) == [(f"POST {CMEK_PATH}", {"region_specs": specs(dict.fromkeys(
        ["eu-west-1", "us-east-1", "us-west-2"], key))})]
    post = step.mutating("cockroach")[0]
    assert all(c["at"] <= post["at"] for c in step.mutating("aws"))
    assert step.mutating("gcp") == []
    assert set(step.ops("plan").values()) == {"create"} and set(step.ops().values()) == {"create"}
    assert regions(step) == {
        r: {"status": "ENABLED", "keys": [(arn(r, key), "ENABLED")]} for r in ("eu-west-1", "us-east-1", "us-west-2")
    }
    # The activation ran in the real dynamic provider host, over gRPC.
    assert step.report["provider_rpcs"] == ["Configure", "Check", "Check", "Create"]


def test_create_shows_the_plan_progress_and_policies_as_stored_in_moto(sequence: dict[str, Step]) -> None:
    output = _ok(sequence["create"]).output
    assert "Plan (preview: nothing is changed)" in output and "Resources: 9 to create" in output
    assert re.search(r"\+\s+create\s+aws:kms:ReplicaKey\s+cluster-b23eaee4-replica-us-west-2", output)
    assert "cockroach:CmekActivation  cluster-b23eaee4-activation  creating..." in output
    assert "Resources: 9 created" in output
    trust = output[output.index("Trust policy of role"):]
    assert f'"AWS": "arn:aws:iam::{CRDB_ACCOUNT}:root"' in trust
    assert f'"sts:ExternalId": "{ORGANIZATION}"' in trust
    key_policy = output[output.index("Key policy of"):]
    assert '"Id": "crdb-cmek-kms"' in key_policy and '"kms:GenerateDataKey*"' in key_policy
    assert re.search(r"eu-west-1\s+ENABLED\s+ENABLED\s+1\s+arn:aws:kms:eu-west-1:", output)


def test_second_run_with_the_same_config_changes_nothing(sequence: dict[str, Step]) -> None:
    step = _ok(sequence["no-op"])
    assert [c for c in step.report["calls"] if c["mutating"]] == []
    assert set(step.ops("plan").values()) == {"same"} and set(step.ops().values()) == {"same"}
    # moto's and the simulator's journals and the state file are byte for byte the same.
    assert step.after == step.before
    assert "Check" in step.report["provider_rpcs"] and "Diff" in step.report["provider_rpcs"]
    assert not {"Create", "Update", "Delete"} & set(step.report["provider_rpcs"])
    assert "nothing to do" in step.output


def test_new_key_generation_makes_new_keys_and_rotates_every_region(sequence: dict[str, Step]) -> None:
    create, step = _ok(sequence["create"]), _ok(sequence["rotate"])
    keys = KeyNames()
    aws_calls(create, keys)
    assert aws_calls(step, keys) == sorted([
        "kms:CreateKey cluster-b23eaee4-key-g2 (eu-west-1)",
        "kms:EnableKeyRotation K2 (eu-west-1)",
        f"kms:CreateAlias {ALIAS}-g2 (eu-west-1)",
        "kms:ReplicateKey K2 -> us-east-1 (eu-west-1)",
        "kms:ReplicateKey K2 -> us-west-2 (eu-west-1)",
        f"kms:CreateAlias {ALIAS}-g2 (us-east-1)",
        f"kms:CreateAlias {ALIAS}-g2 (us-west-2)",
    ])
    old, new = (next(k for k, v in keys.names.items() if v == name) for name in ("K1", "K2"))
    assert cloud_calls(step) == [(f"PUT {CMEK_PATH}", {"region_specs": specs(dict.fromkeys(
        ["eu-west-1", "us-east-1", "us-west-2"], new))})]
    assert step.ops()["cluster-b23eaee4-activation"] == "update"
    assert step.ops()["cluster-b23eaee4-key"] == "same"  # the old key stays
    assert regions(step)["us-west-2"] == {
        "status": "ENABLED", "keys": [(arn("us-west-2", old), "DISABLED"), (arn("us-west-2", new), "ENABLED")]
    }


def test_rotation_trigger_rewraps_every_region_with_the_same_keys(sequence: dict[str, Step]) -> None:
    rotate, step = _ok(sequence["rotate"]), _ok(sequence["rewrap"])
    assert step.mutating("aws") == []
    assert cloud_calls(step) == cloud_calls(rotate)[:1] and cloud_calls(step)[0][0] == f"PUT {CMEK_PATH}"
    plan = [s for s in step.report["plan"] if s["op"] != "same"]
    assert [(s["name"], s["op"], s["changes"]) for s in plan] == [
        ("cluster-b23eaee4-activation", "update", ["rotation_trigger"])
    ]
    assert all(info["status"] == "ENABLED" for info in regions(step).values())


def test_adding_a_region_creates_its_replicas_then_patches_the_cluster(sequence: dict[str, Step]) -> None:
    create, rotate, step = _ok(sequence["create"]), _ok(sequence["rotate"]), _ok(sequence["add-region"])
    keys = KeyNames()
    aws_calls(create, keys)
    aws_calls(rotate, keys)
    assert aws_calls(step, keys) == sorted([
        "kms:ReplicateKey K1 -> us-east-2 (eu-west-1)",
        "kms:ReplicateKey K2 -> us-east-2 (eu-west-1)",
        f"kms:CreateAlias {ALIAS} (us-east-2)",
        f"kms:CreateAlias {ALIAS}-g2 (us-east-2)",
    ])
    new = next(k for k, v in keys.names.items() if v == "K2")
    assert cloud_calls(step) == [(f"PATCH {CLUSTER_PATH}", {"dedicated": {
        "region_nodes": {"eu-west-1": 3, "us-east-1": 3, "us-east-2": 3, "us-west-2": 3},
        "cmek_region_specs": specs({"us-east-2": new}),
    }})]
    assert set(regions(step)) == {"eu-west-1", "us-east-1", "us-east-2", "us-west-2"}
    assert regions(step)["us-east-2"] == {"status": "ENABLED", "keys": [(arn("us-east-2", new), "ENABLED")]}
    assert "cluster LOCKED" in step.output or "updated" in step.output


def test_dropping_add_regions_after_the_add_is_a_state_only_update(sequence: dict[str, Step]) -> None:
    step = _ok(sequence["tidy"])
    assert [c for c in step.report["calls"] if c["mutating"]] == []
    changed = {s["name"]: s["changes"] for s in step.report["applied"] if s["op"] != "same"}
    assert changed == {"cluster-b23eaee4-activation": ["new_region_nodes"]}


def test_preview_of_revoke_shows_the_plan_and_makes_no_mutating_call(sequence: dict[str, Step]) -> None:
    step = _ok(sequence["revoke-preview"])
    assert step.report["mode"] == "preview"
    assert [c for c in step.report["calls"] if c["mutating"]] == []
    assert step.after == step.before  # state, moto journal and simulator journal untouched
    planned = {s["name"]: (s["op"], s["changes"]) for s in step.report["plan"] if s["op"] != "same"}
    assert planned == {"cluster-b23eaee4-activation": ("update", ["revoke"])}
    assert step.report["applied"] == []
    assert all(info["status"] == "ENABLED" for info in regions(step).values())
    # Check and Diff only: the plugin is asked, nothing is applied.
    assert set(step.report["provider_rpcs"]) == {"Configure", "Check", "Diff"}


def test_revoke_with_a_rotation_is_refused_by_key_before_anything_is_planned(sequence: dict[str, Step]) -> None:
    """The last run exported key_generation 2; revoke plus generation 3 is refused by the
    program itself: no resource is planned, no call is made, no file changes."""
    step = sequence["revoke-with-rotation"]
    assert step.returncode != 0
    assert "cmek:clusters[0].key_generation: cannot change in the update that sets revoke to true" in step.output
    assert "the last update applied 2, got 3; set it back to 2 to revoke now" in step.output
    assert step.report["plan"] == [] and step.report["applied"] == []
    assert [c for c in step.report["calls"] if c["mutating"]] == []
    assert step.after == step.before


def test_revoke_sends_exactly_one_revoke(sequence: dict[str, Step]) -> None:
    step = _ok(sequence["revoke"])
    assert step.mutating("aws") == []
    assert cloud_calls(step) == [(f"PATCH {CMEK_PATH}", {"action": "REVOKE"})]
    assert step.report["cmek"][CLUSTER]["status"] == "REVOKED"
    assert {info["status"] for info in regions(step).values()} == {"REVOKED"}


def test_destroy_preview_lists_deleted_and_retained_without_calls(sequence: dict[str, Step]) -> None:
    step = _ok(sequence["destroy-preview"])
    assert [c for c in step.report["calls"] if c["mutating"]] == []
    assert step.after == step.before
    ops = step.ops("plan")
    assert ops["cluster-b23eaee4-activation"] == "delete"
    assert {ops[n] for n in ops if "-alias-" in n} == {"delete"}
    retained = {n for n, op in ops.items() if op == "retain"}
    assert retained == {
        "cluster-b23eaee4-role", "cluster-b23eaee4-key", "cluster-b23eaee4-key-g2",
        *(f"cluster-b23eaee4-replica-{r}{g}" for r in ("us-east-1", "us-west-2", "us-east-2") for g in ("", "-g2")),
    }
    assert "Resources: 10 to delete, 9 to retain" in step.output


def test_destroy_deletes_aliases_keeps_keys_and_leaves_cmek_on(sequence: dict[str, Step]) -> None:
    step = _ok(sequence["destroy"])
    keys = KeyNames()
    assert aws_calls(step, keys) == sorted(
        f"kms:DeleteAlias {ALIAS}{g} ({r})" for r in ("eu-west-1", "us-east-1", "us-east-2", "us-west-2") for g in ("", "-g2")
    )
    assert not any("ScheduleKeyDeletion" in c["operation"] or "DeleteRole" in c["operation"] for c in step.report["calls"])
    assert step.mutating("cockroach") == []  # the API cannot disable CMEK: delete makes no call
    assert f"CMEK stays revoked on cluster {CLUSTER}" in step.output  # the sequence revoked it
    assert "Delete" in step.report["provider_rpcs"]
    assert json.loads(step.after["state.json"])["resources"] == []
    assert step.report["cmek"][CLUSTER]["status"] == "REVOKED"


def test_the_api_key_is_never_printed_or_stored(sequence: dict[str, Step]) -> None:
    steps = [s for name, s in sequence.items() if not name.startswith("_")]
    assert len(steps) == 11
    for step in steps:
        assert API_KEY not in step.output
        assert API_KEY not in json.dumps(step.report)
    for name, content in sequence["_root"].after.items():
        assert API_KEY.encode() not in content, name
    assert "COCKROACH_API_KEY" not in json.dumps(json.loads(sequence["_root"].after["state.json"]))


def test_preview_of_a_new_stack_makes_no_call_and_writes_nothing(tmp_path: Path) -> None:
    step = run_rehearsal(tmp_path / "state", tmp_path / "report.json", "--preview")
    assert step.returncode == 0, step.output
    assert [c for c in step.report["calls"] if c["mutating"]] == []
    assert set(step.ops("plan").values()) == {"create"} and len(step.report["plan"]) == 9
    assert step.after == {}  # no state, no journals
    assert step.report["cmek"][CLUSTER] is None


def test_a_moto_journal_that_no_longer_matches_the_state_is_refused(
    sequence: dict[str, Step], tmp_path: Path
) -> None:
    _ok(sequence["create"])
    state = tmp_path / "state"
    state.mkdir()
    for name, content in sequence["create"].after.items():
        (state / name).write_bytes(content)
    journal = (state / "aws-journal.jsonl").read_text().splitlines()
    (state / "aws-journal.jsonl").write_text("\n".join(journal[:-1]) + "\n")  # lose the last alias
    step = run_rehearsal(state, tmp_path / "report.json")
    assert step.returncode == 1
    assert "does not match the state" in step.output and "alias" in step.output
