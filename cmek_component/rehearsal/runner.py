"""One ``cmek rehearse`` step: the real Pulumi CLI on a copy of the stack, against local stand-ins.

A step starts the stand-ins' backends (moto in server mode, the GCP store, their call journal:
``standins.harness``) and the standalone Cloud API simulator (``simulator_process``), all of them
rebuilt from the state dir, installs the stand-in provider plugins into the step's private
``PULUMI_HOME``, writes the project copy (``project``) and runs the CLI there with a local file
backend:

- ``up`` (default): ``pulumi preview --diff``, then ``pulumi up --yes --skip-preview``;
- ``preview``: ``pulumi preview --diff`` only;
- ``destroy``: ``pulumi destroy --preview-only``, then ``pulumi destroy --yes --skip-preview``;
  with ``preview``, only the first;
- ``refresh`` (an option): then ``pulumi refresh --yes --diff`` (``--preview-only`` in a preview);
- ``skip_preview``: no preview command first.

Every preview is checked: it may make no mutating call on a stand-in, on moto or on the
simulator; the step fails naming the calls if it did, and the update is not run.

The CLI's output is streamed as it comes. Then the step prints what the CLI does not show: the
policies as moto and the GCP store hold them (``show_policies``), the stack outputs
(``show_outputs``), the per-region CMEK status from the simulator and every mutating call this
step made on a stand-in and on the simulator. Everything lives in ``<project>/.rehearsal/<stack>/``
unless told otherwise: ``backend/`` (the stack's state), ``pulumi-home/``, ``project/``,
``standins/`` (moto's replay journal, the GCP store, the call journal) and
``simulator-journal.jsonl``.

The simulator accepts a key made up for the step (``api_key`` sets it); the program gets it from
``COCKROACH_API_KEY``. It is never printed, never in the project copy, the state or the report.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..pulumi_cli.workspace import Workspace, cli_dir
from .errors import RehearsalError
from .project import write_project
from .report import (
    Call,
    CommandRun,
    RehearsalReport,
    render_calls,
    render_cmek_status,
    render_outputs,
    render_policy,
)
from .simulator_process import SimulatorProcess, Timings, running_simulator
from .stack_config import StackConfig, apply_override, load_stack_config
from .standins.harness import StandinBackends, standin_backends
from .standins.install import install_standins
from .stored import stored_policies
from .streaming import masked, run_streamed

PASSPHRASE = "cmek-rehearsal-passphrase"
"""The rehearsal stack's secrets passphrase (it holds no secret: the API key is never in config)."""


def new_api_key() -> str:
    return "rehearsal-" + secrets.token_urlsafe(24)


@dataclass
class RehearsalOptions:
    """What to rehearse and how. Only ``stack_file`` is required."""

    stack_file: Path
    project_dir: Path | None = None
    """Directory of ``Pulumi.yaml``; default: the nearest one above the stack file."""
    api_key: str | None = None
    """The key the simulator accepts this step; default a new random one. Never printed or stored."""
    overrides: list[str] = field(default_factory=list)
    """``path=value`` config overrides, as ``pulumi config set --path`` would make them."""
    mode: str = "up"
    """``up``, ``preview`` (no mutating call anywhere) or ``destroy``."""
    destroy_preview: bool = False
    """With ``mode="destroy"``: only show what would be deleted."""
    refresh: bool = False
    """Also run ``pulumi refresh`` after the step's command."""
    show_policies: bool = False
    show_outputs: bool = False
    skip_preview: bool = False
    state_dir: Path | None = None
    """Default ``<project dir>/.rehearsal/<stack>``."""
    timings: Timings = field(default_factory=Timings)
    report_path: Path | None = None
    cli: Path | None = None
    """The directory of ``pulumi``; default ``cli_dir()`` (``PULUMI_CLI_DIR`` or ``scripts/pulumi-cli.sh``)."""
    out: Callable[[str], None] = print


def _epoch(at: str) -> float:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


