"""Many activations in one stack through the plugin: the custom resource
``cockroach-cmek:index:CmekActivation`` served by one plugin process, on the real CLI.

The same measure as ``test_activation_concurrency.py`` (the dynamic provider): a stack of 12
activations against a stack of one, in one run, against a simulator whose enable takes 60 s,
both with ``--parallel 16`` (the engine's own limit is 4 x cores, 8 here). The plugin runs each
activation's Cloud API calls and waits in its own pool (``plugin/provider.py``, ``WORKERS``), so
the twelve wait at once: one wave of POSTs, and the stack done in at most 1.5 times one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from cmek_component.pulumi_cli.workspace import REPO, Workspace

from .conftest import CANARY_KEY, fleet_activation, start_simulator
from .test_activation_concurrency import ENABLE_SECONDS, FLEET, _seconds_apart

TOKEN = "cockroach-cmek:index:CmekActivation"


def program(directory: Path, count: int) -> Path:
    """A YAML program of ``count`` activations of the simulator's fleet clusters (one region each)."""
    resources: dict[str, Any] = {}
    for index in range(count):
        activation = fleet_activation(index)
        resources[activation["name"]] = {
            "type": TOKEN,
            "properties": {"clusterId": activation["cluster_id"], "regionSpecs": activation["region_specs"]},
        }
    directory.mkdir(parents=True)
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump({
        "name": "cmek-plugin-fleet", "runtime": "yaml", "packages": {"cockroach-cmek": str(REPO / "provider")},
        "resources": resources,
    }, sort_keys=False))
    return directory


def timed_up(tmp: Path, cli: Path, count: int) -> tuple[float, list[str]]:
    with start_simulator(tmp, "--enable-seconds", str(ENABLE_SECONDS), "--fleet-clusters", str(count)) as sim:
        workspace = Workspace(program(tmp / "program", count), tmp / "state", stack="dev", cli=cli)
        workspace.init_stack(config={"cockroach-cmek:apiUrl": sim.url}, secrets={"cockroach-cmek:apiKey": CANARY_KEY})
        started = time.monotonic()
        done = workspace.run("up", "--yes", "--skip-preview", "--parallel", "16").check()
        elapsed = time.monotonic() - started
        assert done.summary() == {"created": count + 1}, done.stdout[-2000:]
        statuses = [sim.cmek(fleet_activation(i)["cluster_id"])["status"] for i in range(count)]
        posts = [r["at"] for r in sim.recorded() if r["method"] == "POST"]
        assert len(posts) == count
        # One wave: every enable was sent before the first one could have finished.
        assert _seconds_apart(min(posts), max(posts)) < ENABLE_SECONDS / 2, posts
    return elapsed, statuses


def test_twelve_plugin_activations_take_at_most_one_and_a_half_times_one(tmp_path: Path, pulumi_cli: Path) -> None:
    one, one_status = timed_up(tmp_path / "one", pulumi_cli, 1)
    twelve, twelve_status = timed_up(tmp_path / "twelve", pulumi_cli, FLEET)
    print(f"plugin: one activation: {one:.1f} s; {FLEET} activations: {twelve:.1f} s; ratio {twelve / one:.2f}")
    assert one_status == ["ENABLED"]
    assert twelve_status == ["ENABLED"] * FLEET
    assert twelve <= 1.5 * one, f"{FLEET} activations took {twelve:.1f} s, one took {one:.1f} s"
