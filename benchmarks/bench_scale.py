"""Scale: 1, 10, 50 and 100 clusters with 6 regions each in one stack program.

    venv/bin/python benchmarks/bench_scale.py [--repeats 5] [--clouds aws,gcp]

Each cluster count runs ``--repeats`` times in its own fresh subprocess
(``benchmarks/program_child.py --clusters N --regions 6``: the stack program under Pulumi mocks
in preview mode, every cluster fact given, cluster ids are UUIDs). AWS clusters use the
component's default key mode, ``multi-region`` (one multi-region key in the first region, a
replica in each of the 5 others); GCP clusters one key ring and crypto key per region.

Prints the medians of wall time, CPU time and peak RSS per N; the cost per cluster above the
N = 1 run; the least-squares slope (seconds and MB per cluster) with its r squared; and the
ratios time(100) / time(10) and (time(100) - time(1)) / (time(10) - time(1)) (99 / 9 = 11.0
for exactly linear growth), for wall time and CPU time; the same for memory. Growth is called
linear here when r squared >= 0.99 and the per-cluster cost at N = 100 is within 25 % of that
at N = 10 (this script's criterion: the issue sets no number), judged on CPU time (wall time on
a shared machine also holds the waits for a core) and on peak RSS.

The "in GC s" column is the time the child spent in Python's cyclic garbage collector
(``gc.callbacks``). A last, diagnostic series repeats the first cloud with the collector off
(``program_child.py --no-gc``) to show how much of any growth beyond linear comes from it.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass

from measure import PYTHON, Sample, Summary, least_squares, run_measured, summarize, table

COUNTS = (1, 10, 50, 100)
REGIONS = 6
R2_MIN = 0.99
PER_CLUSTER_DRIFT = 0.25


@dataclass(frozen=True)
class Point:
    clusters: int
    summary: Summary
    resources: int
    gc_seconds: float
    """Median time in the cyclic garbage collector (all generations)."""
    gc_full_collections: int


@dataclass(frozen=True)
class ScaleResult:
    cloud: str
    gc: bool
    points: list[Point]

    @property
    def label(self) -> str:
        mode = "AWS, key_mode multi-region" if self.cloud == "aws" else "GCP, one key ring + crypto key per region"
        return mode if self.gc else f"{mode}, diagnostic run with the garbage collector off (--no-gc)"

    def series(self, what: str) -> tuple[list[float], list[float]]:
        xs = [float(p.clusters) for p in self.points]
        ys = [float(getattr(p.summary, what)) for p in self.points]
        return xs, ys

    def at(self, count: int) -> Summary:
        return next(p.summary for p in self.points if p.clusters == count)

    def per_cluster(self, count: int, what: str) -> float:
        base = self.points[0]
        return (getattr(self.at(count), what) - getattr(base.summary, what)) / (count - base.clusters)

    def ratio(self, what: str = "wall_seconds") -> float:
        """what(100) / what(10)."""
        return float(getattr(self.at(100), what) / getattr(self.at(10), what))

    def marginal_ratio(self, what: str = "wall_seconds") -> float:
        """(what(100) - what(1)) / (what(10) - what(1)): 99 / 9 = 11 when exactly linear."""
        one = getattr(self.at(1), what)
        return float((getattr(self.at(100), what) - one) / (getattr(self.at(10), what) - one))

    def fit(self, what: str) -> tuple[float, float, float]:
        return least_squares(*self.series(what))

    def drift(self, what: str) -> float:
        """Per-cluster cost at N = 100 over that at N = 10 (1.0 when exactly linear)."""
        return self.per_cluster(100, what) / self.per_cluster(10, what)

    def linear(self, what: str) -> bool:
        return self.fit(what)[2] >= R2_MIN and abs(self.drift(what) - 1) <= PER_CLUSTER_DRIFT

    @property
    def time_linear(self) -> bool:
        """Judged on CPU time: wall time on a shared machine also holds waits for a core."""
        return self.linear("cpu_seconds")

    @property
    def memory_linear(self) -> bool:
        return self.linear("peak_rss_mb")


def command(cloud: str, clusters: int, gc: bool = True) -> list[str]:
    extra = [] if gc else ["--no-gc"]
    return [PYTHON, "benchmarks/program_child.py", "--cloud", cloud, "--clusters", str(clusters), "--regions", str(REGIONS), *extra]


def measure_cloud(cloud: str, repeats: int, gc: bool = True) -> ScaleResult:
    run_measured(command(cloud, 1, gc))  # warm the file cache and bytecode
    samples: dict[int, list[Sample]] = {n: [] for n in COUNTS}
    for _ in range(repeats):  # interleaved, so drift in machine load spreads over every N
        for n in COUNTS:
            samples[n].append(run_measured(command(cloud, n, gc)))
    points: list[Point] = []
    for n in COUNTS:
        outputs = [json.loads(sample.stdout) for sample in samples[n]]
        points.append(
            Point(
                clusters=n,
                summary=summarize(f"{n} clusters", samples[n]),
                resources=outputs[-1]["resources"],
                gc_seconds=statistics.median(o["gc_seconds"] for o in outputs),
                gc_full_collections=outputs[-1]["gc_full_collections"],
            )
        )
    return ScaleResult(cloud, gc, points)


def run(repeats: int = 5, clouds: tuple[str, ...] = ("aws", "gcp"), diagnose_gc: bool = True) -> list[ScaleResult]:
    results = [measure_cloud(cloud, repeats) for cloud in clouds]
    if diagnose_gc:
        results.append(measure_cloud(clouds[0], repeats, gc=False))
    return results


def report(results: list[ScaleResult]) -> str:
    lines = [f"### 2. Scale: N clusters x {REGIONS} regions in one program (medians)", ""]
    for result in results:
        rows: list[list[object]] = []
        for point in result.points:
            n, summary = point.clusters, point.summary
            per_time = per_memory = "-"
            if n > 1:
                per_time = f"{result.per_cluster(n, 'wall_seconds') * 1000:.1f}"
                per_memory = f"{result.per_cluster(n, 'peak_rss_mb'):.3f}"
            gc_column = f"{point.gc_seconds:.3f} ({point.gc_full_collections} full)" if result.gc else "off"
            rows.append([n, point.resources, summary.runs, summary.wall_seconds, summary.cpu_seconds, gc_column,
                         summary.peak_rss_mb, per_time, per_memory])
        lines += [
            f"{result.label}:",
            "",
            table(["clusters", "resources", "runs", "wall s", "CPU s", "in GC s", "peak RSS MB",
                   "ms/cluster above N=1", "MB/cluster above N=1"], rows),
            "",
        ]
        for what, label, unit, scale in (("wall_seconds", "wall time", "ms", 1000.0), ("cpu_seconds", "CPU time", "ms", 1000.0)):
            slope, intercept, r2 = result.fit(what)
            lines.append(
                f"- {label}: least-squares slope {slope * scale:.1f} {unit} per cluster (intercept {intercept:.3f} s, "
                f"r^2 {r2:.4f}); {label}(100) / {label}(10) = {result.ratio(what):.2f}; "
                f"({label}(100) - {label}(1)) / ({label}(10) - {label}(1)) = {result.marginal_ratio(what):.2f} "
                "(11.0 if exactly linear)"
            )
        m_slope, m_intercept, m_r2 = result.fit("peak_rss_mb")
        lines += [
            f"- memory: least-squares slope {m_slope:.3f} MB per cluster (intercept {m_intercept:.1f} MB, r^2 {m_r2:.4f}); "
            f"RSS(100) / RSS(10) = {result.ratio('peak_rss_mb'):.2f}; marginal ratio {result.marginal_ratio('peak_rss_mb'):.2f}",
            f"- growth of CPU time: {'linear' if result.time_linear else 'NOT linear'} "
            f"(per-cluster CPU time at 100 clusters / at 10: {result.drift('cpu_seconds'):.2f}x); "
            f"of memory: {'linear' if result.memory_linear else 'NOT linear'} "
            f"(per-cluster MB at 100 / at 10: {result.drift('peak_rss_mb'):.2f}x). "
            f"Linear = r^2 >= {R2_MIN} and that ratio within 1 +/- {PER_CLUSTER_DRIFT:g}.",
            "",
        ]
    return "\n".join(lines).rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description="Program cost for 1 to 100 clusters.")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clouds", default="aws,gcp", help="comma-separated: aws, gcp")
    parser.add_argument("--no-gc-diagnostic", action="store_true", help="skip the run with the garbage collector off")
    args = parser.parse_args()
    print(report(run(args.repeats, tuple(args.clouds.split(",")), not args.no_gc_diagnostic)))


if __name__ == "__main__":
    main()
