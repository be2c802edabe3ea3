"""``cmek rehearse`` on the real CLI: the steps of ``scripts/rehearse.sh`` a user notices, shortened.

Each step is a ``cmek rehearse`` run (its own moto server, simulator and CLI processes; the state
dir carries everything between them) with short simulated operations. Every step that applies
runs a preview first, and every preview must have made no mutating call on a stand-in, moto or
the simulator (the report counts them per command). The API key is ``CANARY_KEY``: it may appear
in no output, report or file of the state dir.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from cmek_component import cli
from cmek_component.pulumi_cli.workspace import CliResult
from cmek_component.rehearsal import runner
from cmek_component.simulator import seeds

from .conftest import CANARY_KEY, LOCAL_STACK_FILE, files_containing

CLUSTER = seeds.AWS_MULTI
CMEK = f"/api/v1/clusters/{CLUSTER}/cmek"
FAST = ["--enable-seconds", "1", "--rotate-seconds", "1", "--revoke-seconds", "1", "--add-region-seconds", "1"]
REVOKED = ["--set", "clusters[0].aws.cut_key_access=true", "--set", "clusters[0].revoke=true"]


@dataclass
class Step:
    code: int
    output: str
    report: dict[str, Any]

    def summary(self, verb: str) -> dict[str, int]:
        """The ``Resources:`` counts of the step's ``pulumi <verb>``."""
        [command] = [c for c in self.report["commands"] if c["args"][0] == verb and "--preview-only" not in c["args"]]
        return dict(command["summary"])

    def calls(self, cloud: str | None = None) -> list[str]:
        return [f"{c['operation']} {c['target']}".strip() for c in self.report["calls"] if cloud in (None, c["cloud"])]

    def previews_made_no_call(self) -> bool:
        previews = [c for c in self.report["commands"] if c["args"][0] == "preview" or "--preview-only" in c["args"]]
        return bool(previews) and all(c["mutating_calls"] == 0 and c["returncode"] == 0 for c in previews)


