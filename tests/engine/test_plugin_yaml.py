"""``examples/yaml``: ``ClusterCmek`` from a YAML program, through the ``cockroach-cmek`` provider
plugin (``provider/``), on the real CLI with the stand-in AWS provider and the simulator.

The same cluster and configuration as ``test_program_aws.py`` (the Python library through the
stack program): the same children, the same policies, the same Cloud API calls. An invalid
argument refused naming it; a preview of the create (no call anywhere); create (ENABLED); a
no-op ``up`` and ``refresh``; a rotation to key generation 2 (one ``PUT``); ``destroy`` (keys
and role retained, no Cloud API call); the API key, a secret provider setting, in no file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from cmek_component.pulumi_cli.workspace import REPO, Workspace
from cmek_component.rehearsal.standins.harness import StandinBackends, standin_backends
from cmek_component.rehearsal.standins.install import install_standins
from cmek_component.simulator import seeds

from .conftest import CANARY_KEY, RunningSimulator, counts, files_containing
from .test_program_aws import ALIAS, MRK_ARN, PRIMARY, REGIONS, SEED_ACTIONS

EXAMPLE = REPO / "examples" / "yaml"
PROVIDER = REPO / "provider"
CLUSTER = seeds.AWS_MULTI
CHILDREN = {
    ("aws:iam/role:Role", "payments-role"),
    ("aws:kms/key:Key", "payments-key"),
    ("aws:kms/replicaKey:ReplicaKey", "payments-replica-us-east-1"),
    ("aws:kms/replicaKey:ReplicaKey", "payments-replica-us-west-2"),
    ("aws:kms/alias:Alias", "payments-alias-eu-west-1"),
    ("aws:kms/alias:Alias", "payments-alias-us-east-1"),
    ("aws:kms/alias:Alias", "payments-alias-us-west-2"),
    ("cockroach-cmek:index:CmekActivation", "payments-activation"),
}
"""The component's children: those the Python library declares for this cluster (role, primary
key, two replicas, three aliases, the activation), the activation as the plugin's custom resource."""


def yaml_project(tmp_path: Path) -> Path:
    """A copy of ``examples/yaml`` whose ``packages:`` names this checkout's ``provider/``."""
    project = tmp_path / "program"
    project.mkdir()
    document = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert document["packages"] == {"cockroach-cmek": "../../provider"}
    document["packages"] = {"cockroach-cmek": str(PROVIDER)}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return project


def children(workspace: Workspace) -> set[tuple[str, str]]:
    """(type, name) of every resource under the component, from ``pulumi stack export``."""
    state = json.loads(workspace.run("stack", "export").check().stdout)
    found = set()
    for resource in state["deployment"]["resources"]:
        if resource.get("parent", "").endswith("::payments"):
            found.add((resource["type"], resource["urn"].rsplit("::", 1)[-1]))
    return found


