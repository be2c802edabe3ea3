"""The real-CLI plumbing the benchmarks share: the standalone simulator, projects on the real
``pulumi`` CLI, and timing one CLI command.

Built on the product's own harness, not on the test suite: ``Workspace``
(``cmek_component/pulumi_cli/workspace.py``: private ``PULUMI_HOME``, file backend, offline) and
the stand-in providers (``cmek_component/rehearsal/standins/``: ``standin_backends``,
``install_standins``). What is here is only what those do not provide: starting the simulator as
its own process, writing a project around a program, and measuring one command.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml
from measure import PYCACHE

from cmek_component.pulumi_cli.workspace import REPO, CliResult, Workspace
from cmek_component.rehearsal.local_server import serving
from cmek_component.rehearsal.standins.harness import StandinBackends
from cmek_component.rehearsal.standins.install import install_standins
from cmek_component.simulator import seeds

API_KEY = "crdbk-benchmark-4Jd8sQ2nV6tK1wZ5"
"""The API key of every benchmark stack (the simulator is started to accept it)."""
STACK_PROGRAM = REPO / "__main__.py"
LOCAL_STACK_FILE = REPO / "stacks" / "Pulumi.local.yaml"
PROGRAMS = Path(__file__).resolve().parent / "programs"
ACTIVATIONS_PROGRAM = PROGRAMS / "activations.py"
HAND_PROGRAM = PROGRAMS / "hand_aws.py"
RECORDED_MAIN = PROGRAMS / "recorded_main.py"
RECORDED_PLUGIN = PROGRAMS / "recorded_plugin.py"
PROGRAM_CPU_FILE = "program-cpu.txt"
"""In a workspace's state directory: one line per program run, its CPU seconds (``RECORDED_MAIN``)."""
PLUGIN_CPU_FILE = "standin-cpu.txt"
"""In a workspace's state directory: one line per stand-in provider process, its CPU seconds
(``RECORDED_PLUGIN``)."""

BYTECODE_ENV = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(PYCACHE)}
"""Bytecode caching on for every process the CLI starts (program, plugins), as on a user's
machine (see ``measure.child_env``); an empty ``PYTHONDONTWRITEBYTECODE`` counts as unset."""


@dataclass
class RunningSimulator:
    """The standalone simulator (``python -m cmek_component.simulator``) in its own process."""

    url: str
    process: subprocess.Popen[str]

    def recorded(self) -> list[dict[str, Any]]:
        """Every request the simulator served, oldest first."""
        answer = requests.get(f"{self.url}/_simulator/requests", timeout=10)
        answer.raise_for_status()
        return list(answer.json()["requests"])

    def cmek_status(self, cluster_id: str) -> str | None:
        """The cluster's CMEK status as the Cloud API reports it (``None``: not enabled)."""
        answer = requests.get(f"{self.url}/api/v1/clusters/{cluster_id}/cmek",
                              headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10)
        return None if answer.status_code == 404 else str(answer.json().get("status"))


@contextmanager
def start_simulator(directory: Path, *flags: str) -> Iterator[RunningSimulator]:
    """The simulator accepting :data:`API_KEY`, rate limit off unless ``flags`` set one; its
    stderr goes to ``directory/simulator.log``. Stopped at exit."""
    directory.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "cmek_component.simulator", "--quiet", "--api-key", API_KEY,
               "--rate-limit-per-second", "0", *flags]
    with serving(command, directory / "simulator.log", "the simulator", cwd=REPO) as (url, process):
        yield RunningSimulator(url, process)


def write_project(directory: Path, program: Path, name: str, stack_config: Mapping[str, Any] | None = None,
                  stack: str = "local") -> None:
    """A Python project running ``program`` (copied as ``program.py``, run by
    ``programs/recorded_main.py`` as ``__main__.py``) under this checkout's venv, with
    ``stack_config`` as ``stacks/Pulumi.<stack>.yaml`` (the repository's layout)."""
    (directory / "stacks").mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(
        f"name: {name}\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {REPO / 'venv'}\n"
        "stackConfigDir: stacks\n"
    )
    shutil.copy(program, directory / "program.py")
    shutil.copy(RECORDED_MAIN, directory / "__main__.py")
    if stack_config is not None:
        (directory / "stacks" / f"Pulumi.{stack}.yaml").write_text(
            yaml.safe_dump({"config": dict(stack_config)}, sort_keys=False)
        )


