"""Many activations in one stack, through the real CLI and the real dynamic-provider host.

The host serves every dynamic resource of a stack from one process whose gRPC pool has 4
workers; each activation holds one while it waits for ENABLED. ``cmek_component.activation.dynamic_host``
widens that pool. Measured here in one run: a stack of 12 activations against a stack of one,
both against a simulator whose enable takes 60 s.

Both runs pass ``--parallel 16``: the CLI itself runs at most 4 x cores operations at once
(``--parallel``, ``PULUMI_PARALLEL``), 8 on these 2-core machines, which is the engine's own
limit and the user's knob (the README says so), not the host's.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from .conftest import fleet_activation, make_stack, start_simulator

ENABLE_SECONDS = 60
FLEET = 12


def timed_up(tmp: Path, cli: Path, count: int) -> tuple[float, list[str]]:
    with start_simulator(tmp, "--enable-seconds", str(ENABLE_SECONDS), "--fleet-clusters", str(count)) as sim:
        stack = make_stack(tmp, cli, sim)
        stack.set_activations([fleet_activation(i) for i in range(count)])
        started = time.monotonic()
        stack.up("--parallel", "16").check()
        elapsed = time.monotonic() - started
        statuses = [sim.cmek(a["cluster_id"])["status"] for a in stack.activations]
        posts = [r["at"] for r in sim.recorded() if r["method"] == "POST"]
        assert len(posts) == count
        # One wave: every enable was sent before the first one could have finished.
        assert _seconds_apart(min(posts), max(posts)) < ENABLE_SECONDS / 2, posts
    return elapsed, statuses


def _seconds_apart(first: str, last: str) -> float:
    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(last) - parse(first)).total_seconds()


def test_twelve_activations_take_at_most_one_and_a_half_times_one(tmp_path: Path, pulumi_cli: Path) -> None:
    one, one_status = timed_up(tmp_path / "one", pulumi_cli, 1)
    twelve, twelve_status = timed_up(tmp_path / "twelve", pulumi_cli, FLEET)
    print(f"one activation: {one:.1f} s; {FLEET} activations: {twelve:.1f} s; ratio {twelve / one:.2f}")
    assert one_status == ["ENABLED"]
    assert twelve_status == ["ENABLED"] * FLEET
    assert twelve <= 1.5 * one, f"{FLEET} activations took {twelve:.1f} s, one took {one:.1f} s"
