"""6. Growth of a real ``pulumi preview`` of the stack program from 1 to 50 clusters.

    venv/bin/python benchmarks/bench_cli_growth.py [--counts 1,10,25,50] [--repeats 2]

One simulator with ``--fleet-clusters <largest count>`` (one-region AWS clusters,
``seeds.fleet_cluster_id``), one moto, and one stack of the repository's ``__main__.py`` per
cluster count, each listing fleet clusters ``0 .. N-1`` with only their ``cluster_id`` (facts
read from the Cloud API, as in ``stacks/Pulumi.local.yaml``). Each stack is empty, so every
preview is a first preview of N clusters (5 resources each: component, role, key, alias,
activation) and changes nothing. One unmeasured preview (of N = 1: the same code runs for every N),
then the counts interleaved
(1, 10, 25, 50, 1, 10, ...) ``--repeats`` times.

Reported: medians of wall and CPU time (the CLI and every process it waited for), of the
program process's own CPU time (``programs/recorded_main.py``) and of the stand-in provider
plugins' CPU time (``programs/recorded_plugin.py``) per count, the least-squares slope per
cluster, and the marginal ratio (time(N) - time(1)) / (time(10) - time(1)) against (N - 1) / 9,
its value if growth is exactly linear. Linear: r^2 >= 0.99 and the per-cluster cost above N = 1
at the largest count within 1 +/- 0.25 of the one at 10 (``bench_scale``'s rule), judged on the
CPU time of what a user runs: the CLI, the language host, the program and our dynamic provider,
that is every process but the stand-ins for the AWS provider (a user runs pulumi-aws, not our
moto-backed Python stand-in; its CPU time is reported beside, and the total's verdict too).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench_scale import PER_CLUSTER_DRIFT, R2_MIN
from engine_support import (
    STACK_PROGRAM,
    TimedRun,
    fleet_stack_config,
    load_average,
    program_workspace,
    start_simulator,
    timed,
)
from measure import least_squares, table, verdict

from cmek_component.pulumi_cli.workspace import cli_dir
from cmek_component.rehearsal.standins.harness import standin_backends

COUNTS = (1, 10, 25, 50)
RESOURCES_PER_CLUSTER = 5
"""``ClusterCmek``, role, key, alias, activation: one region, so no replica."""


@dataclass
class GrowthResult:
    counts: tuple[int, ...]
    runs: dict[int, list[TimedRun]] = field(default_factory=dict)
    load_before: str = ""
    load_after: str = ""

    def median(self, count: int, what: str = "wall") -> float:
        if what == "product_cpu":
            return statistics.median(r.cpu_seconds - r.standin_cpu_seconds for r in self.runs[count])
        return statistics.median(getattr(r, f"{what}_seconds") for r in self.runs[count])

    def series(self, what: str) -> tuple[list[float], list[float]]:
        return [float(c) for c in self.counts], [self.median(c, what) for c in self.counts]

    def fit(self, what: str) -> tuple[float, float, float]:
        return least_squares(*self.series(what))

    @property
    def largest(self) -> int:
        return self.counts[-1]

    def marginal_ratio(self, what: str = "wall") -> float:
        """(time(largest) - time(1)) / (time(10) - time(1))."""
        one = self.median(self.counts[0], what)
        return (self.median(self.largest, what) - one) / (self.median(10, what) - one)

    @property
    def linear_marginal(self) -> float:
        return (self.largest - self.counts[0]) / (10 - self.counts[0])

    def per_cluster(self, count: int, what: str) -> float:
        return (self.median(count, what) - self.median(self.counts[0], what)) / (count - self.counts[0])

    def drift(self, what: str = "cpu") -> float:
        """Per-cluster cost at the largest count over that at 10 (1.0 when exactly linear)."""
        return self.per_cluster(self.largest, what) / self.per_cluster(10, what)

    def linear(self, what: str) -> bool:
        return self.fit(what)[2] >= R2_MIN and abs(self.drift(what) - 1) <= PER_CLUSTER_DRIFT

    @property
    def time_linear(self) -> bool:
        """Judged on the CPU time of every process but the stand-in providers: wall time on a
        shared machine also holds waits for a core, and the stand-ins are not what a user runs."""
        return self.linear("product_cpu")


def _check(run: TimedRun, clusters: int) -> TimedRun:
    result = run.result.check()
    expected = 1 + RESOURCES_PER_CLUSTER * clusters
    if result.summary().get("to create") != expected:
        raise RuntimeError(f"{clusters} clusters: expected {expected} to create, got {result.summary()}")
    return run


def run(counts: tuple[int, ...] = COUNTS, repeats: int = 5) -> GrowthResult:
    if counts[0] != 1 or 10 not in counts or len(counts) < 3 or list(counts) != sorted(counts):
        raise ValueError(f"counts: expected ascending counts starting 1, 10, ..., got {counts}")
    cli = cli_dir()
    result = GrowthResult(counts, {c: [] for c in counts}, load_before=load_average())
    with tempfile.TemporaryDirectory(prefix="cmek-bench-growth-") as tmp, start_simulator(
        Path(tmp) / "simulator", "--fleet-clusters", str(counts[-1])
    ) as simulator, standin_backends(Path(tmp) / "standins") as backends:
        stacks = {
            c: program_workspace(Path(tmp) / f"n{c}", cli, simulator, backends, STACK_PROGRAM, fleet_stack_config(c))
            for c in counts
        }
        _check(timed(stacks[counts[0]], "preview"), counts[0])  # unmeasured: bytecode cache (same code for every N)
        for _ in range(repeats):
            for c in counts:
                result.runs[c].append(_check(timed(stacks[c], "preview"), c))
    result.load_after = load_average()
    return result


def report(result: GrowthResult) -> str:
    rows: list[list[object]] = []
    for c in result.counts:
        per = "-" if c == result.counts[0] else f"{result.per_cluster(c, 'wall') * 1000:.0f}"
        rows.append([c, 1 + RESOURCES_PER_CLUSTER * c, len(result.runs[c]), result.median(c), result.median(c, "cpu"),
                     result.median(c, "standin_cpu"), result.median(c, "product_cpu"), result.median(c, "program_cpu"), per,
                     ", ".join(f"{r.wall_seconds:.2f}" for r in result.runs[c])])
    lines = [
        f"### 6. Growth of a real `pulumi preview`: 1 to {result.largest} one-region AWS clusters (medians)",
        "",
        f"Load average before {result.load_before}, after {result.load_after}. One empty stack per count,"
        " counts interleaved; one unmeasured preview (N = 1) first.",
        "",
        table(["clusters", "resources", "runs", "wall s", "CPU s", "stand-ins CPU s", "CPU s without stand-ins",
               "program CPU s", "wall ms/cluster above N=1",
               "each run, wall s"], rows),
        "",
    ]
    for what, label in (("wall", "wall time"), ("cpu", "CPU time"), ("standin_cpu", "the stand-ins' CPU time"),
                        ("product_cpu", "CPU time without the stand-ins"),
                        ("program_cpu", "the program's own CPU time")):
        slope, intercept, r2 = result.fit(what)
        lines.append(
            f"- {label}: least-squares slope {slope * 1000:.0f} ms per cluster (intercept {intercept:.2f} s, r^2 {r2:.4f});"
            f" (time({result.largest}) - time(1)) / (time(10) - time(1)) = {result.marginal_ratio(what):.2f}"
            f" ({result.linear_marginal:.2f} if exactly linear)"
        )
    lines.append(
        f"- the program's own CPU time (diagnostic): {'linear' if result.linear('program_cpu') else 'NOT linear'}"
        f" (per-cluster at {result.largest} / at 10: {result.drift('program_cpu'):.2f}x)"
    )
    lines.append(
        f"- CPU time with the stand-ins (diagnostic): {'linear' if result.linear('cpu') else 'NOT linear'}"
        f" (per-cluster at {result.largest} / at 10: {result.drift('cpu'):.2f}x)"
    )
    lines.append(
        f"- growth of CPU time without the stand-ins: {verdict(result.time_linear)} as linear (per-cluster at"
        f" {result.largest} clusters / at 10: {result.drift('product_cpu'):.2f}x). Linear = r^2 >= {R2_MIN} and that"
        f" ratio within 1 +/- {PER_CLUSTER_DRIFT:g}."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Growth of a real pulumi preview with the number of clusters.")
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)), help="cluster counts (default 1,10,25,50)")
    parser.add_argument("--repeats", type=int, default=5, help="previews of each count (default 5)")
    args = parser.parse_args()
    counts = tuple(int(c) for c in args.counts.split(","))
    print(report(run(counts, args.repeats)))


if __name__ == "__main__":
    main()
