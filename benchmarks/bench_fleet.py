"""Fleet: 100 activations in one stack, through the real Pulumi CLI, against 10 requests/s.

    venv/bin/python benchmarks/bench_fleet.py [--clusters 100] [--enable-seconds 3]

The standalone simulator (``python -m cmek_component.simulator --fleet-clusters N
--rate-limit-per-second 10``: its token bucket answers 429 + Retry-After beyond 10 requests per
second per key, on the real clock) and one stack of ``programs/activations.py`` declaring one
``CmekActivation`` per fleet cluster (one region each, its own role). One ``pulumi up
--parallel <N+8>`` of the real CLI (``scripts/pulumi-cli.sh``, through ``engine_support``) runs
them all in the real dynamic-provider host, whose activations share the client's per-key rate
limiter. The run is abandoned after 900 s, so the script always stops by itself.

Reported: failed activations (CLI exit status and each cluster's CMEK status), rate-limit errors
shown to the user (CLI output mentioning a rate limit), 429 answers the simulator gave, total
requests, the largest number of requests in any 1-second window (from the arrival times in the
simulator's request record), total time of ``pulumi up``, and the floor: the requests the run
needed at 10 per second. Targets: zero failures, zero rate-limit errors shown, never more than
10 requests in any 1-second window; the ratio of time to floor is reported.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from engine_support import (
    ACTIVATIONS_PROGRAM,
    fleet_activation,
    program_workspace,
    set_activations,
    start_simulator,
)
from measure import table, verdict

from cmek_component.pulumi_cli.workspace import cli_dir

LIMIT_PER_SECOND = 10
WAIT_TIMEOUT_SECONDS = 600
RUN_DEADLINE_SECONDS = 900.0


@dataclass
class Outcome:
    cluster_id: str
    status: str | None = None
    error: str | None = None


@dataclass
class FleetRun:
    clusters: int
    enable_seconds: float
    wall_seconds: float
    outcomes: list[Outcome]
    requests: int
    requests_by_method: dict[str, int]
    rate_limited_answers: int
    max_in_one_second: int
    busiest_window_start: float
    surfaced_rate_limit: list[str]
    cli_exit_code: int = 0
    unfinished: int = 0
    cli_version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(o.error is not None or o.status != "ENABLED" for o in self.outcomes)

    @property
    def floor_seconds(self) -> float:
        """The requests this run needed, sent at the limit."""
        return self.requests / LIMIT_PER_SECOND


def max_in_window(times: list[float], window: float = 1.0) -> tuple[int, float]:
    """The largest number of ``times`` within any half-open window ``[t, t + window)``, and its start."""
    ordered = sorted(times)
    best, start, first = 0, 0.0, 0
    for last, t in enumerate(ordered):
        while ordered[first] <= t - window:
            first += 1
        if last - first + 1 > best:
            best, start = last - first + 1, ordered[first]
    return best, start


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _mentions_rate_limit(text: str) -> bool:
    lowered = text.lower()
    return "rate limit" in lowered or "ratelimited" in lowered or re.search(r"(?<![0-9.])429(?![0-9])", lowered) is not None


def run(clusters: int = 100, enable_seconds: float = 3.0) -> FleetRun:
    cli = cli_dir()
    with tempfile.TemporaryDirectory(prefix="cmek-fleet-") as tmp, start_simulator(
        Path(tmp), "--fleet-clusters", str(clusters), "--enable-seconds", f"{enable_seconds:g}",
        "--rate-limit-per-second", str(LIMIT_PER_SECOND),
    ) as sim:
        workspace = program_workspace(Path(tmp), cli, sim, None, ACTIVATIONS_PROGRAM, {}, name="cmek-fleet")
        activations = [fleet_activation(i, wait_timeout_seconds=WAIT_TIMEOUT_SECONDS) for i in range(clusters)]
        set_activations(workspace, activations)
        started = time.monotonic()
        result = workspace.run(
            "up", "--yes", "--skip-preview", "--parallel", str(clusters + 8), timeout=RUN_DEADLINE_SECONDS
        )
        wall = time.monotonic() - started
        records = sim.recorded()
        outputs = json.loads(workspace.run("stack", "output", "--json").check().stdout) if result.returncode == 0 else {}
        outcomes = [Outcome(a["cluster_id"], status=outputs.get(f"{a['name']}_status")) for a in activations]
        version = workspace.run("version").stdout.strip()
    arrivals = [_epoch(r["at"]) for r in records]
    busiest, window_start = max_in_window(arrivals)
    by_method: dict[str, int] = {}
    for record in records:
        by_method[record["method"]] = by_method.get(record["method"], 0) + 1
    surfaced = [line.strip() for line in result.output.splitlines() if _mentions_rate_limit(line)]
    return FleetRun(
        clusters=clusters,
        enable_seconds=enable_seconds,
        wall_seconds=wall,
        outcomes=outcomes,
        requests=len(records),
        requests_by_method=by_method,
        rate_limited_answers=sum(r["status"] == 429 for r in records),
        max_in_one_second=busiest,
        busiest_window_start=window_start - (min(arrivals) if arrivals else 0.0),
        surfaced_rate_limit=surfaced,
        cli_exit_code=result.returncode,
        cli_version=version,
        notes=[] if result.returncode == 0 else [result.output[-2000:]],
    )


def report(result: FleetRun) -> str:
    rows: list[list[object]] = [
        ["activations in one stack (`pulumi up`)", result.clusters, f"real CLI {result.cli_version}"],
        ["simulated enable duration (s)", f"{result.enable_seconds:g}", ""],
        ["`pulumi up` exit code", result.cli_exit_code, verdict(result.cli_exit_code == 0)],
        ["failed activations", result.failures, verdict(result.failures == 0)],
        ["rate-limit errors shown to the user", len(result.surfaced_rate_limit), verdict(not result.surfaced_rate_limit)],
        ["429 answers from the simulator", result.rate_limited_answers, ""],
        ["total requests", result.requests, ", ".join(f"{m} {n}" for m, n in sorted(result.requests_by_method.items()))],
        ["max requests in any 1-second window", result.max_in_one_second,
         f"limit {LIMIT_PER_SECOND}: {verdict(result.max_in_one_second <= LIMIT_PER_SECOND)}"],
        ["floor: total requests / 10 per s (s)", f"{result.floor_seconds:.1f}", ""],
        ["total time of `pulumi up` (s)", f"{result.wall_seconds:.1f}",
         f"{result.wall_seconds / result.floor_seconds:.2f}x the floor" if result.requests else ""],
    ]
    lines = ["### 4. Fleet: one stack of activations through the real CLI, 10 requests/s",
             "", table(["figure", "value", "target / detail"], rows)]
    errors = [o.error for o in result.outcomes if o.error] + result.notes
    if errors:
        lines += ["", "First failures:", *[f"- {e}" for e in errors[:5]]]
    if result.surfaced_rate_limit:
        lines += ["", "Rate-limit messages seen by the user:", *[f"- {m}" for m in result.surfaced_rate_limit[:5]]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Parallel activations against the rate-limited simulator.")
    parser.add_argument("--clusters", type=int, default=100)
    parser.add_argument("--enable-seconds", type=float, default=3.0)
    args = parser.parse_args()
    print(report(run(args.clusters, args.enable_seconds)))


if __name__ == "__main__":
    main()
