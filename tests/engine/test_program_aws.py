"""The stack program (``__main__.py``) on AWS through the real CLI: the stand-in AWS provider on
moto in server mode, the simulator for the Cloud API, ``stacks/Pulumi.local.yaml``'s config.

One stack's life, as a user lives it: create, a no-op ``up`` and ``refresh``, a preview of a
rotation, the rotation, ``destroy``. Each step asserts the CLI's summary, what moto holds and the mutating
calls of the stand-ins, moto and the simulator.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cmek_component.rehearsal.standins.harness import standin_backends
from cmek_component.simulator import seeds

from .conftest import ProgramStack, RunningSimulator, counts, local_stack_config, make_program_stack

CLUSTER = seeds.AWS_MULTI
REGIONS = ("eu-west-1", "us-east-1", "us-west-2")
PRIMARY = "eu-west-1"
ALIAS = f"alias/crdb-cmek-{CLUSTER}"
SEED_ACTIONS = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}
"""The five KMS actions of the seed's key policy for CockroachDB Cloud's role."""
MRK_ARN = re.compile(r"^arn:aws:kms:(?P<region>[a-z0-9-]+):\d{12}:key/(?P<id>mrk-[0-9a-f]{32})$")


def roles(stack: ProgramStack) -> list[dict[str, Any]]:
    return list(stack.backends.aws("iam", "us-east-1").list_roles()["Roles"])


def keys_in(stack: ProgramStack, region: str) -> list[dict[str, Any]]:
    """Every key moto holds in ``region``, described."""
    kms = stack.backends.aws("kms", region)
    return [kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"] for key in kms.list_keys()["Keys"]]


def alias_targets(stack: ProgramStack, region: str) -> dict[str, str]:
    """The customer-managed aliases in ``region`` (not AWS's own ``alias/aws/*``) -> key id."""
    aliases = stack.backends.aws("kms", region).list_aliases()["Aliases"]
    return {a["AliasName"]: a["TargetKeyId"] for a in aliases
            if "TargetKeyId" in a and not a["AliasName"].startswith("alias/aws/")}


def usage_statements(stack: ProgramStack, region: str, key_id: str) -> list[dict[str, Any]]:
    """The key policy's statements that name a role (not the account root) as moto stores them."""
    policy = json.loads(stack.backends.aws("kms", region).get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    return [s for s in policy["Statement"] if ":role/" in json.dumps(s.get("Principal"))]


def test_an_aws_stack_is_created_left_alone_rotated_and_destroyed_with_its_keys_kept(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    state = tmp_path / "standins"
    with standin_backends(state) as backends:
        stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, local_stack_config())

        # Create: the role, a multi-region key in the primary region, two replicas, three aliases
        # and the activation (with the stack and the component: 10).
        created = stack.up().check()
        assert created.summary() == {"created": 10}
        [role] = roles(stack)
        assert re.fullmatch(r"cluster-b23eaee4-role-[0-9a-f]{7}", role["RoleName"])
        trust = role["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": seeds.ORGANIZATION_ID}}
        keys = {region: keys_in(stack, region) for region in REGIONS}
        assert all(len(found) == 1 for found in keys.values()), keys
        primary = keys[PRIMARY][0]
        assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
        assert re.fullmatch(r"mrk-[0-9a-f]{32}", primary["KeyId"])
        for region in REGIONS:
            [key] = keys[region]
            assert key["KeyId"] == primary["KeyId"] and key["KeyState"] == "Enabled"
            assert alias_targets(stack, region) == {ALIAS: primary["KeyId"]}
            [statement] = usage_statements(stack, region, key["KeyId"])
            assert statement["Principal"] == {"AWS": role["Arn"]}
            assert set(statement["Action"]) == SEED_ACTIONS and len(statement["Action"]) == 5
        cmek = simulator.cmek(CLUSTER)
        assert cmek["status"] == "ENABLED"
        assert simulator.current_keys(CLUSTER) == {
            region: (f"arn:aws:kms:{region}:{role['Arn'].split(':')[4]}:key/{primary['KeyId']}", "ENABLED")
            for region in REGIONS
        }
        outputs = stack.outputs()["cluster-b23eaee4"]
        assert outputs["role_arn"] == role["Arn"] and outputs["status"] == "ENABLED"
        assert all(MRK_ARN.match(arn) for arn in outputs["key_arns"].values())

    # The harness stops and starts again (a new moto process): moto comes back with the same keys.
    with standin_backends(state) as backends:
        stack.backends = backends
        stack.workspace.env.update(backends.env())
        assert [k["KeyId"] for k in keys_in(stack, "us-west-2")] == [primary["KeyId"]]
        assert [r["Arn"] for r in roles(stack)] == [role["Arn"]]

        # A second up with nothing changed, and a refresh: no change, no mutating call anywhere.
        before = stack.writes()
        unchanged = stack.up().check()
        assert unchanged.summary() == {"unchanged": 10}
        assert stack.writes() == before
        refreshed = stack.workspace.run("refresh", "--yes", "--skip-preview").check()
        assert counts(refreshed) == {"unchanged": 10}
        assert stack.writes() == before

        # Rotation to key generation 2: the preview shows it and changes nothing anywhere.
        config = stack.config()
        config["cmek:clusters"][0]["key_generation"] = 2
        stack.edit_config(config)
        preview = stack.preview("--diff").check()
        assert counts(preview) == {"to create": 6, "to update": 1, "unchanged": 9}
        assert f"{ALIAS}-g2" in preview.stdout
        assert stack.writes() == before

        rotated = stack.up().check()
        assert counts(rotated) == {"created": 6, "updated": 1, "unchanged": 9}
        primaries = [k for k in keys_in(stack, PRIMARY) if k["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"]
        assert len(primaries) == 2
        new = next(k for k in primaries if k["KeyId"] != primary["KeyId"])
        for region in REGIONS:
            assert alias_targets(stack, region) == {ALIAS: primary["KeyId"], f"{ALIAS}-g2": new["KeyId"]}
            assert simulator.current_keys(CLUSTER)[region][0].endswith(f":key/{new['KeyId']}")
        puts = [path for method, path in simulator.mutating() if method == "PUT"]
        assert puts == [f"/api/v1/clusters/{CLUSTER}/cmek"]

        # Destroy: the keys and the role are retained (still there, not scheduled for deletion),
        # the aliases go, and CMEK is left as it is (the API cannot disable it).
        calls_before = len(simulator.mutating())
        destroyed = stack.destroy().check()
        assert counts(destroyed) == {"deleted": 16}, destroyed.stdout[-3000:]
        for region in REGIONS:
            remaining = keys_in(stack, region)
            assert len(remaining) == 2 and {k["KeyState"] for k in remaining} == {"Enabled"}
            assert alias_targets(stack, region) == {}
        assert [r["Arn"] for r in roles(stack)] == [role["Arn"]]
        assert not any("ScheduleKeyDeletion" in op or "DeleteRole" in op for op in backends.moto_writes())
        assert len(simulator.mutating()) == calls_before
        assert simulator.cmek(CLUSTER)["status"] == "ENABLED"
