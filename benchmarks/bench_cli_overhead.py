"""5. The component's overhead through the real CLI: ``pulumi preview`` and ``pulumi up`` of the
stack program against the same resources written by hand.

    venv/bin/python benchmarks/bench_cli_overhead.py [--repeats 4] [--up-repeats 2]

A: the repository's ``__main__.py`` (one ``ClusterCmek``) with ``stacks/Pulumi.local.yaml``'s
config: the simulator's three-region AWS cluster (``seeds.AWS_MULTI``), facts read from the
Cloud API. B: ``programs/hand_aws.py``, the same role, multi-region key, two replicas, three
aliases and ``CmekActivation`` declared directly (facts written into the program). Both run on
the real CLI (``scripts/pulumi-cli.sh``) with the stand-in AWS plugin on moto and the
standalone simulator, in private ``PULUMI_HOME``s (``engine_support``).

- **preview**: one stack of each against one simulator and one moto; the stacks are empty, so
  each ``pulumi preview`` is a first preview (every resource to create) and changes nothing;
  one unmeasured preview of each first, then A, B, A, B ... ``--repeats`` times each.
- **up**: every repetition gets a fresh simulator (``--enable-seconds 0``), a fresh moto and a
  fresh stack for each program, made before the clock starts (one unmeasured up first); the timed part is
  ``pulumi up --yes --skip-preview`` alone, creating everything from nothing. An up + destroy
  cycle on one backend is not comparable: ``destroy`` retains the keys and the role and cannot
  disable CMEK, so the next up would meet an ENABLED cluster. Both activations wait the same
  (their first poll, 1 s after the POST, sees ENABLED), which this keeps in both times.

Reported: medians of wall time, of CPU time (the CLI and every process it waited for:
language host, program, plugins) and of the program process's own CPU time
(``programs/recorded_main.py``), and A / B for each. Target: A / B <= 1.15 in wall time.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine_support import (
    HAND_PROGRAM,
    STACK_PROGRAM,
    RunningSimulator,
    TimedRun,
    load_average,
    local_stack_config,
    program_workspace,
    start_simulator,
    timed,
)
from measure import table, verdict

from cmek_component.pulumi_cli.workspace import Workspace, cli_dir
from cmek_component.rehearsal.standins.harness import StandinBackends, standin_backends
from cmek_component.simulator import seeds

TARGET_RATIO = 1.15
HAND_CONFIG = {"aws:region": "us-east-1"}
SIDES = ("component", "hand")
EXPECTED = {"component": 10, "hand": 9}
"""Resources each side declares, the stack included: the component adds itself."""


@dataclass
class Series:
    """The timed runs of one command of one side."""

    side: str
    command: str
    runs: list[TimedRun] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall_seconds for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    @property
    def program_cpu(self) -> float:
        return statistics.median(r.program_cpu_seconds for r in self.runs)


@dataclass
class OverheadResult:
    """Preview and up series of both sides."""

    series: dict[tuple[str, str], Series]
    load_before: str
    load_after: str = ""

    def ratio(self, command: str, what: str = "wall") -> float:
        """component / hand for ``command`` (median over median)."""
        a, b = self.series["component", command], self.series["hand", command]
        return float(getattr(a, what) / getattr(b, what))

    def met(self, command: str) -> bool:
        return self.ratio(command) <= TARGET_RATIO


def _check(run: TimedRun, side: str, key: str) -> TimedRun:
    """Fails loudly unless the command succeeded and counted every resource of ``side``."""
    result = run.result.check()
    counts = result.summary()
    if counts.get(key) != EXPECTED[side]:
        raise RuntimeError(f"{side}: pulumi {' '.join(result.args)}: expected {EXPECTED[side]} {key}, got {counts}")
    return run


def _workspace(side: str, directory: Path, cli: Path, simulator: RunningSimulator, backends: StandinBackends) -> Workspace:
    program, config = (STACK_PROGRAM, local_stack_config()) if side == "component" else (HAND_PROGRAM, HAND_CONFIG)
    return program_workspace(directory / side, cli, simulator, backends, program, config)


def measure_previews(cli: Path, repeats: int, series: dict[tuple[str, str], Series]) -> None:
    with tempfile.TemporaryDirectory(prefix="cmek-bench-preview-") as tmp, start_simulator(
        Path(tmp) / "simulator"
    ) as simulator, standin_backends(Path(tmp) / "standins") as backends:
        workspaces = {side: _workspace(side, Path(tmp), cli, simulator, backends) for side in SIDES}
        for side in SIDES:  # unmeasured: fills the bytecode cache, first plugin starts
            _check(timed(workspaces[side], "preview"), side, "to create")
        for _ in range(repeats):
            for side in SIDES:
                series[side, "preview"].runs.append(_check(timed(workspaces[side], "preview"), side, "to create"))


def one_up(cli: Path, side: str) -> TimedRun:
    """``pulumi up`` of ``side`` on a fresh simulator, moto and stack (only the up is timed)."""
    with tempfile.TemporaryDirectory(prefix=f"cmek-bench-up-{side}-") as tmp, start_simulator(
        Path(tmp) / "simulator", "--enable-seconds", "0"
    ) as simulator, standin_backends(Path(tmp) / "standins") as backends:
        workspace = _workspace(side, Path(tmp), cli, simulator, backends)
        run = _check(timed(workspace, "up", "--yes", "--skip-preview"), side, "created")
        status = simulator.cmek_status(seeds.AWS_MULTI)
        if status != "ENABLED":
            raise RuntimeError(f"{side}: after pulumi up the cluster's CMEK is {status}, not ENABLED")
        return run


def measure_ups(cli: Path, repeats: int, series: dict[tuple[str, str], Series]) -> None:
    one_up(cli, "component")  # unmeasured: bytecode of what only an up runs (shared by both sides)
    for _ in range(repeats):
        for side in SIDES:
            series[side, "up"].runs.append(one_up(cli, side))


def run(repeats: int = 4, up_repeats: int = 2) -> OverheadResult:
    cli = cli_dir()
    series = {(side, command): Series(side, command) for side in SIDES for command in ("preview", "up")}
    result = OverheadResult(series, load_before=load_average())
    measure_previews(cli, repeats, series)
    if up_repeats:
        measure_ups(cli, up_repeats, series)
    result.load_after = load_average()
    return result


def report(result: OverheadResult) -> str:
    labels = {"component": "A: `__main__.py`, one ClusterCmek", "hand": "B: the same resources by hand"}
    rows: list[list[object]] = []
    commands = [c for c in ("preview", "up") if result.series["component", c].runs]
    for command in commands:
        for side in SIDES:
            s = result.series[side, command]
            rows.append([f"pulumi {command}", labels[side], EXPECTED[side], len(s.runs), s.wall, s.cpu, s.program_cpu,
                         ", ".join(f"{r.wall_seconds:.2f}" for r in s.runs)])
    ratios = [
        [f"pulumi {command}", f"{result.ratio(command):.3f}", f"{result.ratio(command, 'cpu'):.3f}",
         f"{result.ratio(command, 'program_cpu'):.3f}", f"{verdict(result.met(command))} (<= {TARGET_RATIO})"]
        for command in commands
    ]
    return "\n".join([
        "### 5. Component overhead through the real CLI: 1 AWS cluster, 3 regions (medians)",
        "",
        f"Load average before {result.load_before}, after {result.load_after}. Interleaved A, B, A, B;"
        " unmeasured first: a preview of each, one up. Preview: one empty stack of each, previewed again and again."
        " Up: a fresh simulator (`--enable-seconds 0`), moto and stack for every run; only"
        " `pulumi up --yes --skip-preview` is timed.",
        "",
        table(["command", "program", "resources", "runs", "wall s", "CPU s", "program CPU s", "each run, wall s"], rows),
        "",
        "Ratio A / B (the component's overhead):",
        "",
        table(["command", "wall", "CPU", "program CPU", "target: wall"], ratios),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description="The component's overhead through the real CLI.")
    parser.add_argument("--repeats", type=int, default=4, help="previews of each program (default 4)")
    parser.add_argument("--up-repeats", type=int, default=2, help="ups of each program (default 2; 0: none)")
    args = parser.parse_args()
    print(report(run(args.repeats, args.up_repeats)))


if __name__ == "__main__":
    main()