def program_workspace(directory: Path, cli: Path, simulator: RunningSimulator, backends: StandinBackends | None,
                      program: Path, stack_config: Mapping[str, Any], name: str = "cmek",
                      stack: str = "local") -> Workspace:
    """A stack of ``program`` in ``directory``: project written, stand-in plugins installed in
    its private ``PULUMI_HOME`` (when ``backends``), stack initialised with the simulator's URL
    and :data:`API_KEY` (a secret)."""
    project = directory / "project"
    write_project(project, program, name, stack_config, stack)
    env = dict(BYTECODE_ENV, BENCH_PROGRAM_CPU_FILE=str(directory / "state" / PROGRAM_CPU_FILE),
               BENCH_PLUGIN_CPU_FILE=str(directory / "state" / PLUGIN_CPU_FILE))
    if backends is not None:
        env.update(backends.env())
    workspace = Workspace(project, directory / "state", stack=stack, cli=cli, env=env)
    if backends is not None:
        install_standins(workspace.home, python=_recording_python(directory))
    workspace.init_stack(config={"cockroach:apiUrl": simulator.url}, secrets={"cockroach:apiKey": API_KEY})
    return workspace


def _recording_python(directory: Path) -> Path:
    """An interpreter for the stand-ins' launchers that runs each plugin under
    ``programs/recorded_plugin.py`` (its CPU time recorded at exit)."""
    script = directory / "recording-python"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{RECORDED_PLUGIN}" "$@"\n')
    script.chmod(0o755)
    return script


def local_stack_config() -> dict[str, Any]:
    """``stacks/Pulumi.local.yaml``'s config: the simulator's three-region AWS cluster."""
    return dict(yaml.safe_load(LOCAL_STACK_FILE.read_text())["config"])


def fleet_stack_config(clusters: int) -> dict[str, Any]:
    """The stack program's config for simulator fleet clusters ``0 .. clusters-1`` (one region
    each, every fact read from the Cloud API, as in ``stacks/Pulumi.local.yaml``)."""
    return {
        "aws:region": "us-east-1",
        "cmek:clusters": [{"cluster_id": seeds.fleet_cluster_id(index)} for index in range(clusters)],
    }


def fleet_activation(index: int, **extra: Any) -> dict[str, Any]:
    """An activation of simulator fleet cluster ``index`` (``--fleet-clusters``), its own role."""
    spec = seeds.key_spec("AWS", "us-east-1")
    spec["auth_principal"] = seeds.aws_role_arn(f"crdb-cmek-fleet-{index:03d}")
    return {"name": f"fleet{index:03d}", "cluster_id": seeds.fleet_cluster_id(index),
            "region_specs": [{"region": "us-east-1", "key_spec": spec}], **extra}


def set_activations(workspace: Workspace, activations: list[dict[str, Any]]) -> None:
    """The activations program's config (``bench:activations``, one JSON list)."""
    workspace.run("config", "set", "bench:activations", "--", json.dumps(activations)).check()


@dataclass(frozen=True)
class TimedRun:
    """One CLI command: wall time, CPU time of the processes it started, what it printed."""

    wall_seconds: float
    cpu_seconds: float
    program_cpu_seconds: float
    """CPU time of the program's own process (0.0 when the command ran no program)."""
    result: CliResult
    standin_cpu_seconds: float = 0.0
    """CPU time of the stand-in provider plugins the command started (part of ``cpu_seconds``)."""


def _cpu_lines(workspace: Workspace, name: str = PROGRAM_CPU_FILE) -> list[float]:
    recorded = workspace.state_dir / name
    return [float(line) for line in recorded.read_text().split()] if recorded.exists() else []


def timed(workspace: Workspace, *args: str, timeout: float = 900.0) -> TimedRun:
    """Runs ``pulumi <args>`` and measures it. CPU time is the ``RUSAGE_CHILDREN`` difference:
    the CLI and every descendant it waited for (language host, program, provider plugins); the
    simulator and moto, started earlier and still running, are not in it. The program's own CPU
    time is what ``programs/recorded_main.py`` recorded during the command, the stand-ins' what
    ``programs/recorded_plugin.py`` recorded."""
    programs_before = len(_cpu_lines(workspace))
    plugins_before = len(_cpu_lines(workspace, PLUGIN_CPU_FILE))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = workspace.run(*args, timeout=timeout)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return TimedRun(wall, cpu, sum(_cpu_lines(workspace)[programs_before:]), result,
                    sum(_cpu_lines(workspace, PLUGIN_CPU_FILE)[plugins_before:]))


def load_average() -> str:
    """The 1, 5 and 15 minute load averages now."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
