"""``pulumi import`` of the plugin's ``cockroach-cmek:index:CmekActivation`` by cluster id, on
the real CLI: the dynamic ``CmekActivation`` cannot be imported (the SDK's dynamic host fails,
pulumi/pulumi#16175, see ``tests/engine/test_activation_operations.py``); the plugin's custom resource reads
the live configuration by id. No mutating call; the imported state carries the live keys; the
code the CLI writes, declared in the program, then previews with no change; a cluster without
CMEK is refused naming it; the API key in no file.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from cmek_component.pulumi_cli.workspace import REPO, Workspace
from cmek_component.simulator import seeds

from .conftest import CANARY_KEY, RunningSimulator, counts, files_containing

PROVIDER = REPO / "provider"
TOKEN = "cockroach-cmek:index:CmekActivation"
CLUSTER = seeds.AWS_SINGLE


def project(tmp_path: Path) -> Path:
    """A YAML program naming this checkout's plugin, with no resource yet."""
    directory = tmp_path / "program"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "cmek-import", "runtime": "yaml", "packages": {"cockroach-cmek": str(PROVIDER)}, "resources": {},
    }, sort_keys=False))
    return directory


def test_an_enabled_cluster_is_imported_by_its_id_without_a_mutating_call(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    specs = seeds.region_specs(CLUSTER)
    simulator.api("POST", f"clusters/{CLUSTER}/cmek", {"region_specs": specs})
    live = {spec["region"]: spec["key_spec"]["uri"] for spec in specs}
    before = simulator.mutating()
    workspace = Workspace(project(tmp_path), tmp_path / "state", stack="dev", cli=pulumi_cli)
    workspace.init_stack(config={"cockroach-cmek:apiUrl": simulator.url}, secrets={"cockroach-cmek:apiKey": CANARY_KEY})

    missing = workspace.run("import", TOKEN, "other", seeds.AWS_MULTI, "--yes")
    assert missing.returncode != 0
    assert seeds.AWS_MULTI in missing.output and "Traceback" not in missing.output

    imported = workspace.run("import", TOKEN, "payments-activation", CLUSTER, "--yes", "--out",
                             str(tmp_path / "imported.yaml")).check()
    assert counts(imported) == {"imported": 1, "created": 1}, imported.stdout[-2000:]
    assert simulator.mutating() == before
    state = json.loads(workspace.run("stack", "export").check().stdout)
    [resource] = [r for r in state["deployment"]["resources"] if r["type"] == TOKEN]
    assert resource["id"] == CLUSTER
    outputs = resource["outputs"]
    assert outputs["status"] == "ENABLED" and outputs["clusterId"] == CLUSTER
    assert {s["region"]: s["key_spec"]["uri"] for s in outputs["regionSpecs"]} == live
    assert outputs["revoke"] is False

    # The code the CLI wrote, declared in the program: nothing to change, no call.
    code = yaml.safe_load((tmp_path / "imported.yaml").read_text())
    document = yaml.safe_load((workspace.project_dir / "Pulumi.yaml").read_text())
    document["resources"] = code["resources"]
    (workspace.project_dir / "Pulumi.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert code["resources"]["payments-activation"]["properties"]["clusterId"] == CLUSTER
    preview = workspace.run("preview", "--diff").check()
    assert counts(preview) == {"unchanged": 2}, preview.stdout[-3000:]
    assert simulator.mutating() == before
    assert files_containing(tmp_path, CANARY_KEY) == []
    assert CANARY_KEY not in imported.output + preview.output + missing.output
