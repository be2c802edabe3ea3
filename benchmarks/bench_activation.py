"""Activation: GET requests and notice delay for a simulated 10-minute enable.

    venv/bin/python benchmarks/bench_activation.py [--enable-seconds 600 30 3600]

For each enable duration, in this process: a Cloud API simulator on a simulated clock
(``ManualClock``, ``SimulatorSettings(enable_seconds=...)``, rate limit on) behind a real local
socket, and ``CmekActivationProvider`` configured as the plugin host configures it, running
``create`` for the seeded three-region AWS cluster. The provider's runtime hook
(``activation.use_runtime``) makes every wait of the provider and of its API client advance the
simulated clock instead of sleeping, so 10 simulated minutes take well under a second and the
figures are exact.

Measured: GET requests (all, and the ``GET .../cmek`` polls after the POST), and the delay
between the simulator reaching ENABLED (POST arrival + ``enable_seconds``, cross-checked with
the ``updated_at`` the simulator stamps on the keys) and ``create`` returning.

Beside it, the Terraform provider's polling schedule for the same enable, computed here: a
first poll right after the POST, then waits of 0.5, 1, 2, 4, 8 and then 10 s
(terraform-plugin-sdk ``retry``: 0.5 s doubling to a 10 s cap). Its GET count is the number of
polls up to the first at or after ENABLED, its delay the time from ENABLED to that poll.

Target: delay at most 5 seconds (for the 600 s enable; the other durations are shown too).
Because the delay depends on where ENABLED falls between two polls, a sweep of 20 enable
durations from 600 to 609.5 s (0.5 s steps) reports the mean and the largest delay.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from measure import table, verdict
from pulumi.dynamic import Config, ConfigureRequest

from cmek_component.activation.dynamic import CmekActivationProvider, ProviderRuntime, use_runtime
from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.simulator import (
    SEED_API_KEY,
    ManualClock,
    Simulator,
    SimulatorServer,
    SimulatorSettings,
    seeds,
)

TARGET_DELAY_SECONDS = 5.0
MAIN_ENABLE_SECONDS = 600.0
CLUSTER = seeds.AWS_MULTI


def terraform_poll_times(until: float) -> list[float]:
    """Terraform's poll times after the POST (0 = right after it), up to the first at or after ``until``."""
    times, wait = [0.0], 0.5
    while times[-1] < until:
        times.append(times[-1] + wait)
        wait = min(wait * 2, 10.0)
    return times


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


@dataclass(frozen=True)
class EnableRun:
    enable_seconds: float
    get_requests: int
    cmek_polls: int
    requests: int
    delay_seconds: float
    enabled_at_checked: bool
    progress_lines: int
    terraform_polls: int
    terraform_delay_seconds: float


def measure_enable(enable_seconds: float) -> EnableRun:
    """One simulated enable of ``enable_seconds`` (see the module docstring)."""
    simulator = Simulator(SimulatorSettings(enable_seconds=enable_seconds), clock=ManualClock())
    infos: list[str] = []
    warnings: list[str] = []

    def make_client(api_key: str | None, api_url: str | None, sleep: Callable[[float], None], clock: Callable[[], float]) -> CloudApiClient:
        return CloudApiClient(api_key, api_url, sleep=sleep, clock=clock)

    runtime = ProviderRuntime(
        clock=simulator.clock.now, sleep=simulator.advance, make_client=make_client, info=infos.append, warn=warnings.append
    )
    with SimulatorServer(simulator) as server:
        provider = CmekActivationProvider()
        provider.configure(ConfigureRequest(Config({"cockroach:apiKey": SEED_API_KEY, "cockroach:apiUrl": server.url}, "cmek")))
        with use_runtime(runtime):
            result = provider.create({"cluster_id": CLUSTER, "region_specs": seeds.region_specs(CLUSTER)})
        finished = simulator.clock.now()
        cmek = simulator.cmek(CLUSTER)
    assert result.outs is not None and result.outs["status"] == "ENABLED", result.outs
    requests = simulator.requests
    [post] = [r for r in requests if r.method == "POST"]
    enabled_at = _epoch(post.at) + enable_seconds
    assert cmek is not None
    stamped = {_epoch(key["updated_at"]) for region in cmek["region_infos"] for key in region["key_infos"]}
    after_post = requests[requests.index(post) + 1 :]
    terraform = terraform_poll_times(enable_seconds)
    return EnableRun(
        enable_seconds=enable_seconds,
        get_requests=sum(r.method == "GET" for r in requests),
        cmek_polls=sum(r.method == "GET" and r.path.endswith("/cmek") for r in after_post),
        requests=len(requests),
        delay_seconds=finished - enabled_at,
        enabled_at_checked=all(abs(t - enabled_at) < 1e-3 for t in stamped),
        progress_lines=len(infos),
        terraform_polls=len(terraform),
        terraform_delay_seconds=terraform[-1] - enable_seconds,
    )


