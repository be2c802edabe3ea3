"""The standalone Cloud API simulator for one rehearsal step, its world kept in the state dir.

``running_simulator(state_dir, api_key, timings)`` starts ``python -m cmek_component.simulator``
with ``--journal <state_dir>/simulator-journal.jsonl`` (the world of the previous steps is
rebuilt from it, see ``cmek_component.simulator.journal``), the step's operation times, no rate
limit, and the step's API key passed in an environment variable (never on the command line). It
stops the simulator at exit.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ..simulator.recorder import MUTATING_METHODS
from .errors import RehearsalError
from .local_server import serving

KEY_ENV = "CMEK_REHEARSAL_SIMULATOR_KEY"
"""The variable the simulator reads the step's API key from (``--api-key-env``)."""
JOURNAL = "simulator-journal.jsonl"


@dataclass(frozen=True)
class Timings:
    """Seconds the simulator takes for each asynchronous operation (short, for a demo; the
    command line's defaults are ``cli.REHEARSAL_SECONDS``)."""

    enable: float = 2.0
    rotate: float = 2.0
    revoke: float = 1.0
    add_region: float = 3.0
    iam_propagation: float = 0.0

    def flags(self) -> list[str]:
        return ["--enable-seconds", f"{self.enable:g}", "--rotate-seconds", f"{self.rotate:g}",
                "--revoke-seconds", f"{self.revoke:g}", "--add-region-seconds", f"{self.add_region:g}",
                "--iam-propagation-seconds", f"{self.iam_propagation:g}"]


@dataclass(frozen=True)
class SimulatorProcess:
    """The running simulator at ``url``, answering ``api_key`` (never shown: ``repr`` hides it)."""

    url: str
    api_key: str
    log: Path

    def __repr__(self) -> str:
        return f"SimulatorProcess({self.url})"

    def _get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}/api/v1/{path}", timeout=30,
                            headers={"Authorization": f"Bearer {self.api_key}", "Cc-Version": "2024-09-16"})

    def cmek(self, cluster_id: str) -> dict[str, Any] | None:
        """``GET /clusters/{id}/cmek``; None before CMEK was first enabled (404)."""
        answer = self._get(f"clusters/{cluster_id}/cmek")
        if answer.status_code == 404 and "never enabled" in answer.text:
            return None
        answer.raise_for_status()
        return dict(answer.json())

    def cluster(self, cluster_id: str) -> dict[str, Any] | None:
        """``GET /clusters/{id}``; None for a cluster the simulator does not know."""
        answer = self._get(f"clusters/{cluster_id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return dict(answer.json())

    def requests(self) -> list[dict[str, Any]]:
        """Every API request this simulator process answered (the rehearsal's own reads included)."""
        answer = requests.get(f"{self.url}/_simulator/requests", timeout=30)
        answer.raise_for_status()
        return list(answer.json()["requests"])

    def mutating(self) -> list[dict[str, Any]]:
        """The mutating requests of this process: this step's changes to the Cloud API."""
        return [r for r in self.requests() if r["method"] in MUTATING_METHODS]


@contextmanager
def running_simulator(state_dir: Path, api_key: str, timings: Timings) -> Iterator[SimulatorProcess]:
    """Starts the simulator on the world of ``state_dir``; stops it at exit."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "simulator.log"
    command = [sys.executable, "-m", "cmek_component.simulator", "--quiet", "--rate-limit-per-second", "0",
               "--journal", str(state_dir / JOURNAL), "--api-key-env", KEY_ENV, *timings.flags()]
    with serving(command, log, "the Cloud API simulator", env={**os.environ, KEY_ENV: api_key},
                 error=RehearsalError) as (url, _):
        yield SimulatorProcess(url, api_key, log)
