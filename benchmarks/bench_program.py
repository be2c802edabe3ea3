"""Program cost: the stack program for 1 cluster with 3 regions, against the import floor.

    venv/bin/python benchmarks/bench_program.py [--repeats 5]

For AWS and for GCP, each measured ``--repeats`` times in fresh subprocesses, alternating:

- floor: ``python -c "import pulumi, pulumi_aws"`` (``pulumi_gcp`` for GCP);
- program: ``benchmarks/program_child.py``: the stack program (``__main__.py``) for 1 cluster
  with 3 regions under Pulumi mocks in preview mode (cloud, regions, account_id and
  organization_id given, so no Cloud API call).

Prints the medians (wall time, CPU time, peak RSS) and the ratios program / floor. Target:
wall time and peak memory at most 1.5 times the floor. Also prints where the program's extra
time goes (one in-process run split into phases), the packages it imports beyond the floor
with their import times (``python -X importtime``), and, for reference, the mocks harness with
an empty program (same mocks and SDK import, nothing declared).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from dataclasses import dataclass

from measure import (
    PYTHON,
    ROOT,
    Sample,
    Summary,
    child_env,
    run_measured,
    summarize,
    table,
    verdict,
)

TARGET_RATIO = 1.5
PROGRAM = "benchmarks/program_child.py"
SDK = {"aws": "pulumi_aws", "gcp": "pulumi_gcp"}


@dataclass(frozen=True)
class CloudResult:
    cloud: str
    floor: Summary
    harness: Summary
    program: Summary
    resources: int
    phases: dict[str, float]
    heaviest_imports: list[tuple[str, float]]

    @property
    def wall_ratio(self) -> float:
        return self.program.wall_seconds / self.floor.wall_seconds

    @property
    def cpu_ratio(self) -> float:
        return self.program.cpu_seconds / self.floor.cpu_seconds

    @property
    def memory_ratio(self) -> float:
        return self.program.peak_rss_mb / self.floor.peak_rss_mb


def floor_command(cloud: str) -> list[str]:
    return [PYTHON, "-c", f"import pulumi, {SDK[cloud]}"]


def program_command(cloud: str, *extra: str) -> list[str]:
    return [PYTHON, PROGRAM, "--cloud", cloud, "--clusters", "1", "--regions", "3", *extra]


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def import_times(command: list[str]) -> dict[str, float]:
    """Self import time in seconds of each module ``command`` imports (``-X importtime``)."""
    sample_command = [command[0], "-X", "importtime", *command[1:]]
    stderr = subprocess.run(sample_command, cwd=ROOT, env=child_env(), capture_output=True, text=True, check=True).stderr
    times: dict[str, float] = {}
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            times[match.group(4)] = int(match.group(1)) / 1e6
    return times


def _group(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] in ("pulumi_aws", "pulumi_gcp", "pulumi") else parts[0]


def heaviest_extra_imports(cloud: str, count: int = 8) -> list[tuple[str, float]]:
    """Import time (self times summed by package) of what the program imports beyond the floor."""
    floor = import_times(floor_command(cloud))
    program = import_times(program_command(cloud))
    groups: dict[str, float] = {}
    for name, seconds in program.items():
        if name not in floor:
            groups[_group(name)] = groups.get(_group(name), 0.0) + seconds
    total = sum(groups.values())
    return [("total", total), *sorted(groups.items(), key=lambda item: -item[1])[:count]]


def measure_cloud(cloud: str, repeats: int) -> CloudResult:
    floors: list[Sample] = []
    harnesses: list[Sample] = []
    programs: list[Sample] = []
    for command in (floor_command(cloud), program_command(cloud, "--empty"), program_command(cloud)):
        run_measured(command)  # warm the file cache and the bytecode cache
    for _ in range(repeats):
        floors.append(run_measured(floor_command(cloud)))
        harnesses.append(run_measured(program_command(cloud, "--empty")))
        programs.append(run_measured(program_command(cloud)))
    resources = json.loads(programs[-1].stdout)["resources"]
    phases = json.loads(run_measured(program_command(cloud, "--phases")).stdout)
    return CloudResult(
        cloud=cloud,
        floor=summarize(f"floor: import pulumi, {SDK[cloud]}", floors),
        harness=summarize("mocks harness, no program (reference)", harnesses),
        program=summarize(f"program: 1 {cloud.upper()} cluster, 3 regions", programs),
        resources=resources,
        phases=phases,
        heaviest_imports=heaviest_extra_imports(cloud),
    )


def run(repeats: int = 5) -> list[CloudResult]:
    return [measure_cloud(cloud, repeats) for cloud in ("aws", "gcp")]


def report(results: list[CloudResult]) -> str:
    rows: list[list[object]] = []
    for result in results:
        for summary in (result.floor, result.harness, result.program):
            rows.append([summary.label, summary.runs, summary.wall_seconds, summary.cpu_seconds, summary.peak_rss_mb])
    lines = ["### 1. Program cost (medians)", "", table(["command", "runs", "wall s", "CPU s", "peak RSS MB"], rows), ""]
    ratio_rows = [
        [
            result.cloud.upper(),
            result.resources,
            f"{result.wall_ratio:.2f}x ({verdict(result.wall_ratio <= TARGET_RATIO)})",
            f"{result.cpu_ratio:.2f}x",
            f"{result.memory_ratio:.2f}x ({verdict(result.memory_ratio <= TARGET_RATIO)})",
        ]
        for result in results
    ]
    lines += [
        f"Ratios program / floor (target: wall time and memory at most {TARGET_RATIO}x):",
        "",
        table(["cloud", "resources", "wall", "CPU", "peak RSS"], ratio_rows),
        "",
        "Where the program's time goes (one in-process run, seconds):",
        "",
        table(
            ["cloud", "floor: pulumi + SDK", "SDK submodules used", "cmek_component modules", "program run under mocks"],
            [[r.cloud.upper(), *(r.phases[k] for k in ("floor_imports", "sdk_submodules", "package_imports", "program_run"))]
             for r in results],
        ),
        "",
        "Imports beyond the floor (`-X importtime` self times summed per package, ms):",
        "",
    ]
    for result in results:
        listed = ", ".join(f"{name} {seconds * 1000:.1f}" for name, seconds in result.heaviest_imports)
        lines.append(f"- {result.cloud.upper()}: {listed}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Program cost against the import floor.")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(report(run(args.repeats)))


if __name__ == "__main__":
    main()
