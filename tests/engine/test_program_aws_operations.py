"""The stack program (``__main__.py``) on AWS through the real CLI: the operations after create.

One stack's life on the simulator's one-region AWS cluster (``seeds.AWS_SINGLE``, ``us-east-1``,
the multi-region key's primary set explicitly, as the *Add a region* runbook asks), in the
runbooks' order: an in-place rotation (``rotation_trigger``), adding a region (``add_regions``),
then dropping ``add_regions`` once the cluster has it, the revoke runbook (``aws.cut_key_access``
first, then ``revoke``), a no-op ``up`` and ``refresh`` once revoked, the recover runbook's
step 1 (``cut_key_access`` back to ``false``), and ``destroy`` after the revoke. Each step is
previewed first (the preview's counts, and no mutating call anywhere), then applied; each asserts
the CLI's summary, what moto holds, the simulator's CMEK state and the exact mutating calls of the
stand-ins, moto and the simulator.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from cmek_component.simulator import seeds

from .conftest import (
    Marks,
    ProgramStack,
    RunningSimulator,
    StandinBackends,
    Writes,
    counts,
    make_program_stack,
)
from .test_program_aws import alias_targets, keys_in

CLUSTER = seeds.AWS_SINGLE
PRIMARY = "us-east-1"
ADDED = "us-west-2"
NAME = "orders"
ALIAS = f"alias/crdb-cmek-{CLUSTER}"
SEED_ACTIONS = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}
"""The five KMS actions of the seed's key policy for CockroachDB Cloud's role."""
CONFIG: dict[str, Any] = {
    "aws:region": PRIMARY,
    "cmek:clusters": [{"cluster_id": CLUSTER, "name": NAME, "aws": {"primary_region": PRIMARY}}],
}
CMEK_PATH = f"/api/v1/clusters/{CLUSTER}/cmek"
CLUSTER_PATH = f"/api/v1/clusters/{CLUSTER}"


def cluster_config(stack: ProgramStack) -> dict[str, Any]:
    """A copy of the stack file's one cluster entry."""
    return dict(copy.deepcopy(stack.config()["cmek:clusters"][0]))


def set_cluster(stack: ProgramStack, cluster: dict[str, Any]) -> None:
    stack.edit_config({**stack.config(), "cmek:clusters": [cluster]})


def previewed(stack: ProgramStack) -> Any:
    """``pulumi preview --diff`` (its ``CliResult``); asserts that it made no mutating call anywhere."""
    mark = Marks(stack)
    preview = stack.preview("--diff").check()
    assert mark.since() == Writes([], [], []), preview.stdout[-3000:]
    return preview


def key_policy(stack: ProgramStack, region: str, key_id: str) -> dict[str, Any]:
    kms = stack.backends.aws("kms", region)
    return dict(json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]))


def role_statements(policy: dict[str, Any], role_arn: str) -> list[dict[str, Any]]:
    """The statements of a key policy that name the role."""
    return [s for s in policy["Statement"] if role_arn in json.dumps(s.get("Principal"))]


