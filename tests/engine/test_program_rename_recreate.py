"""Renaming a cluster, and ``pulumi destroy`` then ``pulumi up`` of the same stack, through the
real CLI with the stand-in AWS provider (moto) and the simulator.

- A rename (``cmek:clusters[0].name``) moves every resource to the new name (aliases): nothing
  is created, replaced or deleted, and no backend sees a mutating call.
- After ``pulumi destroy`` the keys and the role are retained and CMEK stays ENABLED; a new
  ``pulumi up`` of the same config is refused before anything is created, naming the keys in
  use. Restoring the stack's state from before the destroy (the runbook) converges: the
  aliases come back and the activation adopts the live keys with no Cloud API write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmek_component.rehearsal.standins.harness import standin_backends
from cmek_component.simulator import seeds

from .conftest import ProgramStack, RunningSimulator, counts, local_stack_config, make_program_stack
from .test_program_aws import alias_targets

CLUSTER = seeds.AWS_MULTI
REGIONS = ("eu-west-1", "us-east-1", "us-west-2")
ALIAS = f"alias/crdb-cmek-{CLUSTER}"


def kms_keys(stack: ProgramStack) -> dict[str, list[str]]:
    """Region -> ids of the keys moto holds there (none is ever scheduled for deletion here)."""
    found: dict[str, list[str]] = {}
    for region in REGIONS:
        kms = stack.backends.aws("kms", region)
        found[region] = sorted(k["KeyId"] for k in kms.list_keys()["Keys"]
                               if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled")
    return found


def role_names(stack: ProgramStack) -> list[str]:
    return sorted(r["RoleName"] for r in stack.backends.aws("iam", "us-east-1").list_roles()["Roles"])


def urns(stack: ProgramStack) -> list[str]:
    exported = json.loads(stack.workspace.run("stack", "export").check().stdout)
    return [r["urn"] for r in exported["deployment"].get("resources") or []]


def renamed(config: dict[str, Any], name: str) -> dict[str, Any]:
    config["cmek:clusters"][0]["name"] = name
    return config


def test_a_renamed_cluster_keeps_its_role_and_keys_under_the_new_name(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    with standin_backends(tmp_path / "standins") as backends:
        stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, local_stack_config())
        assert stack.up().check().summary() == {"created": 10}
        keys, roles = kms_keys(stack), role_names(stack)
        before = stack.writes()

        stack.edit_config(renamed(stack.config(), "payments"))
        preview = stack.preview("--diff").check()
        assert counts(preview) == {"unchanged": 10}, preview.stdout  # moved, not created or replaced
        assert stack.writes() == before

        moved = stack.up().check()
        assert counts(moved) == {"unchanged": 10}, moved.stdout
        assert stack.writes() == before, "a rename made a mutating call"
        assert kms_keys(stack) == keys and role_names(stack) == roles
        assert sum("::payments" in urn for urn in urns(stack)) == 9  # the component and its 8 children
        assert not any("cluster-b23eaee4" in urn for urn in urns(stack))
        outputs = stack.outputs()
        assert "cluster-b23eaee4" not in outputs and outputs["payments"]["status"] == "ENABLED"
        assert outputs["clusters"] == {"payments": CLUSTER}

        # The next up of the renamed stack is a plain no-op.
        assert stack.up().check().summary() == {"unchanged": 10}
        assert stack.writes() == before


def test_destroy_then_up_is_refused_before_anything_is_created_and_restoring_the_state_converges(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    with standin_backends(tmp_path / "standins") as backends:
        stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, local_stack_config())
        stack.up().check()
        keys, roles = kms_keys(stack), role_names(stack)
        live = simulator.current_keys(CLUSTER)
        assert stack.destroy().check().summary() == {"deleted": 10}
        assert kms_keys(stack) == keys and role_names(stack) == roles  # retained
        assert simulator.cmek(CLUSTER)["status"] == "ENABLED"
        before = stack.writes()

        for command in (stack.preview, stack.up):
            refused = command()
            assert refused.returncode != 0
            text = refused.output
            assert "cmek:clusters[0]: cluster 'b23eaee4-e12c-4288-95db-3e81ee22d2ea' already has CMEK ENABLED" in text
            for region, (uri, _) in live.items():
                assert f"{region}: '{uri}'" in text
            assert "Nothing was created" in text
            assert stack.writes() == before, "a refused update made a mutating call"
            assert kms_keys(stack) == keys and role_names(stack) == roles
        assert [u for u in urns(stack) if "ClusterCmek" in u] == []

        # The runbook (file backend): the newest checkpoint in the backend's history that still
        # holds the cluster, imported as the stack's state; then refresh and up.
        history = stack.workspace.backend / ".pulumi" / "history" / "cmek" / "local"
        checkpoints = sorted(history.glob("local-*.checkpoint.json"), key=lambda p: int(p.name.split("-")[1].split(".")[0]))
        holding = [p for p in checkpoints if any(
            r["type"] == "cockroach:cmek:ClusterCmek"
            for r in json.loads(p.read_text())["checkpoint"]["latest"].get("resources") or [])]
        assert holding, [p.name for p in checkpoints]
        restored = tmp_path / "before-destroy.json"
        restored.write_text(json.dumps({"version": 3, "deployment": json.loads(holding[-1].read_text())["checkpoint"]["latest"]}))
        stack.workspace.run("stack", "import", "--file", str(restored)).check()
        refreshed = stack.workspace.run("refresh", "--yes", "--skip-preview").check()
        assert counts(refreshed) == {"deleted": 3, "unchanged": 7}, refreshed.stdout  # the aliases were deleted
        converged = stack.up().check()
        assert counts(converged) == {"created": 3, "unchanged": 7}, converged.stdout
        for region in REGIONS:
            assert alias_targets(stack, region) == {ALIAS: keys[region][0]}
        assert kms_keys(stack) == keys and role_names(stack) == roles
        assert len(simulator.mutating()) == before[2], "restoring the stack wrote to the Cloud API"
        assert simulator.current_keys(CLUSTER) == live
        assert stack.up().check().summary() == {"unchanged": 10}


def test_a_renamed_gcp_cluster_keeps_its_service_account_and_keys(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    config = {"gcp:project": "customer-kms-project",
              "cmek:clusters": [{"cluster_id": seeds.GCP_SINGLE, "name": "ledger"}]}
    with standin_backends(tmp_path / "standins") as backends:
        stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, config)
        assert stack.up().check().summary() == {"created": 8}
        held = sorted(backends.gcp().objects)
        before = stack.writes()

        stack.edit_config(renamed(stack.config(), "books"))
        preview = stack.preview("--diff").check()
        assert counts(preview) == {"unchanged": 8}, preview.stdout
        moved = stack.up().check()
        assert counts(moved) == {"unchanged": 8}, moved.stdout
        assert stack.writes() == before, "a rename made a mutating call"
        assert sorted(backends.gcp().objects) == held
        assert not any("::ledger" in urn for urn in urns(stack))
        assert stack.outputs()["books"]["status"] == "ENABLED"