class Rehearsal:
    """One step (see the module docstring)."""

    def __init__(self, options: RehearsalOptions) -> None:
        self.options = options
        config = load_stack_config(options.stack_file, options.project_dir)
        for override in options.overrides:
            config = apply_override(config, override)
        self.config: StackConfig = config
        self.state_dir = Path(options.state_dir or config.project_dir / ".rehearsal" / config.stack).resolve()
        self.api_key = options.api_key or new_api_key()
        self.read_only = options.mode == "preview" or (options.mode == "destroy" and options.destroy_preview)
        self.mode = "destroy-preview" if options.mode == "destroy" and options.destroy_preview else options.mode

    def out(self, text: str = "") -> None:
        for line in masked(text, [self.api_key]).splitlines() or [""]:
            self.options.out(line)

    def commands(self) -> list[list[str]]:
        """The CLI commands of this step, in order."""
        if self.options.mode == "destroy":
            preview, apply = ["destroy", "--preview-only"], ["destroy", "--yes", "--skip-preview"]
        else:
            preview, apply = ["preview", "--diff"], ["up", "--yes", "--skip-preview"]
        if self.read_only:
            steps = [preview]
        elif self.options.skip_preview:
            steps = [apply]
        else:
            steps = [preview, apply]
        if self.options.refresh:
            steps.append(["refresh", "--preview-only", "--diff"] if self.read_only else ["refresh", "--yes", "--diff"])
        return [[*command, "--stack", self.config.stack] for command in steps]

    def run(self) -> RehearsalReport:
        report = RehearsalReport(self.config.project, self.config.stack, self.mode)
        self.out(f"Rehearsing {self.config.project}/{self.config.stack} ({self.mode}) from {self.options.stack_file}")
        self.out(f"  state: {self.state_dir}")
        for override in self.options.overrides:
            self.out(f"  config override: {override}")
        try:
            if (self.state_dir / "state.json").exists() and not (self.state_dir / "backend").exists():
                raise RehearsalError(
                    f"{self.state_dir}: made by the earlier rehearsal engine (state.json), which the real "
                    "CLI cannot read; run with --reset to start over"
                )
            cli = self.options.cli or cli_dir()
            with standin_backends(self.state_dir / "standins") as backends, \
                    running_simulator(self.state_dir, self.api_key, self.options.timings) as simulator:
                self._step(cli, backends, simulator, report)
        except RehearsalError as error:
            report.error = str(error)
        if report.error:
            self.out()
            self.out(f"error: {report.error}")
        if self.options.report_path:
            self._write_report(report)
        return report

    def _workspace(self, cli: Path, backends: StandinBackends) -> Workspace:
        workspace = Workspace(self.state_dir / "project", self.state_dir, stack=self.config.stack,
                              passphrase=PASSPHRASE, cli=cli,
                              env={**backends.env(), "COCKROACH_API_KEY": self.api_key})
        install_standins(workspace.home)
        return workspace

    def _step(self, cli: Path, backends: StandinBackends, simulator: SimulatorProcess,
              report: RehearsalReport) -> None:
        self.out(f"  Pulumi CLI: {cli / 'pulumi'}; local file backend {self.state_dir / 'backend'}")
        self.out(f"  CockroachDB Cloud API: simulator at {simulator.url}; AWS: stand-in provider on moto "
                 f"at {backends.moto_url}; GCP: stand-in provider on {backends.gcp_store_path.name}")
        workspace = self._workspace(cli, backends)
        left_out = write_project(self.config, workspace.project_dir, simulator.url)
        for key in left_out:
            self.out(f"  {key}: a secret (secure:) in {self.options.stack_file}; left out of the rehearsal's copy")
        selected = workspace.run("stack", "select", "--create", self.config.stack)
        if selected.returncode != 0:
            raise RehearsalError(f"pulumi stack select --create {self.config.stack} failed: "
                                 f"{masked(selected.output.strip(), [self.api_key])}")
        self.out()
        calls_before = len(backends.calls())
        moto_before = len(backends.moto_writes())
        before = self._export(workspace) if self.options.mode == "destroy" else []
        for command in self.commands():
            self.out(f"$ pulumi {' '.join(command)}")
            written = self._writes(backends, simulator)
            done = run_streamed(workspace, command, self.out, [self.api_key])
            made = [later - earlier for earlier, later in zip(written, self._writes(backends, simulator), strict=True)]
            report.commands.append(CommandRun(list(command), done.returncode, done.summary(), sum(made)))
            self.out()
            if done.returncode != 0:
                report.error = f"pulumi {command[0]} failed (exit {done.returncode}); the CLI's output above says why"
                break
            if is_preview(command) and any(made):
                report.error = (f"pulumi {' '.join(command[:2])} made mutating calls (stand-ins {made[0]}, "
                                f"moto {made[1]}, simulator {made[2]}): a preview must change nothing; "
                                "they are listed below")
                break
        report.calls = self._calls(backends, simulator, calls_before)
        report.moto_writes = backends.moto_writes()[moto_before:]
        after = self._export(workspace)
        if self.options.mode == "destroy" and not self.options.destroy_preview and report.error is None:
            report.retained = [f"{r['type']} {r['urn'].rsplit('::', 1)[-1]} ({r.get('id', '')})"
                               for r in before if r.get("retainOnDelete")]
            self.out("Kept in the cloud (retain_on_delete; no longer in the stack):" if report.retained
                     else "Kept in the cloud: nothing")
            for line in report.retained:
                self.out(f"  {line}")
            self.out()
        if self.options.show_outputs:
            outputs = workspace.run("stack", "output", "--json", "--stack", self.config.stack)
            report.outputs = json.loads(outputs.stdout) if outputs.returncode == 0 and outputs.stdout.strip() else {}
            self.out(render_outputs(report.outputs))
            self.out()
        if self.options.show_policies:
            policies = stored_policies(after or before, backends)
            if not policies:
                self.out("Policies: none in the stack")
                self.out()
            for policy in policies:
                self.out(render_policy(policy.title, policy.document))
                self.out()
        for cluster_id in self._cluster_ids():
            cmek, cluster = simulator.cmek(cluster_id), simulator.cluster(cluster_id)
            report.cmek[cluster_id] = cmek
            self.out(render_cmek_status(cluster_id, cmek, cluster))
            self.out()
        self.out(render_calls(report.calls))

    @staticmethod
    def _writes(backends: StandinBackends, simulator: SimulatorProcess) -> tuple[int, int, int]:
        """How many mutating calls so far: the stand-ins', moto's and the simulator's."""
        return len(backends.mutating_calls()), len(backends.moto_writes()), len(simulator.mutating())

    def _export(self, workspace: Workspace) -> list[dict[str, Any]]:
        """The resources of the stack's state (``pulumi stack export``)."""
        done = workspace.run("stack", "export", "--stack", self.config.stack)
        if done.returncode != 0:
            return []
        return list(json.loads(done.stdout).get("deployment", {}).get("resources") or [])

    def _calls(self, backends: StandinBackends, simulator: SimulatorProcess, since: int) -> list[Call]:
        timed: list[tuple[float, Call]] = []
        for call in backends.calls()[since:]:
            if call["mutating"]:
                timed.append((float(call["at"]), Call(call["cloud"], call["operation"], call["target"])))
        for request in simulator.mutating():
            timed.append((_epoch(request["at"]), Call("cockroach", f"{request['method']} {request['path']}", "",
                                                      request["status"], request["body"])))
        return [call for _, call in sorted(timed, key=lambda pair: pair[0])]

    def _cluster_ids(self) -> list[str]:
        clusters = self.config.get("clusters")
        if not isinstance(clusters, list):
            return []
        return [str(c["cluster_id"]) for c in clusters if isinstance(c, dict) and c.get("cluster_id")]

    def _write_report(self, report: RehearsalReport) -> None:
        path = Path(self.options.report_path or "")
        text = json.dumps(report.to_json(), indent=2, default=str)
        if self.api_key in text:
            raise RehearsalError("refusing to write a report that contains the API key")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def is_preview(command: list[str]) -> bool:
    """``pulumi preview`` or a ``--preview-only`` destroy or refresh."""
    return command[0] == "preview" or "--preview-only" in command


def rehearse(options: RehearsalOptions) -> RehearsalReport:
    """Runs one step (see the module docstring) and returns its report; a failed step's error is
    in ``report.error`` (and printed). Raises ``StackConfigError`` for an unusable stack file or
    override."""
    return Rehearsal(options).run()
