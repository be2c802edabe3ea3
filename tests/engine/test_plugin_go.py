"""``examples/go``: ``ClusterCmek`` from a Go program, through the ``cockroach-cmek`` provider
plugin (``provider/``) and the Go SDK ``pulumi package add`` generates, on the real CLI with the
stand-in AWS provider and the simulator.

The CLI's Go language host is the project's own (``tools/pulumi-language-go``, built beside the
CLI by ``scripts/pulumi-cli.sh``): it generates and links the SDK (``pulumi package add``) and
builds and runs the program. The same cluster and configuration as ``test_plugin_yaml.py`` and
``test_program_aws.py``, the same outcome: create (ENABLED, the same children, the same
policies, one ``POST``); a rotation to key generation 2 (one ``PUT``); ``destroy`` (keys and
role retained, CMEK left ENABLED, no Cloud API call); the API key in no file and no output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2_grpc

from cmek_component.plugin.names import go_name
from cmek_component.plugin.schema import COMPONENT_TOKEN, schema
from cmek_component.pulumi_cli.workspace import REPO, Workspace
from cmek_component.rehearsal.standins.harness import standin_backends
from cmek_component.rehearsal.standins.install import install_standins
from cmek_component.simulator import seeds

from .conftest import CANARY_KEY, RunningSimulator, counts, files_containing
from .test_plugin_yaml import CHILDREN, alias_targets_of, children, keys_in
from .test_program_aws import ALIAS, MRK_ARN, PRIMARY, REGIONS, SEED_ACTIONS

EXAMPLE = REPO / "examples" / "go"
PROVIDER = REPO / "provider"
CLUSTER = seeds.AWS_MULTI
SOURCES = ("Pulumi.yaml", "main.go", "go.mod", "go.sum")
"""The example's committed files (its ``sdks/`` is generated, and git-ignored)."""
SDK_PACKAGE = Path("sdks") / "cockroach-cmek" / "cockroachcmek"
SDK_MODULE = "example.com/pulumi-cockroach-cmek/sdk/go"


def go_mod(path: Path) -> dict[str, Any]:
    """What a go.mod says (module, go version, requires, replaces), from ``go mod edit -json``."""
    done = subprocess.run(["go", "mod", "edit", "-json", str(path)], capture_output=True, text=True, check=True)
    said = json.loads(done.stdout)
    return {"Module": said["Module"], "Go": said["Go"], "Replace": said.get("Replace"),
            "Require": sorted(said.get("Require") or [], key=lambda r: r["Path"])}  # tidy's grouping aside


def go_project(tmp_path: Path) -> Path:
    """A copy of ``examples/go`` whose ``packages:`` names this checkout's ``provider/``."""
    project = tmp_path / "program"
    project.mkdir()
    for name in SOURCES:
        shutil.copy(EXAMPLE / name, project / name)
    # go.mod as before `pulumi package add` links the SDK (the committed one is as after it).
    lines = (EXAMPLE / "go.mod").read_text().splitlines(keepends=True)
    (project / "go.mod").write_text("".join(line for line in lines if SDK_MODULE not in line))
    document = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    assert document["runtime"] == "go"
    assert document["packages"] == {"cockroach-cmek": "../../provider"}
    document["packages"] = {"cockroach-cmek": str(PROVIDER)}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return project