SWEEP = tuple(MAIN_ENABLE_SECONDS + 0.5 * step for step in range(20))
"""600, 600.5, ... 609.5 s: the delay depends on where ENABLED falls between two polls."""


@dataclass(frozen=True)
class ActivationResult:
    runs: list[EnableRun]
    sweep: list[EnableRun]


def run(durations: tuple[float, ...] = (MAIN_ENABLE_SECONDS, 30.0, 3600.0), sweep: tuple[float, ...] = SWEEP) -> ActivationResult:
    return ActivationResult([measure_enable(seconds) for seconds in durations], [measure_enable(s) for s in sweep])


def report(result: ActivationResult) -> str:
    runs = result.runs
    rows: list[list[Any]] = []
    for r in runs:
        rows.append([
            f"{r.enable_seconds:g}",
            r.requests,
            r.get_requests,
            r.cmek_polls,
            f"{r.delay_seconds:.2f}",
            r.terraform_polls,
            f"{r.terraform_delay_seconds:.2f}",
            f"{r.cmek_polls / r.terraform_polls:.2f}",
            r.progress_lines,
        ])
    lines = [
        "### 3. Activation: one simulated enable (AWS cluster, 3 regions)",
        "",
        table(
            ["enable s", "requests", "GETs", "GET cmek polls after POST", "delay after ENABLED s",
             "Terraform polls", "Terraform delay s", "polls ours / Terraform", "progress lines"],
            rows,
        ),
        "",
    ]
    main = next((r for r in runs if r.enable_seconds == MAIN_ENABLE_SECONDS), runs[0])
    worst = max(r.delay_seconds for r in runs)
    lines.append(
        f"- {main.enable_seconds:g} s enable: create returned {main.delay_seconds:.2f} s after ENABLED "
        f"(target <= {TARGET_DELAY_SECONDS:g} s: {verdict(main.delay_seconds <= TARGET_DELAY_SECONDS)}); "
        f"Terraform's schedule: {main.terraform_delay_seconds:.2f} s. Largest delay over all durations: {worst:.2f} s."
    )
    lines.append(
        f"- GET requests: {main.get_requests} in all ({main.get_requests - main.cmek_polls} before the POST), "
        f"{main.cmek_polls} polls after it, against Terraform's {main.terraform_polls} polls: "
        f"ratio {main.cmek_polls / main.terraform_polls:.2f}. The POST's own answer counts as the first poll here; "
        "Terraform's count includes its first poll right after the POST."
    )
    if result.sweep:
        ours = [r.delay_seconds for r in result.sweep]
        theirs = [r.terraform_delay_seconds for r in result.sweep]
        lines.append(
            f"- Sweep of {len(result.sweep)} enable durations from {result.sweep[0].enable_seconds:g} to "
            f"{result.sweep[-1].enable_seconds:g} s in 0.5 s steps (where ENABLED falls between two polls): delay "
            f"mean {statistics.fmean(ours):.2f} s, max {max(ours):.2f} s "
            f"(target <= {TARGET_DELAY_SECONDS:g} s: {verdict(max(ours) <= TARGET_DELAY_SECONDS)}); "
            f"Terraform's schedule mean {statistics.fmean(theirs):.2f} s, max {max(theirs):.2f} s."
        )
    checked = all(r.enabled_at_checked for r in [*runs, *result.sweep])
    lines.append(f"- ENABLED time cross-checked with the keys' updated_at stamps: {'yes' if checked else 'NO (mismatch)'}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="GET requests and notice delay of a simulated enable.")
    parser.add_argument("--enable-seconds", type=float, nargs="+", default=[MAIN_ENABLE_SECONDS, 30.0, 3600.0])
    parser.add_argument("--no-sweep", action="store_true", help="skip the 600-609.5 s sweep")
    args = parser.parse_args()
    print(report(run(tuple(args.enable_seconds), () if args.no_sweep else SWEEP)))


if __name__ == "__main__":
    main()
