"""``--journal``: the simulator's world survives a restart (the rehearsal runs one process per step)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.test import Client

from cmek_component.simulator import ManualClock, Simulator, SimulatorSettings, seeds
from cmek_component.simulator.journal import JournalError, RequestJournal

from .test_simulator_standalone import REPO, read_line


def simulator(path: Path, clock: ManualClock, key: str, **settings: Any) -> Simulator:
    return Simulator(SimulatorSettings(api_keys={key: "CLUSTER_ADMIN"}, rate_limit_per_second=None, **settings),
                     clock, journal=RequestJournal.open(path))


def call(sim: Simulator, key: str, method: str, path: str, body: Any = None) -> Any:
    response = Client(sim).open(
        f"/api/v1/{path}", method=method, json=body,
        headers={"Authorization": f"Bearer {key}", "Cc-Version": "2024-09-16"},
    )
    return response.status_code, response.get_json()


def enable(sim: Simulator, key: str) -> int:
    status, _ = call(sim, key, "POST", f"clusters/{seeds.AWS_MULTI}/cmek",
                     {"region_specs": seeds.region_specs(seeds.AWS_MULTI)})
    return int(status)


def test_a_restarted_simulator_has_the_same_world_and_pending_operations_complete_in_time(tmp_path: Path) -> None:
    journal = tmp_path / "world.jsonl"
    clock = ManualClock()
    first = simulator(journal, clock, "key-one", enable_seconds=30)
    cluster_before = call(first, "key-one", "GET", f"clusters/{seeds.AWS_MULTI}")[1]
    assert enable(first, "key-one") == 200
    clock.advance(10)

    # Another process, another key, later: the enable is still under way, then completes on time.
    later = ManualClock(clock.now() + 5)
    second = simulator(journal, later, "key-two", enable_seconds=0)
    assert second.requests == []
    status, cmek = call(second, "key-two", "GET", f"clusters/{seeds.AWS_MULTI}/cmek")
    assert status == 200 and cmek["status"] == "ENABLING"
    assert call(second, "key-two", "GET", f"clusters/{seeds.AWS_MULTI}")[1]["created_at"] == cluster_before["created_at"]
    later.advance(15)
    assert call(second, "key-two", "GET", f"clusters/{seeds.AWS_MULTI}/cmek")[1]["status"] == "ENABLED"
    # What the second process did is kept as well: a second POST is refused after a restart.
    assert enable(second, "key-two") == 400
    third = simulator(journal, ManualClock(later.now()), "key-three")
    assert third.cmek(seeds.AWS_MULTI)["status"] == "ENABLED"  # type: ignore[index]
    assert enable(third, "key-three") == 400
    assert "key-one" not in journal.read_text() and "key-two" not in journal.read_text()


def test_a_refused_request_is_replayed_refused_under_the_delays_it_was_answered_with(tmp_path: Path) -> None:
    journal = tmp_path / "world.jsonl"
    clock = ManualClock()
    assert enable(simulator(journal, clock, "k", iam_propagation_seconds=3600), "k") == 400
    # Without the propagation delay now, the replayed POST must still have been refused: no CMEK.
    again = simulator(journal, ManualClock(clock.now() + 1), "k", iam_propagation_seconds=0)
    assert again.cmek(seeds.AWS_MULTI) is None


def test_a_journal_the_simulator_does_not_reproduce_is_refused_naming_the_request(tmp_path: Path) -> None:
    journal = tmp_path / "world.jsonl"
    clock = ManualClock()
    assert enable(simulator(journal, clock, "k", enable_seconds=0), "k") == 200
    tampered = journal.read_text().replace('"status": 200', '"status": 400')
    journal.write_text(tampered)
    with pytest.raises(JournalError, match=rf"replaying POST /api/v1/clusters/{seeds.AWS_MULTI}/cmek at .* gave 200, "
                       "not 400 as recorded"):
        simulator(journal, ManualClock(clock.now() + 1), "k")
    assert journal.read_text() == tampered
    journal.write_text('{"kind": "request"}\n')
    with pytest.raises(JournalError, match=r"world.jsonl:1: expected a \{\"kind\": \"start\"\} line first"):
        RequestJournal.open(journal)


def test_reset_starts_the_journal_again(tmp_path: Path) -> None:
    journal = tmp_path / "world.jsonl"
    clock = ManualClock()
    sim = simulator(journal, clock, "k", enable_seconds=0)
    assert enable(sim, "k") == 200
    sim.reset()
    assert simulator(journal, ManualClock(clock.now() + 1), "k").cmek(seeds.AWS_MULTI) is None


def start(journal: Path, key: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cmek_component.simulator", "--quiet", "--enable-seconds", "0",
         "--journal", str(journal), "--api-key-env", "SIM_TEST_KEY"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "SIM_TEST_KEY": key},
    )
    return process, read_line(process, timeout=30)


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    _, stderr = process.communicate(timeout=10)
    return stderr


def test_the_standalone_simulator_keeps_its_world_in_the_journal_and_reads_its_key_from_the_environment(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "world.jsonl"
    process, url = start(journal, "first-env-key")
    try:
        assert "first-env-key" not in " ".join(map(str, process.args))  # type: ignore[arg-type]
        answer = requests.post(f"{url}/api/v1/clusters/{seeds.AWS_SINGLE}/cmek",
                               json={"region_specs": seeds.region_specs(seeds.AWS_SINGLE)},
                               headers={"Authorization": "Bearer first-env-key"}, timeout=10)
        assert answer.status_code == 200, answer.text
    finally:
        stop(process)
    process, url = start(journal, "second-env-key")
    try:
        headers = {"Authorization": "Bearer second-env-key"}
        cmek = requests.get(f"{url}/api/v1/clusters/{seeds.AWS_SINGLE}/cmek", headers=headers, timeout=10)
        assert cmek.status_code == 200 and cmek.json()["status"] == "ENABLED"
        old_key = requests.get(f"{url}/api/v1/clusters/{seeds.AWS_SINGLE}/cmek",
                               headers={"Authorization": "Bearer first-env-key"}, timeout=10)
        assert old_key.status_code == 401
        assert requests.get(f"{url}/_simulator/requests", timeout=10).json()["requests"][0]["method"] == "GET"
    finally:
        stop(process)
    assert [json.loads(line)["kind"] for line in journal.read_text().splitlines()] == ["start", "request"]
    assert "env-key" not in journal.read_text()
    journal.write_text("not json\n")
    broken = subprocess.run(
        [sys.executable, "-m", "cmek_component.simulator", "--journal", str(journal)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )
    assert broken.returncode == 2 and "world.jsonl:1: not a JSON line" in broken.stderr


def test_an_empty_key_variable_is_refused_naming_it(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cmek_component.simulator", "--api-key-env", "SIM_TEST_MISSING"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        env={k: v for k, v in os.environ.items() if k != "SIM_TEST_MISSING"},
    )
    assert done.returncode == 2
    assert "--api-key-env: environment variable SIM_TEST_MISSING is not set or empty" in done.stderr