def test_the_go_example_creates_rotates_and_destroys_like_the_python_library(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    assert (pulumi_cli / "pulumi-language-go").is_file(), "scripts/pulumi-cli.sh builds the Go host"
    with standin_backends(tmp_path / "standins") as backends:
        project = go_project(tmp_path)
        workspace = Workspace(project, tmp_path / "state", stack="dev", cli=pulumi_cli, env=backends.env())
        install_standins(workspace.home)

        # The README's first step: generate the Go SDK from the plugin's schema and link it
        # (a replace and a require in go.mod, then go mod tidy): go.mod and go.sum come out as
        # committed, so in a fresh clone the command leaves them as they are.
        assert not (project / "sdks").exists()
        assert SDK_MODULE not in (project / "go.mod").read_text()
        added = workspace.run("package", "add", str(PROVIDER)).check()
        assert f"{SDK_MODULE}/cockroachcmek" in added.output
        source = (project / SDK_PACKAGE / "clusterCmek.go").read_text()
        assert "func NewClusterCmek(" in source
        # docs/schema.md names each input's Go field as the generated SDK does.
        args = source.split("type ClusterCmekArgs struct", 1)[1].split("\n}", 1)[0]
        fields = {line.split()[0] for line in args.splitlines() if re.match(r"\s+[A-Z]\w* ", line)}
        assert fields == {go_name(name) for name in schema()["resources"][COMPONENT_TOKEN]["inputProperties"]}
        plugin = json.loads((project / SDK_PACKAGE / "pulumi-plugin.json").read_text())
        assert plugin == {"resource": True, "name": "cockroach-cmek", "version": "0.1.0"}
        assert go_mod(project / "go.mod") == go_mod(EXAMPLE / "go.mod")
        assert go_mod(project / "go.mod")["Replace"] == [
            {"Old": {"Path": SDK_MODULE}, "New": {"Path": "./sdks/cockroach-cmek"}}]
        assert (project / "go.sum").read_text() == (EXAMPLE / "go.sum").read_text()
        assert yaml.safe_load((project / "Pulumi.yaml").read_text())["packages"] == {"cockroach-cmek": str(PROVIDER)}
        assert simulator.mutating() == [] and backends.mutating_calls() == []

        workspace.init_stack(config={"cockroach-cmek:apiUrl": simulator.url, "aws:region": "us-east-1"},
                             secrets={"cockroach-cmek:apiKey": CANARY_KEY})

        # An invalid argument: refused before anything is declared, naming field, rule and value;
        # the Go program's failure is reported once, with no Go panic or Python traceback.
        workspace.run("config", "set", "clusterId", "B23EAEE4-E12C-4288-95DB-3E81EE22D2EA").check()
        refused = workspace.run("preview")
        assert refused.returncode != 0
        assert "clusterId: expected" in refused.output and "B23EAEE4-E12C-4288-95DB-3E81EE22D2EA" in refused.output
        assert "Traceback" not in refused.output and "panic:" not in refused.output
        assert simulator.mutating() == [] and backends.mutating_calls() == []
        workspace.run("config", "set", "clusterId", CLUSTER).check()
        planned = workspace.run("preview").check()
        assert counts(planned) == {"to create": 10}
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
        assert sorted(outputs["keyUris"]) == sorted(REGIONS)
        assert all(MRK_ARN.match(uri) for uri in outputs["keyUris"].values())
        assert json.loads(outputs["cmekConfigJson"])["region_specs"][0]["key_spec"]["auth_principal"] == role["Arn"]

        # Nothing changed: nothing to do, no call anywhere.
        before = (len(backends.mutating_calls()), len(simulator.mutating()))
        assert counts(workspace.run("up", "--yes", "--skip-preview").check()) == {"unchanged": 10}
        assert (len(backends.mutating_calls()), len(simulator.mutating())) == before

        # Rotation to key generation 2: new keys and aliases, one PUT, the old keys kept.
        workspace.run("config", "set", "keyGeneration", "2").check()
        rotated = workspace.run("up", "--yes", "--skip-preview").check()
        assert counts(rotated) == {"created": 6, "updated": 1, "unchanged": 9}, rotated.stdout[-3000:]
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

    # The API key, a secret provider setting: in no output and no file of the test (state,
    # backups, logs, plugins, the generated SDK).
    for result in workspace.transcript:
        assert CANARY_KEY not in result.stdout + result.stderr
    assert files_containing(tmp_path, CANARY_KEY) == []


def test_the_go_host_serves_and_stops_at_once_on_sigint(pulumi_cli: Path) -> None:
    """The CLI reads the port from the host's first line, and closes it with SIGINT to its
    process group, killing it 5 s later: the host answers, then exits at once, cleanly."""
    host = subprocess.Popen([str(pulumi_cli / "pulumi-language-go"), "127.0.0.1:1"],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert host.stdout is not None
        port = int(host.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = language_pb2_grpc.LanguageRuntimeStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=10)
        assert info.version == "v" + (REPO / "pulumi-cli.version").read_text().strip()  # as the CLI
        started = time.monotonic()
        os.killpg(host.pid, signal.SIGINT)
        assert host.wait(timeout=5) == 0
        assert time.monotonic() - started < 2
    finally:
        if host.poll() is None:
            host.kill()
