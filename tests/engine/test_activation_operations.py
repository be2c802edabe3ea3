"""Secrets, import and interruption of CmekActivation through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from cmek_component.simulator import seeds

from .conftest import (
    CANARY_KEY,
    EngineStack,
    RunningSimulator,
    files_containing,
    make_stack,
    single_region,
    start_simulator,
    wait_until,
)

ACTIVATION_URN_SUFFIX = "pulumi-python:dynamic/cockroach:CmekActivation::single"


def canary_forms() -> list[str]:
    return [CANARY_KEY, json.dumps(CANARY_KEY)[1:-1], repr(CANARY_KEY.encode())]


def test_the_api_key_is_in_no_output_state_file_or_log(engine_stack: EngineStack, tmp_path: Path) -> None:
    stack = engine_stack
    stack.set_activations([single_region()])
    stack.up().check()
    stack.workspace.run("preview", "--diff").check()
    stack.set_activations([single_region(generation=2)])
    stack.workspace.run("preview", "--diff").check()
    stack.up().check()
    stack.workspace.run("refresh", "--yes", "--skip-preview").check()
    stack.workspace.run("up", "--yes", "--skip-preview", "-v=3", "--logflow").check()
    exported = stack.workspace.run("stack", "export").check()
    stack.workspace.run("stack", "output", "--json").check()
    shown = stack.export("--show-secrets")
    stack.workspace.run("destroy", "--yes", "--skip-preview").check()

    for result in stack.workspace.transcript:
        if result.args[:3] == ("stack", "export", "--show-secrets"):
            continue
        for form in canary_forms():
            assert form not in result.output, f"the API key is in the output of pulumi {' '.join(result.args)}"
    assert "ciphertext" in exported.stdout  # the secret is there, encrypted
    assert files_containing(tmp_path, CANARY_KEY) == []  # state, backups, history, PULUMI_HOME logs

    # Where --show-secrets reveals it (docs/pulumi-cli.md: "Where the API key is kept"): only the inputs of
    # the default pulumi-python provider, where the engine records the stack's configuration.
    revealing = [r["urn"] for r in shown["deployment"]["resources"] if CANARY_KEY in json.dumps(r)]
    assert revealing == ["urn:pulumi:dev::cmek-engine-test::pulumi:providers:pulumi-python::default"]


def test_an_unrelated_config_change_shows_no_provider_update(engine_stack: EngineStack) -> None:
    stack = engine_stack
    stack.set_activations([single_region()])
    stack.up().check()
    stack.workspace.run("config", "set", "engine:unrelated", "something").check()
    preview = stack.workspace.run("preview", "--diff").check()
    assert preview.summary() == {"unchanged": 2}
    assert "pulumi-python::default" not in preview.stdout


def test_import_is_refused_with_what_to_do_and_up_adopts_instead(engine_stack: EngineStack) -> None:
    stack, sim = engine_stack, engine_stack.simulator
    # CMEK was enabled by hand (curl) before the stack existed.
    sim.api("POST", f"clusters/{seeds.AWS_SINGLE}/cmek", {"region_specs": seeds.region_specs(seeds.AWS_SINGLE)})
    wait_until(lambda: sim.cmek(seeds.AWS_SINGLE)["status"] == "ENABLED", 30, "ENABLED")
    calls = len(sim.mutating())

    # import_= in the program: our message, before anything is registered.
    stack.set_activations([single_region(import_id=seeds.AWS_SINGLE)])
    refused = stack.up()
    assert refused.returncode != 0
    assert "import_='4261032b-e5e9-4ea5-8d58-bbcce2652dcd' is not supported" in refused.stdout
    assert "Remove import_ and run `pulumi up`" in refused.stdout
    assert "KeyError" not in refused.output

    # `pulumi import` itself: the SDK's dynamic host fails (pulumi/pulumi#16175); the state
    # stays as it was and the README's path is the way.
    stack.set_activations([])
    cli_import = stack.workspace.run(
        "import", "pulumi-python:dynamic/cockroach:CmekActivation", "single", seeds.AWS_SINGLE, "--yes"
    )
    assert cli_import.returncode != 0
    assert "KeyError: '__provider'" in cli_import.stdout
    assert all(not r["urn"].endswith(ACTIVATION_URN_SUFFIX) for r in stack.export()["deployment"].get("resources", []))

    # The documented path: declare it and `pulumi up` adopts it, with no mutating call.
    stack.set_activations([single_region()])
    adopted = stack.up().check()
    assert "CMEK is already ENABLED with these keys; adopting it" in adopted.stdout
    assert adopted.summary() == {"created": 1, "unchanged": 1} or adopted.summary() == {"created": 2}
    assert len(sim.mutating()) == calls
    assert stack.outputs()["single_status"] == "ENABLED"


def test_a_hard_interrupt_mid_wait_converges_without_a_second_enable(tmp_path: Path, pulumi_cli: Path) -> None:
    with start_simulator(tmp_path, "--enable-seconds", "30") as sim:
        _interrupt_and_converge(make_stack(tmp_path, pulumi_cli, sim), sim)


def _interrupt_and_converge(stack: EngineStack, sim: RunningSimulator) -> None:
    stack.set_activations([single_region()])
    running = stack.workspace.start("up", "--yes", "--skip-preview")
    wait_until(lambda: ("POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek") in sim.mutating(), 120, "the POST")
    interrupted = stack.workspace.interrupt(running, times=2)  # Ctrl-C twice: terminate now
    assert interrupted.returncode != 0
    assert "interrupted" in interrupted.stdout

    # The runbook: `pulumi refresh --clear-pending-creates`, then `pulumi up`.
    refreshed = stack.workspace.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates").check()
    assert refreshed.returncode == 0
    converged = stack.up().check()
    assert "pending operations" not in converged.stdout
    assert "adopting it" in converged.stdout
    assert [m for m in sim.mutating() if m[0] == "POST"] == [("POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek")]
    assert sim.cmek(seeds.AWS_SINGLE)["status"] == "ENABLED"
    assert stack.outputs()["single_status"] == "ENABLED"
    assert stack.up().check().summary() == {"unchanged": 2}


def test_a_key_with_a_trailing_line_break_works_and_one_with_a_control_character_is_refused(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator
) -> None:
    # A secret file with a trailing CRLF, piped into `pulumi config set`: stripped, it works.
    trailing = make_stack(tmp_path / "trailing", pulumi_cli, simulator, api_key=CANARY_KEY + "\r\n")
    trailing.set_activations([single_region()])
    trailing.up().check()
    assert simulator.cmek(seeds.AWS_SINGLE)["status"] == "ENABLED"

    # A control character inside the key: refused before any request, naming the problem only.
    broken_key = CANARY_KEY[:6] + "\x1b" + CANARY_KEY[6:]
    broken = make_stack(tmp_path / "broken", pulumi_cli, simulator, api_key=broken_key)
    broken.set_activations([{"name": "other", "cluster_id": seeds.AWS_MULTI,
                             "region_specs": seeds.region_specs(seeds.AWS_MULTI)}])
    calls = len(simulator.recorded())
    refused = broken.up()
    assert refused.returncode != 0
    assert "the CockroachDB Cloud API key contains a control character (U+001B) at position 7" in refused.stdout
    assert len(simulator.recorded()) == calls
    for result in trailing.workspace.transcript + broken.workspace.transcript:
        for form in [*canary_forms(), CANARY_KEY[6:], repr(broken_key)[1:-1]]:
            assert form not in result.output, f"the key is in the output of pulumi {' '.join(result.args)}"
    assert files_containing(tmp_path, CANARY_KEY[6:]) == []
