"""``examples/typescript``: ``ClusterCmek`` from a TypeScript program, through the generated
TypeScript SDK of the ``cockroach-cmek`` provider plugin (``provider/``), on the real CLI with
this project's Node.js language host (``tools/pulumi-language-nodejs``), the stand-in AWS
provider and the simulator.

As a user from a fresh clone: ``pulumi package add`` of the plugin's directory (the SDK generated
into ``sdks/cockroach-cmek``, linked into package.json, npm installing the committed lock and
compiling the SDK), then the YAML example's lifecycle, asserting the same outcome as
``test_plugin_yaml.py`` (and so as ``test_program_aws.py`` for the Python library): an invalid
argument refused naming it; create (10 resources, CMEK ENABLED, one POST); a rotation to key
generation 2 (one PUT); destroy (keys and role retained, CMEK untouched, no Cloud API call); the
canary API key in no file and no output.

npm reads its cache (``~/.npm``, or ``npm_config_cache``) with ``prefer-offline``: a warm run
installs without asking the registry for metadata it already has.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

from cmek_component.pulumi_cli.workspace import REPO, Workspace
from cmek_component.rehearsal.standins.harness import standin_backends
from cmek_component.rehearsal.standins.install import install_standins
from cmek_component.simulator import seeds

from .conftest import CANARY_KEY, RunningSimulator, counts, files_containing
from .test_plugin_yaml import CHILDREN, alias_targets_of, children, keys_in
from .test_program_aws import ALIAS, MRK_ARN, PRIMARY, REGIONS, SEED_ACTIONS

EXAMPLE = REPO / "examples" / "typescript"
PROVIDER = REPO / "provider"
CLUSTER = seeds.AWS_MULTI
COMMITTED = ("Pulumi.yaml", "index.ts", "package.json", "package-lock.json", "tsconfig.json")
"""The example's files in git; ``sdks/``, ``node_modules/`` and ``bin/`` are made by the commands."""
NPM_ENV = {"npm_config_prefer_offline": "true", "npm_config_update_notifier": "false",
           "npm_config_audit": "false", "npm_config_fund": "false"}


def typescript_project(tmp_path: Path) -> Path:
    """A copy of ``examples/typescript``'s committed files whose ``packages:`` names this checkout's
    ``provider/`` (``pulumi package add`` is then given the same directory)."""
    project = tmp_path / "program"
    project.mkdir()
    for name in COMMITTED:
        shutil.copy2(EXAMPLE / name, project / name)
    document = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert document["packages"] == {"cockroach-cmek": "../../provider"}
    document["packages"] = {"cockroach-cmek": str(PROVIDER)}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return project


def test_the_typescript_example_creates_rotates_and_destroys_like_the_yaml_one(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    assert (pulumi_cli / "pulumi-language-nodejs").is_file(), (
        f"{pulumi_cli} has no pulumi-language-nodejs: run `bash scripts/pulumi-cli.sh` (it builds "
        "tools/pulumi-language-nodejs) and point PULUMI_CLI_DIR at the directory it prints")
    with standin_backends(tmp_path / "standins") as backends:
        workspace = Workspace(typescript_project(tmp_path), tmp_path / "state", stack="dev", cli=pulumi_cli,
                              env={**backends.env(), **NPM_ENV})
        install_standins(workspace.home)

        # `pulumi package add <provider dir>`: the TypeScript SDK generated, linked and compiled;
        # package.json and the lock are then exactly the committed ones (npm installed what they pin).
        added = workspace.run("package", "add", str(PROVIDER)).check()
        assert "Successfully generated an SDK for the cockroach-cmek package" in added.stdout
        project = workspace.project_dir
        manifest = json.loads((project / "package.json").read_text())
        assert manifest["dependencies"]["@pulumi/cockroach-cmek"] == "file:sdks/cockroach-cmek"
        for name in ("package.json", "package-lock.json"):
            assert (project / name).read_text() == (EXAMPLE / name).read_text(), name
        assert yaml.safe_load((project / "Pulumi.yaml").read_text())["packages"] == {"cockroach-cmek": str(PROVIDER)}
        sdk = project / "sdks" / "cockroach-cmek"
        assert "export class ClusterCmek extends pulumi.ComponentResource" in (sdk / "clusterCmek.ts").read_text()
        assert "clusterId: pulumi.Input<string>;" in (sdk / "clusterCmek.ts").read_text()
        assert (sdk / "bin" / "index.js").is_file()  # compiled by its postinstall (tsc) on npm install
        assert (project / "node_modules" / "@pulumi" / "cockroach-cmek").resolve() == sdk.resolve()

        workspace.init_stack(config={"cockroach-cmek:apiUrl": simulator.url, "aws:region": "us-east-1"},
                             secrets={"cockroach-cmek:apiKey": CANARY_KEY})

        # An invalid argument: refused by the component, naming field, rule and value.
        workspace.run("config", "set", "clusterId", "B23EAEE4-E12C-4288-95DB-3E81EE22D2EA").check()
        refused = workspace.run("preview")
        assert refused.returncode != 0
        assert "clusterId: expected" in refused.output and "B23EAEE4-E12C-4288-95DB-3E81EE22D2EA" in refused.output
        assert "Traceback" not in refused.output
        assert simulator.mutating() == [] and backends.mutating_calls() == []
        workspace.run("config", "set", "clusterId", CLUSTER).check()
        assert counts(workspace.run("preview").check()) == {"to create": 10}
        assert simulator.mutating() == [] and backends.mutating_calls() == []

        # Create: the stack, the component and its 8 children, as with YAML and the Python library.
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

        # Rotation to key generation 2: new keys and aliases, one PUT, the old keys kept.
        before = (len(backends.mutating_calls()), len(simulator.mutating()))
        workspace.run("config", "set", "keyGeneration", "2").check()
        assert counts(workspace.run("preview").check()) == {"to create": 6, "to update": 1, "unchanged": 9}
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

    # The API key, a secret provider setting: in no file of the test (state, backups, logs, the
    # generated SDK, node_modules) and in no CLI output.
    for result in workspace.transcript:
        assert CANARY_KEY not in result.stdout + result.stderr
    assert files_containing(tmp_path, CANARY_KEY) == []