@pytest.fixture
def run(tmp_path: Path, pulumi_cli: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("PULUMI_CLI_DIR", str(pulumi_cli))
    monkeypatch.setenv("CMEK_REHEARSAL_API_KEY", CANARY_KEY)
    counter = iter(range(100))

    def rehearse(*flags: str, stack: Path = LOCAL_STACK_FILE) -> Step:
        report = tmp_path / f"report-{next(counter)}.json"
        code = cli.main(["rehearse", str(stack), "--state-dir", str(tmp_path / "state"),
                         "--report", str(report), *FAST, *flags])
        captured = capsys.readouterr()
        output = captured.out + captured.err
        assert CANARY_KEY not in output
        return Step(code, output, json.loads(report.read_text()) if report.exists() else {})

    return rehearse


def test_a_cluster_is_created_left_alone_refused_previewed_revoked_and_destroyed_on_the_real_cli(
    run: Any, tmp_path: Path
) -> None:
    stack_before = LOCAL_STACK_FILE.read_bytes()

    create = run("--reset", "--show-policies")
    assert create.code == 0, create.output
    assert create.previews_made_no_call()
    assert create.summary("up") == {"created": 10}
    # The CLI's own output, streamed: the activation's line of the update.
    assert re.search(r"\+ +pulumi-python:dynamic/cockroach:CmekActivation cluster-b23eaee4-activation created",
                     create.output)
    assert f"POST {CMEK}" in create.calls("cockroach")
    assert sum(call.startswith("kms:CreateKey") for call in create.calls("aws")) == 1
    assert sum(call.startswith("kms:ReplicateKey") for call in create.calls("aws")) == 2
    assert create.report["cmek"][CLUSTER]["status"] == "ENABLED"
    assert "(as stored in moto)" in create.output and "sts:ExternalId" in create.output
    assert f"CMEK status of cluster {CLUSTER}" in create.output and "ENABLED" in create.output

    again = run("--refresh")
    assert again.code == 0, again.output
    assert again.previews_made_no_call()
    assert again.summary("up") == {"unchanged": 10}
    assert again.summary("refresh") == {"unchanged": 10}
    assert again.report["calls"] == [] and again.report["moto_writes"] == []
    assert "Mutating calls in this step (stand-ins and simulator): none" in again.output

    refused = run(*REVOKED, "--set", "clusters[0].key_generation=2")
    assert refused.code == 1
    assert "cmek:clusters[0].key_generation" in refused.output and "revoke" in refused.output
    assert [c["args"][0] for c in refused.report["commands"]] == ["preview"]  # the update never ran
    assert refused.report["calls"] == []

    preview = run(*REVOKED, "--preview")
    assert preview.code == 0, preview.output
    assert [c["args"][0] for c in preview.report["commands"]] == ["preview"]
    assert preview.previews_made_no_call()
    assert preview.report["calls"] == [] and preview.report["moto_writes"] == []
    assert preview.report["cmek"][CLUSTER]["status"] == "ENABLED"

    revoke = run(*REVOKED)
    assert revoke.code == 0, revoke.output
    assert revoke.previews_made_no_call()
    cockroach = [c for c in revoke.report["calls"] if c["cloud"] == "cockroach"]
    assert [(c["operation"], c["body"]) for c in cockroach] == [(f"PATCH {CMEK}", {"action": "REVOKE"})]
    order = revoke.calls()
    assert max(i for i, c in enumerate(order) if c.startswith("kms:PutKeyPolicy")) < order.index(f"PATCH {CMEK}")
    assert revoke.report["cmek"][CLUSTER]["status"] == "REVOKED"

    destroy = run(*REVOKED, "--destroy")
    assert destroy.code == 0, destroy.output
    assert destroy.previews_made_no_call()
    assert not any("ScheduleKeyDeletion" in c or "DeleteRole" in c for c in destroy.calls())
    assert destroy.calls("cockroach") == []
    retained = destroy.report["retained"]
    assert sum(r.startswith("aws:kms/key:Key ") for r in retained) == 1
    assert sum(r.startswith("aws:kms/replicaKey:ReplicaKey ") for r in retained) == 2
    assert any(r.startswith("aws:iam/role:Role ") for r in retained)
    assert destroy.report["cmek"][CLUSTER]["status"] == "REVOKED"

    assert LOCAL_STACK_FILE.read_bytes() == stack_before
    assert files_containing(tmp_path, CANARY_KEY) == []


GCP_CLUSTER = seeds.GCP_MULTI
GCP_PROJECT = "customer-kms-project"


def test_a_gcp_stack_is_created_with_its_grants_destroyed_keeping_its_keys_and_not_created_again_over_them(
    run: Any, tmp_path: Path
) -> None:
    stack = tmp_path / "stacks" / "Pulumi.gcp-rehearsal.yaml"
    stack.parent.mkdir()
    (tmp_path / "Pulumi.yaml").write_text(Path(LOCAL_STACK_FILE.parents[1] / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((LOCAL_STACK_FILE.parents[1] / "__main__.py").read_text())
    stack.write_text(f"config:\n  gcp:project: {GCP_PROJECT}\n  cmek:clusters:\n    - cluster_id: {GCP_CLUSTER}\n")

    create = run("--reset", "--show-policies", stack=stack)
    assert create.code == 0, create.output
    assert create.previews_made_no_call()
    gcp = create.calls("gcp")
    assert sum(c.startswith("kms:keyRings.create") for c in gcp) == 3
    assert sum(c.startswith("kms:cryptoKeys.create") for c in gcp) == 3
    assert create.calls("aws") == []
    assert create.calls("cockroach") == [f"POST /api/v1/clusters/{GCP_CLUSTER}/cmek"]
    assert "IAM bindings on projects/" in create.output and "roles/cloudkms.cryptoKeyEncrypterDecrypter" in create.output
    assert create.report["cmek"][GCP_CLUSTER]["status"] == "ENABLED"

    destroy = run("--destroy", stack=stack)
    assert destroy.code == 0, destroy.output
    retained = destroy.report["retained"]
    assert sum(r.startswith("gcp:kms/keyRing:KeyRing ") for r in retained) == 3
    assert sum(r.startswith("gcp:kms/cryptoKey:CryptoKey ") for r in retained) == 3
    assert destroy.calls("gcp") == []

    # GCP never deletes key rings and keeps the retained service account: creating the stack
    # again is refused before anything is created (the names would answer ALREADY_EXISTS).
    recreate = run(stack=stack)
    assert recreate.code == 1
    assert f"cluster '{GCP_CLUSTER}' already has CMEK ENABLED" in recreate.output
    assert "ALREADY_EXISTS" not in recreate.output
    assert recreate.calls() == []


def test_a_preview_that_changes_something_fails_the_step_before_the_update_runs(
    run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check behind every step's preview: a preview that made a mutating call (here a POST
    sent to the simulator while the CLI's preview runs) fails the step, and no update follows."""
    def preview_that_writes(workspace: Any, args: list[str], out: Any, secrets: Any = ()) -> CliResult:
        requests.post(f"{_simulator_url(workspace)}/api/v1/clusters/{CLUSTER}/cmek", json={"region_specs": []}, timeout=10,
                      headers={"Authorization": f"Bearer {workspace.env['COCKROACH_API_KEY']}"})
        return CliResult(tuple(args), 0, "Resources:\n    10 unchanged\n", "")

    monkeypatch.setattr(runner, "run_streamed", preview_that_writes)
    step = run()
    assert step.code == 1
    assert [c["args"][0] for c in step.report["commands"]] == ["preview"]
    assert step.report["commands"][0]["mutating_calls"] == 1
    assert "pulumi preview --diff made mutating calls (stand-ins 0, moto 0, simulator 1)" in step.output
    assert [c["operation"] for c in step.report["calls"]] == [f"POST {CMEK}"]


def _simulator_url(workspace: Any) -> str:
    """The simulator's URL, as the step wrote it into the project copy."""
    config = yaml.safe_load((workspace.project_dir / "stacks" / "Pulumi.local.yaml").read_text())["config"]
    return str(config["cockroach:apiUrl"])