def keys_in(backends: StandinBackends, region: str) -> list[dict[str, Any]]:
    kms = backends.aws("kms", region)
    return [kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"] for key in kms.list_keys()["Keys"]]


def test_the_yaml_example_creates_rotates_and_destroys_like_the_python_library(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    with standin_backends(tmp_path / "standins") as backends:
        workspace = Workspace(yaml_project(tmp_path), tmp_path / "state", stack="dev", cli=pulumi_cli,
                              env=backends.env())
        install_standins(workspace.home)
        workspace.init_stack(config={"cockroach-cmek:apiUrl": simulator.url, "aws:region": "us-east-1"},
                             secrets={"cockroach-cmek:apiKey": CANARY_KEY})

        # An invalid argument: refused before anything is declared, naming field, rule and value.
        workspace.run("config", "set", "clusterId", "B23EAEE4-E12C-4288-95DB-3E81EE22D2EA").check()
        refused = workspace.run("preview")
        assert refused.returncode != 0
        assert "clusterId: expected" in refused.output and "B23EAEE4-E12C-4288-95DB-3E81EE22D2EA" in refused.output
        assert "Traceback" not in refused.output
        assert simulator.mutating() == [] and backends.mutating_calls() == []
        workspace.run("config", "set", "clusterId", CLUSTER).check()
        planned = workspace.run("preview").check()
        assert counts(planned) == {"to create": 10}
        assert simulator.mutating() == [] and backends.mutating_calls() == []

        # Create: the stack, the component and its 8 children, as with the Python library.
        created = workspace.run("up", "--yes", "--skip-preview").check()
        assert counts(created) == {"created": 10}, created.stdout[-3000:]
        assert children(workspace) == CHILDREN
        [role] = backends.aws("iam", "us-east-1").list_roles()["Roles"]
        assert re.fullmatch(r"payments-role-[0-9a-f]{7}", role["RoleName"])
        trust = role["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": seeds.ORGANIZATION_ID}}
        [primary] = keys_in(backends, PRIMARY)
        assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
        for region in REGIONS:
            [key] = keys_in(backends, region)
            assert key["KeyId"] == primary["KeyId"]
            policy = json.loads(backends.aws("kms", region).get_key_policy(KeyId=key["KeyId"],
                                                                           PolicyName="default")["Policy"])
            [usage] = [s for s in policy["Statement"] if ":role/" in json.dumps(s.get("Principal"))]
            assert usage["Principal"] == {"AWS": role["Arn"]} and set(usage["Action"]) == SEED_ACTIONS
        assert simulator.cmek(CLUSTER)["status"] == "ENABLED"
        assert [method for method, _ in simulator.mutating()] == ["POST"]
        outputs = json.loads(workspace.run("stack", "output", "--json").check().stdout)
        assert outputs["status"] == "ENABLED"
        assert outputs["regionStatuses"] == dict.fromkeys(REGIONS, "ENABLED")
        assert outputs["roleArn"] == role["Arn"]
        assert all(MRK_ARN.match(uri) for uri in outputs["keyUris"].values())
        assert json.loads(outputs["cmekConfigJson"])["region_specs"][0]["key_spec"]["auth_principal"] == role["Arn"]

        # Nothing changed: nothing to do, no call anywhere.
        before = (len(backends.mutating_calls()), len(simulator.mutating()))
        unchanged = workspace.run("up", "--yes", "--skip-preview").check()
        assert counts(unchanged) == {"unchanged": 10}
        assert (len(backends.mutating_calls()), len(simulator.mutating())) == before
        refreshed = workspace.run("refresh", "--yes", "--skip-preview").check()
        assert counts(refreshed) == {"unchanged": 10}
        assert (len(backends.mutating_calls()), len(simulator.mutating())) == before
        assert counts(workspace.run("preview").check()) == {"unchanged": 10}  # refresh kept the inputs

        # Rotation to key generation 2: new keys and aliases, one PUT, the old keys kept.
        workspace.run("config", "set", "keyGeneration", "2").check()
        preview = workspace.run("preview", "--diff").check()
        assert counts(preview) == {"to create": 6, "to update": 1, "unchanged": 9}
        assert (len(backends.mutating_calls()), len(simulator.mutating())) == before
        rotated = workspace.run("up", "--yes", "--skip-preview").check()
        assert counts(rotated) == {"created": 6, "updated": 1, "unchanged": 9}
        primaries = [k for k in keys_in(backends, PRIMARY)
                     if k["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"]
        new = next(k for k in primaries if k["KeyId"] != primary["KeyId"])
        for region in REGIONS:
            assert alias_targets_of(backends, region) == {ALIAS: primary["KeyId"], f"{ALIAS}-g2": new["KeyId"]}
            assert simulator.current_keys(CLUSTER)[region][0].endswith(f":key/{new['KeyId']}")
        assert [(m, p) for m, p in simulator.mutating() if m != "POST"] == [("PUT", f"/api/v1/clusters/{CLUSTER}/cmek")]

        # Destroy: keys and role retained, aliases gone, CMEK left ENABLED, no Cloud API call.
        calls = len(simulator.mutating())
        destroyed = workspace.run("destroy", "--yes", "--skip-preview").check()
        assert counts(destroyed) == {"deleted": 16}, destroyed.stdout[-3000:]
        assert "CMEK stays enabled on cluster" in destroyed.stdout
        for region in REGIONS:
            remaining = keys_in(backends, region)
            assert len(remaining) == 2 and {k["KeyState"] for k in remaining} == {"Enabled"}
            assert alias_targets_of(backends, region) == {}
        assert [r["Arn"] for r in backends.aws("iam", "us-east-1").list_roles()["Roles"]] == [role["Arn"]]
        assert not any("ScheduleKeyDeletion" in op or "DeleteRole" in op for op in backends.moto_writes())
        assert len(simulator.mutating()) == calls
        assert simulator.cmek(CLUSTER)["status"] == "ENABLED"

    # The API key, a secret provider setting: in no file of the test (state, backups, logs, plugins).
    for result in workspace.transcript:
        assert CANARY_KEY not in result.stdout + result.stderr
    assert files_containing(tmp_path, CANARY_KEY) == []


def alias_targets_of(backends: StandinBackends, region: str) -> dict[str, str]:
    """The customer-managed aliases in ``region`` -> key id (as ``test_program_aws.alias_targets``)."""
    aliases = backends.aws("kms", region).list_aliases()["Aliases"]
    return {a["AliasName"]: a["TargetKeyId"] for a in aliases
            if "TargetKeyId" in a and not a["AliasName"].startswith("alias/aws/")}


def test_a_stack_without_an_api_key_is_refused_naming_the_setting(
    tmp_path: Path, pulumi_cli: Path, monkeypatch: Any
) -> None:
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    with standin_backends(tmp_path / "standins") as backends:
        workspace = Workspace(yaml_project(tmp_path), tmp_path / "state", stack="dev", cli=pulumi_cli,
                              env=backends.env())
        install_standins(workspace.home)
        workspace.init_stack(config={"aws:region": "us-east-1", "clusterId": CLUSTER})
        refused = workspace.run("preview")
        assert refused.returncode != 0
        assert "cockroach-cmek:apiKey" in refused.output and "COCKROACH_API_KEY" in refused.output
        assert f"clusterId: could not read cluster '{CLUSTER}'" in refused.output
        assert "Traceback" not in refused.output and "AttributeError" not in refused.output
        assert backends.mutating_calls() == []
