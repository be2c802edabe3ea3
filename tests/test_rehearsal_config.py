"""The rehearsal's parts that need no CLI: the stack config and its overrides, the project copy
the CLI runs in (the user's stack file untouched), the command line's argument errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from cmek_component import cli
from cmek_component.rehearsal.project import write_project
from cmek_component.rehearsal.report import render_outputs
from cmek_component.rehearsal.runner import Rehearsal, RehearsalOptions
from cmek_component.rehearsal.stack_config import (
    StackConfigError,
    apply_override,
    load_stack_config,
    parse_path,
)

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ stack config


def write_stack(tmp_path: Path, body: str) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    stack = tmp_path / "stacks" / "Pulumi.dev.yaml"
    stack.parent.mkdir()
    stack.write_text(body)
    return stack


def test_stack_config_reads_project_stack_and_flattens_like_the_cli(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, (
        "config:\n  aws:region: us-west-2\n  clusters:\n    - cluster_id: abc\n      key_generation: 1\n"
        "  cockroach:apiKey:\n    secure: v1:xyz\n"
    ))
    config = load_stack_config(stack)
    assert (config.project, config.stack, config.main) == ("demo", "dev", tmp_path / "__main__.py")
    assert config.flat() == {"aws:region": "us-west-2", "demo:clusters": '[{"cluster_id":"abc","key_generation":1}]'}
    assert config.secret_keys == ["cockroach:apiKey"]


def test_overrides_use_the_cli_path_syntax_and_yaml_values(tmp_path: Path) -> None:
    config = load_stack_config(write_stack(tmp_path, "config:\n  clusters:\n    - cluster_id: abc\n"))
    config = apply_override(config, "clusters[0].key_generation=2")
    config = apply_override(config, "clusters[0].add_regions={us-east-2: 3}")
    config = apply_override(config, "clusters[0].aws.tags.team=db")
    config = apply_override(config, "aws:region=eu-west-1")
    assert config.values["demo:clusters"] == [
        {"cluster_id": "abc", "key_generation": 2, "add_regions": {"us-east-2": 3}, "aws": {"tags": {"team": "db"}}}
    ]
    assert config.values["aws:region"] == "eu-west-1"
    assert parse_path("clusters[1].gcp.key_locations") == ["clusters", 1, "gcp", "key_locations"]


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("clusters[0].key_generation", "expected <path>=<value>"),
        ("clusters[5].revoke=true", "past the end of a list of 1"),
        ("clusters.revoke=true", "clusters is not a mapping"),
        ("clusters[0]..revoke=true", "empty segment"),
    ],
)
def test_bad_overrides_name_the_override_and_the_rule(tmp_path: Path, assignment: str, message: str) -> None:
    config = load_stack_config(write_stack(tmp_path, "config:\n  clusters:\n    - cluster_id: abc\n"))
    with pytest.raises(StackConfigError, match=message):
        apply_override(config, assignment)


def test_cli_refuses_a_missing_stack_file_and_bad_timings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["rehearse", str(tmp_path / "Pulumi.nope.yaml")]) == 2
    assert "no such stack file" in capsys.readouterr().err
    assert cli.main(["rehearse", str(REPO / "stacks" / "Pulumi.local.yaml"), "--enable-seconds", "-1"]) == 2
    assert "--enable-seconds: expected seconds >= 0, got -1" in capsys.readouterr().err


def test_the_project_copy_has_the_overrides_and_the_simulator_url_and_keeps_the_salt(tmp_path: Path) -> None:
    stack = write_stack(tmp_path, (
        "config:\n  clusters:\n    - cluster_id: abc\n  cockroach:apiKey:\n    secure: v1:xyz\n"
        "  other:token:\n    secure: v1:abc\n"
    ))
    (tmp_path / "__main__.py").write_text("print('the program')\n")
    original = stack.read_text()
    config = apply_override(load_stack_config(stack), "clusters[0].key_generation=2")
    copy = tmp_path / "state" / "project"
    assert write_project(config, copy, "http://127.0.0.1:4321") == ["other:token"]
    project = yaml.safe_load((copy / "Pulumi.yaml").read_text())
    assert project["name"] == "demo" and project["stackConfigDir"] == "stacks"
    assert project["runtime"]["options"]["virtualenv"] == __import__("sys").prefix
    assert (copy / "__main__.py").read_text() == "print('the program')\n"
    written = copy / "stacks" / "Pulumi.dev.yaml"
    assert yaml.safe_load(written.read_text()) == {"config": {
        "demo:clusters": [{"cluster_id": "abc", "key_generation": 2}],
        "cockroach:apiUrl": "http://127.0.0.1:4321",
    }}
    # The CLI adds the stack's salt at `stack init`; the next step's copy keeps it.
    written.write_text("encryptionsalt: v1:salt\n" + written.read_text())
    write_project(load_stack_config(stack), copy, "http://127.0.0.1:9999")
    again = yaml.safe_load(written.read_text())
    assert again["encryptionsalt"] == "v1:salt"
    assert again["config"]["demo:clusters"] == [{"cluster_id": "abc"}]
    assert stack.read_text() == original


def test_cli_refuses_an_old_engines_state_dir_naming_reset(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = tmp_path / "old"
    state.mkdir()
    (state / "state.json").write_text("{}")
    code = cli.main(["rehearse", str(REPO / "stacks" / "Pulumi.local.yaml"), "--state-dir", str(state)])
    assert code == 1
    assert "made by the earlier rehearsal engine (state.json)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("options", "commands"),
    [
        ({}, [["preview", "--diff"], ["up", "--yes", "--skip-preview"]]),
        ({"refresh": True}, [["preview", "--diff"], ["up", "--yes", "--skip-preview"], ["refresh", "--yes", "--diff"]]),
        ({"mode": "preview"}, [["preview", "--diff"]]),
        ({"mode": "preview", "refresh": True}, [["preview", "--diff"], ["refresh", "--preview-only", "--diff"]]),
        ({"skip_preview": True}, [["up", "--yes", "--skip-preview"]]),
        ({"mode": "destroy"}, [["destroy", "--preview-only"], ["destroy", "--yes", "--skip-preview"]]),
        ({"mode": "destroy", "destroy_preview": True}, [["destroy", "--preview-only"]]),
    ],
)
def test_every_step_that_changes_something_previews_first(options: dict[str, Any], commands: list[list[str]]) -> None:
    """The commands a step runs: a preview (checked for mutating calls) before every update."""
    step = Rehearsal(RehearsalOptions(REPO / "stacks" / "Pulumi.local.yaml", **options))
    assert step.commands() == [[*command, "--stack", "local"] for command in commands]


def test_outputs_fold_documents_and_keep_secrets_hidden() -> None:
    shown = render_outputs({"c": {"key_policy": "{\n  \"Version\": 1\n}", "status": "ENABLED", "key": "[secret]"}})
    assert "(3 lines of text; in full: --report, or pulumi stack output)" in shown
    assert '"status": "ENABLED"' in shown and '"key": "[secret]"' in shown
    assert "Version" not in shown
