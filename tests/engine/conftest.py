"""The engine tier: the real ``pulumi`` CLI, a local file backend, the standalone simulator.

Every test here runs ``pulumi`` itself (built or found by ``scripts/pulumi-cli.sh``) in a
temporary project with a private ``PULUMI_HOME``; nothing is mocked. The program is
``activation_program/__main__.py``: CmekActivations with explicit region specs, so no AWS or
GCP plugin is needed. The API key is ``CANARY_KEY``, searched for in every artifact.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from cmek_component.pulumi_cli.workspace import REPO, Workspace, cli_dir
from cmek_component.rehearsal.local_server import serving
from cmek_component.rehearsal.standins.harness import StandinBackends, standin_backends
from cmek_component.rehearsal.standins.install import install_standins
from cmek_component.simulator import seeds

CANARY_KEY = "crdbk-canary-7Hq2vX9pL4mW8zR3"
"""A distinctive API key: the simulator accepts it, and no artifact may contain it."""
PROGRAM = Path(__file__).parent / "activation_program" / "__main__.py"


@dataclass
class RunningSimulator:
    """The standalone simulator (``python -m cmek_component.simulator``) in its own process."""

    url: str
    process: subprocess.Popen[str]
    log: Path

    def recorded(self) -> list[dict[str, Any]]:
        return requests.get(f"{self.url}/_simulator/requests", timeout=10).json()["requests"]

    def mutating(self) -> list[tuple[str, str]]:
        """(method, path) of every mutating API request so far."""
        return [(r["method"], r["path"]) for r in self.recorded() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]

    def cmek(self, cluster_id: str) -> dict[str, Any]:
        answer = requests.get(
            f"{self.url}/api/v1/clusters/{cluster_id}/cmek",
            headers={"Authorization": f"Bearer {CANARY_KEY}"}, timeout=10,
        )
        answer.raise_for_status()
        return dict(answer.json())

    def current_keys(self, cluster_id: str) -> dict[str, tuple[str, str]]:
        """region -> (uri, status) of the region's newest key."""
        return {
            info["region"]: (info["key_infos"][-1]["spec"]["uri"], info["key_infos"][-1]["status"])
            for info in self.cmek(cluster_id).get("region_infos", [])
        }

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """A call to the Cloud API with the canary key, as an operator with curl would make."""
        answer = requests.request(
            method, f"{self.url}/api/v1/{path}", json=body,
            headers={"Authorization": f"Bearer {CANARY_KEY}"}, timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = requests.post(f"{self.url}/_simulator/{path}", json=body or {}, timeout=10)
        answer.raise_for_status()
        return answer.json()


@contextmanager
def start_simulator(tmp: Path, *flags: str) -> Iterator[RunningSimulator]:
    tmp.mkdir(parents=True, exist_ok=True)
    log = tmp / "simulator.log"
    command = [sys.executable, "-m", "cmek_component.simulator", "--quiet", "--api-key", CANARY_KEY,
               "--rate-limit-per-second", "0", *flags]
    with serving(command, log, "the simulator", cwd=REPO) as (url, process):
        yield RunningSimulator(url, process, log)


@pytest.fixture(scope="session")
def pulumi_cli() -> Path:
    """The directory of the real CLI (``PULUMI_CLI_DIR`` or ``scripts/pulumi-cli.sh``)."""
    return cli_dir()


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[RunningSimulator]:
    """The simulator with 2-second operations (enable, rotate, revoke, add region)."""
    with start_simulator(tmp_path, "--enable-seconds", "2", "--rotate-seconds", "2",
                         "--revoke-seconds", "1", "--add-region-seconds", "2") as running:
        yield running


@dataclass
class EngineStack:
    """A temporary project running ``activation_program`` on the real CLI."""

    workspace: Workspace
    simulator: RunningSimulator
    activations: list[dict[str, Any]] = field(default_factory=list)

    def set_activations(self, activations: list[dict[str, Any]]) -> None:
        self.activations = activations
        self.workspace.run("config", "set", "engine:activations", "--", json.dumps(activations)).check()

    def up(self, *flags: str) -> Any:
        return self.workspace.run("up", "--yes", "--skip-preview", *flags)

    def outputs(self) -> dict[str, Any]:
        done = self.workspace.run("stack", "output", "--json").check()
        return dict(json.loads(done.stdout))

    def export(self, *flags: str) -> dict[str, Any]:
        done = self.workspace.run("stack", "export", *flags).check()
        return dict(json.loads(done.stdout))

    def activation_state(self) -> dict[str, Any]:
        for resource in self.export()["deployment"].get("resources", []):
            if resource["type"].endswith("CmekActivation"):
                return dict(resource)
        raise AssertionError("no CmekActivation in the state")


def write_project(directory: Path, name: str = "cmek-engine-test") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(
        f"name: {name}\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {REPO / 'venv'}\n"
    )
    shutil.copy(PROGRAM, directory / "__main__.py")


def make_stack(tmp_path: Path, cli: Path, simulator: RunningSimulator,
               api_key: str = CANARY_KEY) -> EngineStack:
    project = tmp_path / "project"
    write_project(project)
    workspace = Workspace(project, tmp_path / "state", cli=cli)
    workspace.init_stack(
        config={"cockroach:apiUrl": simulator.url},
        secrets={"cockroach:apiKey": api_key},
    )
    return EngineStack(workspace, simulator)


@pytest.fixture
def engine_stack(tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator) -> EngineStack:
    """A stack whose API key is ``CANARY_KEY`` (a secret) and whose API is the simulator."""
    return make_stack(tmp_path, pulumi_cli, simulator)


def single_region(generation: int = 1, **extra: Any) -> dict[str, Any]:
    """An activation of the seeded one-region AWS cluster."""
    return {"name": "single", "cluster_id": seeds.AWS_SINGLE,
            "region_specs": seeds.region_specs(seeds.AWS_SINGLE, generation), **extra}


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (raw, JSON-escaped or repr'd)."""
    forms = {needle.encode(), json.dumps(needle).encode()[1:-1], repr(needle.encode()).encode()}
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if any(form in data for form in forms):
                hits.append(path)
    return hits


__all__ = ["CANARY_KEY", "EngineStack", "files_containing", "os", "single_region", "wait_until"]


def fleet_activation(index: int, **extra: Any) -> dict[str, Any]:
    """An activation of simulator fleet cluster ``index`` (``--fleet-clusters``), its own role."""
    cluster_id = seeds.fleet_cluster_id(index)
    spec = seeds.key_spec("AWS", "us-east-1")
    spec["auth_principal"] = seeds.aws_role_arn(f"crdb-cmek-fleet-{index:03d}")
    return {"name": f"fleet{index:03d}", "cluster_id": cluster_id,
            "region_specs": [{"region": "us-east-1", "key_spec": spec}], **extra}


# ---------------------------------------------------------------------------------------------
# The stack program itself (``__main__.py`` of the repository) with the stand-in providers.

STACK_PROGRAM = REPO / "__main__.py"
LOCAL_STACK_FILE = REPO / "stacks" / "Pulumi.local.yaml"


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[StandinBackends]:
    """moto in server mode and the GCP store, kept under ``tmp_path/standins``."""
    with standin_backends(tmp_path / "standins") as running:
        yield running


@dataclass
class ProgramStack:
    """The repository's ``__main__.py`` in a temporary project (``stacks/Pulumi.<stack>.yaml``
    config style), run by the real CLI with the stand-ins and the simulator."""

    workspace: Workspace
    simulator: RunningSimulator
    backends: StandinBackends

    @property
    def config_file(self) -> Path:
        return self.workspace.project_dir / "stacks" / f"Pulumi.{self.workspace.stack}.yaml"

    def config(self) -> dict[str, Any]:
        return dict(yaml.safe_load(self.config_file.read_text())["config"])

    def edit_config(self, config: dict[str, Any]) -> None:
        """Rewrites the stack file's ``config:`` (as a user editing it would; ``encryptionsalt`` kept)."""
        document = yaml.safe_load(self.config_file.read_text())
        document["config"] = config
        self.config_file.write_text(yaml.safe_dump(document, sort_keys=False))

    def up(self, *flags: str) -> Any:
        return self.workspace.run("up", "--yes", "--skip-preview", *flags)

    def preview(self, *flags: str) -> Any:
        return self.workspace.run("preview", *flags)

    def destroy(self) -> Any:
        return self.workspace.run("destroy", "--yes", "--skip-preview")

    def outputs(self) -> dict[str, Any]:
        done = self.workspace.run("stack", "output", "--json", "--show-secrets").check()
        return dict(json.loads(done.stdout))

    def writes(self) -> tuple[int, int, int]:
        """How many mutating calls so far: (stand-ins, moto, simulator)."""
        return (len(self.backends.mutating_calls()), len(self.backends.moto_writes()),
                len(self.simulator.mutating()))


def make_program_stack(tmp_path: Path, cli: Path, simulator: RunningSimulator, backends: StandinBackends,
                       config: dict[str, Any], stack: str = "local") -> ProgramStack:
    """A project of ``__main__.py`` with ``config`` as ``stacks/Pulumi.<stack>.yaml``, the stand-ins
    installed into its private ``PULUMI_HOME``, the simulator's URL and ``CANARY_KEY`` set."""
    project = tmp_path / "program"
    (project / "stacks").mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text(
        "name: cmek\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {REPO / 'venv'}\n"
        "stackConfigDir: stacks\n"
    )
    shutil.copy(STACK_PROGRAM, project / "__main__.py")
    (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    workspace = Workspace(project, tmp_path / "state", stack=stack, cli=cli, env=backends.env())
    install_standins(workspace.home)
    workspace.init_stack(config={"cockroach:apiUrl": simulator.url}, secrets={"cockroach:apiKey": CANARY_KEY})
    return ProgramStack(workspace, simulator, backends)


def counts(result: Any) -> dict[str, int]:
    """The CLI's summary counts (``CliResult.summary``)."""
    return dict(result.summary())


def local_stack_config() -> dict[str, Any]:
    """``stacks/Pulumi.local.yaml``'s config: the simulator's three-region AWS cluster."""
    return dict(yaml.safe_load(LOCAL_STACK_FILE.read_text())["config"])


@dataclass(frozen=True)
class Writes:
    """The mutating calls made since a mark: stand-ins (cloud, operation, target), moto's
    operations, the simulator's (method, path)."""

    standins: list[tuple[str, str, str]]
    moto: list[str]
    simulator: list[tuple[str, str]]


class Marks:
    """Counts of mutating calls at a point, to read what a step added."""

    def __init__(self, stack: ProgramStack) -> None:
        self.stack = stack
        self.at = stack.writes()

    def since(self) -> Writes:
        standins, moto, simulator = self.at
        return Writes(self.stack.backends.mutating_calls()[standins:], self.stack.backends.moto_writes()[moto:],
                      self.stack.simulator.mutating()[simulator:])
