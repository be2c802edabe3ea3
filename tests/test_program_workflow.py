"""The pull-request workflow: tests, then a `pulumi preview --diff` commented on the PR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "preview.yml"


def load() -> dict[Any, Any]:
    document: dict[Any, Any] = yaml.safe_load(WORKFLOW.read_text())
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def test_runs_on_pull_requests_and_runs_the_test_command() -> None:
    workflow = load()

    assert "pull_request" in workflow[True]  # YAML reads the `on:` key as True
    assert "pull_request_target" not in workflow[True]
    assert any(step.get("run", "").strip() == "bash scripts/test.sh" for step in steps(workflow["jobs"]["test"]))


def test_previews_with_diff_and_a_pr_comment_after_the_tests_with_backend_from_secrets() -> None:
    preview = load()["jobs"]["preview"]

    assert preview["needs"] == "test"
    [action] = [step for step in steps(preview) if step.get("uses", "").startswith("pulumi/actions@")]
    inputs = action["with"]
    assert inputs["command"] == "preview"
    assert inputs["diff"] is True
    assert inputs["comment-on-pr"] is True
    assert inputs["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert preview["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"
    assert preview["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    assert preview["permissions"]["pull-requests"] == "write"
    # the project is installed into ./venv (Pulumi.yaml's virtualenv) before the preview runs
    install = [step for step in steps(preview) if "pip install" in step.get("run", "")]
    assert install and "venv/bin/python -m pip install" in install[0]["run"]
    assert steps(preview).index(install[0]) < steps(preview).index(action)
    # fork PRs get no secrets: the preview job must not run for them
    assert "github.event.pull_request.head.repo.full_name == github.repository" in preview["if"]
