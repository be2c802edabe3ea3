"""Fleet: 100 clusters activating in parallel threads of one process, 10 requests per second.

    venv/bin/python benchmarks/bench_fleet.py [--clusters 100] [--enable-seconds 3]

One Cloud API simulator on the real clock (``SimulatorSettings(enable_seconds=3,
rate_limit_per_second=10)``: its token bucket answers 429 + Retry-After beyond 10 requests per
second per key) behind a real local socket, seeded with ``--clusters`` extra eligible AWS
clusters (ADVANCED, PRIVATE, CREATED, 3 regions; ids are UUIDs). There is no public way to add
clusters to the simulator, so they are put into ``simulator.world.clusters`` before the server
starts (``ClusterRecord.from_seed``).

One thread per cluster runs ``CmekActivationProvider.create`` (configured as the plugin host
configures it, one API key for all) for its cluster with its own keys; the provider's runtime
is the production one (real clock and sleep, a new ``CloudApiClient`` per operation, so every
client of the process shares the per-key rate limiter) except that its log lines are collected
instead of going to ``pulumi.log``. Each activation waits at most ``wait_timeout_seconds`` =
600 s and the whole run is abandoned after 900 s, so the script always stops by itself.

Reported: failed activations, rate-limit errors surfacing to the user (failures or log lines
mentioning a rate limit), 429 answers the simulator gave (retried by the client if any), total
requests, the largest number of requests the simulator received in any 1-second window (from
the arrival times in its request record), the mean rate, total wall time, and how long after
ENABLED each create returned. Targets: zero failures, zero rate-limit errors surfacing, never
more than 10 requests in any 1-second window.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from measure import table, verdict
from pulumi.dynamic import Config, ConfigureRequest

from cmek_component.activation import CmekActivationProvider, ProviderRuntime, use_runtime
from cmek_component.simulator import (
    SEED_API_KEY,
    Simulator,
    SimulatorServer,
    SimulatorSettings,
    seeds,
)
from cmek_component.simulator.model import ClusterRecord
from cmek_component.simulator.seeds import ClusterSeed

LIMIT_PER_SECOND = 10
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
WAIT_TIMEOUT_SECONDS = 600
RUN_DEADLINE_SECONDS = 900.0
_IDS = uuid.UUID("5b0f3e9c-1d7a-4f2e-8c6b-9a4d2e1f0b37")


def fleet_cluster_id(index: int) -> str:
    return str(uuid.uuid5(_IDS, f"fleet-{index}"))


def add_fleet(simulator: Simulator, count: int) -> list[str]:
    """Adds ``count`` eligible three-region AWS clusters (before the server serves)."""
    now = simulator.clock.now()
    ids = []
    for index in range(count):
        cluster_id = fleet_cluster_id(index)
        seed = ClusterSeed(cluster_id, f"fleet-{index:03d}", "AWS", "ADVANCED", "PRIVATE", "CREATED",
                           f"5480{index:08d}", tuple((region, 3) for region in REGIONS))
        simulator.world.clusters[cluster_id] = ClusterRecord.from_seed(seed, now)
        ids.append(cluster_id)
    return ids


def fleet_region_specs(index: int) -> list[dict[str, object]]:
    role = seeds.aws_role_arn(f"crdb-cmek-fleet-{index:03d}")
    return [
        {"region": region, "key_spec": {"type": "AWS_KMS", "uri": seeds.aws_key_arn(region, generation=index + 1), "auth_principal": role}}
        for region in REGIONS
    ]


@dataclass
class Outcome:
    cluster_id: str
    started: float = 0.0
    finished: float | None = None
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
    delays_after_enabled: list[float] = field(default_factory=list)
    unfinished: int = 0

    @property
    def failures(self) -> int:
        return sum(o.error is not None or o.status != "ENABLED" for o in self.outcomes)


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
    return "rate limit" in lowered or "429" in lowered or "ratelimited" in lowered


def run(clusters: int = 100, enable_seconds: float = 3.0) -> FleetRun:
    settings = SimulatorSettings(enable_seconds=enable_seconds, rate_limit_per_second=LIMIT_PER_SECOND)
    simulator = Simulator(settings)  # real clock
    ids = add_fleet(simulator, clusters)
    lines: list[str] = []
    lines_lock = threading.Lock()

    def collect(line: str) -> None:
        with lines_lock:
            lines.append(line)

    runtime = ProviderRuntime(info=collect, warn=collect)  # production clock, sleep and client
    outcomes = [Outcome(cluster_id) for cluster_id in ids]
    with SimulatorServer(simulator) as server, use_runtime(runtime):
        config = Config({"cockroach:apiKey": SEED_API_KEY, "cockroach:apiUrl": server.url}, "cmek")
        gate = threading.Barrier(clusters + 1)

        def activate(index: int) -> None:
            outcome = outcomes[index]
            provider = CmekActivationProvider()
            provider.configure(ConfigureRequest(config))
            props = {"cluster_id": outcome.cluster_id, "region_specs": fleet_region_specs(index),
                     "wait_timeout_seconds": WAIT_TIMEOUT_SECONDS}
            gate.wait()
            outcome.started = time.time()
            try:
                result = provider.create(props)
                outcome.status = str((result.outs or {}).get("status"))
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                outcome.error = f"{type(exc).__name__}: {exc}"
            finally:
                outcome.finished = time.time()

        threads = [threading.Thread(target=activate, args=(i,), daemon=True, name=f"fleet-{i}") for i in range(clusters)]
        for thread in threads:
            thread.start()
        gate.wait()
        start = time.time()
        deadline = time.monotonic() + RUN_DEADLINE_SECONDS
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        unfinished = sum(thread.is_alive() for thread in threads)
        wall = max((o.finished for o in outcomes if o.finished is not None), default=time.time()) - start
    records = simulator.requests
    arrivals = [_epoch(r.at) for r in records]
    busiest, window_start = max_in_window(arrivals)
    by_method: dict[str, int] = {}
    for record in records:
        by_method[record.method] = by_method.get(record.method, 0) + 1
    posts = {r.path.split("/")[4]: _epoch(r.at) for r in records if r.method == "POST" and r.status == 200}
    delays = [o.finished - (posts[o.cluster_id] + enable_seconds)
              for o in outcomes if o.finished is not None and o.cluster_id in posts and o.error is None]
    surfaced = [o.error for o in outcomes if o.error and _mentions_rate_limit(o.error)]
    surfaced += [line for line in lines if _mentions_rate_limit(line)]
    return FleetRun(
        clusters=clusters,
        enable_seconds=enable_seconds,
        wall_seconds=wall,
        outcomes=outcomes,
        requests=len(records),
        requests_by_method=by_method,
        rate_limited_answers=sum(r.status == 429 for r in records),
        max_in_one_second=busiest,
        busiest_window_start=window_start - (arrivals[0] if arrivals else 0.0),
        surfaced_rate_limit=surfaced,
        delays_after_enabled=delays,
        unfinished=unfinished,
    )


def report(result: FleetRun) -> str:
    durations = [o.finished - o.started for o in result.outcomes if o.finished is not None]
    rows: list[list[object]] = [
        ["clusters activated in parallel threads", result.clusters, ""],
        ["simulated enable duration (s)", f"{result.enable_seconds:g}", ""],
        ["failed activations", result.failures, verdict(result.failures == 0)],
        ["threads still running at the deadline", result.unfinished, verdict(result.unfinished == 0)],
        ["rate-limit errors surfacing to the user", len(result.surfaced_rate_limit), verdict(not result.surfaced_rate_limit)],
        ["429 answers from the simulator", result.rate_limited_answers, ""],
        ["total requests", result.requests, ", ".join(f"{m} {n}" for m, n in sorted(result.requests_by_method.items()))],
        ["max requests in any 1-second window", result.max_in_one_second,
         f"limit {LIMIT_PER_SECOND}: {verdict(result.max_in_one_second <= LIMIT_PER_SECOND)}"],
        ["mean request rate (requests / s)", f"{result.requests / result.wall_seconds:.2f}", ""],
        ["total wall time (s)", f"{result.wall_seconds:.1f}", ""],
        ["per-activation time: median / max (s)",
         f"{statistics.median(durations):.1f} / {max(durations):.1f}" if durations else "-", ""],
        ["create returned after ENABLED: median / max (s)",
         f"{statistics.median(result.delays_after_enabled):.1f} / {max(result.delays_after_enabled):.1f}"
         if result.delays_after_enabled else "-", ""],
    ]
    lines = ["### 4. Fleet: parallel activations against a 10 requests/s limit", "", table(["figure", "value", "target / detail"], rows)]
    errors = [o.error for o in result.outcomes if o.error]
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