def test_an_aws_stack_is_rewrapped_extended_cut_off_revoked_and_destroyed_with_its_keys_kept(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator, backends: StandinBackends
) -> None:
    stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, CONFIG)

    # Create: the role, the multi-region primary key, its alias and the activation (with the
    # stack and the component: 6).
    assert counts(stack.up().check()) == {"created": 6}
    [role] = stack.backends.aws("iam", PRIMARY).list_roles()["Roles"]
    [primary] = keys_in(stack, PRIMARY)
    key_id = primary["KeyId"]
    assert primary["MultiRegion"] is True and primary["KeyState"] == "Enabled"
    assert simulator.current_keys(CLUSTER) == {PRIMARY: (primary["Arn"], "ENABLED")}

    # In-place rotation: a new rotation_trigger re-wraps every region with its current key. Only
    # the activation changes; one PUT cmek with the unchanged spec, no cloud call.
    cluster = cluster_config(stack)
    cluster["rotation_trigger"] = "2026-12-01"
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to update": 1, "unchanged": 5}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 5}
    assert mark.since() == Writes([], [], [("PUT", CMEK_PATH)])
    [put] = [r for r in simulator.recorded() if r["method"] == "PUT"]
    assert put["body"]["region_specs"] == [
        {"region": PRIMARY, "key_spec": {"type": "AWS_KMS", "uri": primary["Arn"], "auth_principal": role["Arn"]}}
    ]
    assert simulator.cmek(CLUSTER)["status"] == "ENABLED"
    assert simulator.current_keys(CLUSTER) == {PRIMARY: (primary["Arn"], "ENABLED")}
    assert [k["KeyId"] for k in keys_in(stack, PRIMARY)] == [key_id]

    # Add a region: a replica of the primary key in it and its alias, then one PATCH cluster that
    # adds the region with its key; the primary key is untouched.
    cluster["add_regions"] = {ADDED: 3}
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to create": 2, "to update": 1, "unchanged": 5}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"created": 2, "updated": 1, "unchanged": 5}
    writes = mark.since()
    assert writes.moto == ["ReplicateKey", "CreateAlias"]
    assert [(cloud, op) for cloud, op, _ in writes.standins] == [("aws", "kms:ReplicateKey"), ("aws", "kms:CreateAlias")]
    assert writes.simulator == [("PATCH", CLUSTER_PATH)]
    [replica] = keys_in(stack, ADDED)
    assert replica["KeyId"] == key_id and replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert alias_targets(stack, ADDED) == {ALIAS: key_id}
    assert simulator.current_keys(CLUSTER) == {PRIMARY: (primary["Arn"], "ENABLED"), ADDED: (replica["Arn"], "ENABLED")}
    [patch] = [r["body"] for r in simulator.recorded() if r["method"] == "PATCH" and r["path"] == CLUSTER_PATH]
    assert patch["dedicated"]["region_nodes"] == {PRIMARY: 3, ADDED: 3}
    assert patch["dedicated"]["cmek_region_specs"] == [
        {"region": ADDED, "key_spec": {"type": "AWS_KMS", "uri": replica["Arn"], "auth_principal": role["Arn"]}}
    ]
    live = simulator.api("GET", f"clusters/{CLUSTER}")
    assert live["state"] == "CREATED"
    assert {r["name"]: r["node_count"] for r in live["regions"]} == {PRIMARY: 3, ADDED: 3}
    [statement] = role_statements(key_policy(stack, ADDED, key_id), role["Arn"])
    assert set(statement["Action"]) == SEED_ACTIONS

    # The region is the cluster's now: dropping add_regions changes only the activation's
    # new_region_nodes, with no call anywhere.
    del cluster["add_regions"]
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to update": 1, "unchanged": 7}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 7}
    assert mark.since() == Writes([], [], [])

    # Revoke runbook, step 1: cut_key_access removes the role's statement from the key policy of
    # the key and of the replica (PutKeyPolicy each); administration stays. Nothing else changes.
    cluster["aws"]["cut_key_access"] = True
    set_cluster(stack, cluster)
    preview = previewed(stack)
    assert counts(preview) == {"to update": 2, "unchanged": 6}
    assert len(re.findall(r"~ policy\s*:", preview.stdout)) == 2, preview.stdout[-3000:]
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 2, "unchanged": 6}
    writes = mark.since()
    assert sorted(writes.moto) == ["PutKeyPolicy", "PutKeyPolicy"]
    assert sorted(target for _, _, target in writes.standins) == [f"{key_id} ({PRIMARY})", f"{key_id} ({ADDED})"]
    assert writes.simulator == []
    account_root = f"arn:aws:iam::{role['Arn'].split(':')[4]}:root"
    for region in (PRIMARY, ADDED):
        policy = key_policy(stack, region, key_id)
        assert role_statements(policy, role["Arn"]) == []
        assert [s["Principal"] for s in policy["Statement"]] == [{"AWS": account_root}]
    assert simulator.cmek(CLUSTER)["status"] == "ENABLED"

    # Step 2: revoke. Only the activation changes; one PATCH cmek, then REVOKED everywhere.
    cluster["revoke"] = True
    set_cluster(stack, cluster)
    preview = previewed(stack)
    assert counts(preview) == {"to update": 1, "unchanged": 7}
    assert re.search(r"~ revoke\s*:\s*false => true", preview.stdout), preview.stdout[-3000:]
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 7}
    assert mark.since() == Writes([], [], [("PATCH", CMEK_PATH)])
    [patch] = [r for r in simulator.recorded() if r["method"] == "PATCH" and r["path"] == CMEK_PATH]
    assert patch["body"] == {"action": "REVOKE"}
    cmek = simulator.cmek(CLUSTER)
    assert cmek["status"] == "REVOKED"
    assert {region: status for region, (_, status) in simulator.current_keys(CLUSTER).items()} == {
        PRIMARY: "REVOKED", ADDED: "REVOKED"}
    assert stack.outputs()[NAME]["status"] == "REVOKED"

    # Once revoked, an up and a refresh with nothing changed change nothing and call nothing.
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"unchanged": 8}
    assert counts(stack.workspace.run("refresh", "--yes", "--skip-preview").check()) == {"unchanged": 8}
    assert mark.since() == Writes([], [], [])

    # Recover, step 1: cut_key_access back to false gives the role its statement again in both
    # key policies; the activation does not change (revoke stays true), CMEK stays REVOKED.
    cluster["aws"]["cut_key_access"] = False
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to update": 2, "unchanged": 6}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 2, "unchanged": 6}
    writes = mark.since()
    assert sorted(writes.moto) == ["PutKeyPolicy", "PutKeyPolicy"] and writes.simulator == []
    for region in (PRIMARY, ADDED):
        [statement] = role_statements(key_policy(stack, region, key_id), role["Arn"])
        assert set(statement["Action"]) == SEED_ACTIONS
    assert simulator.cmek(CLUSTER)["status"] == "REVOKED"

    # Destroy after the revoke: the key, its replica and the role are retained (not scheduled for
    # deletion), the two aliases go, and the simulator is not called (CMEK stays REVOKED).
    mark = Marks(stack)
    destroyed = stack.destroy().check()
    assert counts(destroyed) == {"deleted": 8}
    assert f"CMEK stays revoked on cluster {CLUSTER} (status REVOKED)" in destroyed.stdout
    assert "CMEK stays enabled" not in destroyed.stdout
    writes = mark.since()
    assert sorted(writes.moto) == ["DeleteAlias", "DeleteAlias"]
    assert writes.simulator == []
    for region in (PRIMARY, ADDED):
        [kept] = keys_in(stack, region)
        assert kept["KeyId"] == key_id and kept["KeyState"] == "Enabled"
        assert alias_targets(stack, region) == {}
    assert [r["Arn"] for r in stack.backends.aws("iam", PRIMARY).list_roles()["Roles"]] == [role["Arn"]]
    assert simulator.cmek(CLUSTER)["status"] == "REVOKED"
