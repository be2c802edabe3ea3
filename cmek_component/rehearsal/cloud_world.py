"""The CockroachDB Cloud API as the rehearsal sees it: the simulator on a local socket.

The simulator keeps its world (clusters, CMEK states, pending operations) in memory. To carry
it from one ``cmek rehearse`` process to the next, every mutating request the simulator answered
is appended to ``cloud-journal.jsonl`` with its simulated time; the next start builds a fresh
simulator on a clock pinned to the journal's start, replays each request at its recorded time
(checking it gets the same status as before), then lets the clock run on real time. Pending
operations that came due in between complete on the next request, as they would in the cloud.

The API key is made up for each run and accepted by the simulator only for that run; it is
never written anywhere.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.test import Client

from ..simulator import Simulator, SimulatorServer, SimulatorSettings
from .calls import ApiCall, Journal
from .errors import RehearsalError


def new_api_key() -> str:
    return "rehearsal-" + secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Timings:
    """Seconds the simulator takes for each asynchronous operation (short, for a demo; the
    command line's defaults are the same, in ``cli.REHEARSAL_SECONDS``)."""

    enable: float = 2.0
    rotate: float = 2.0
    revoke: float = 1.0
    add_region: float = 3.0
    iam_propagation: float = 0.0


class ReplayClock:
    """Wall-clock time, except while pinned to a recorded moment (during a replay)."""

    def __init__(self) -> None:
        self._pinned: float | None = None
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._pinned if self._pinned is not None else time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"seconds: expected a duration >= 0, got {seconds!r}")
        with self._lock:
            if self._pinned is not None:
                self._pinned += seconds
            else:
                self._offset += seconds

    def pin(self, at: float) -> None:
        with self._lock:
            self._pinned = at

    def release(self) -> None:
        with self._lock:
            if self._pinned is not None:
                self._offset = max(0.0, self._pinned - time.time())
            self._pinned = None


def _seconds(rfc3339: str) -> float:
    """``2026-01-01T12:00:00.250000Z`` -> seconds since the epoch."""
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


@dataclass
class CloudWorld:
    """The simulator, restored from its journal, serving on ``url`` for one run."""

    journal: Journal
    timings: Timings = field(default_factory=Timings)
    read_only: bool = False
    api_key: str = field(default_factory=new_api_key)
    simulator: Simulator | None = None
    server: SimulatorServer | None = None
    clock: ReplayClock = field(default_factory=ReplayClock)
    _first_request: int = 0

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def _timings(self) -> dict[str, float]:
        return {
            "enable_seconds": self.timings.enable,
            "rotate_seconds": self.timings.rotate,
            "revoke_seconds": self.timings.revoke,
            "add_region_seconds": self.timings.add_region,
            "iam_propagation_seconds": self.timings.iam_propagation,
        }

    def start(self) -> None:
        """Builds the simulator, replays the journal into it, then serves it on a free port.
        A replay that does not give the recorded answers raises ``RehearsalError`` and leaves
        nothing started (and the journal untouched)."""
        settings = SimulatorSettings(api_keys={self.api_key: "CLUSTER_ADMIN"})
        for name, value in self._timings().items():
            setattr(settings, name, value)
        entries = list(self.journal)
        self.clock.pin(float(entries[0]["at"]) if entries and entries[0].get("kind") == "start" else time.time())
        simulator = Simulator(settings, self.clock)
        if not entries and not self.read_only:
            self.journal.append({"kind": "start", "at": self.clock.now()})
        self._replay(simulator, [e for e in entries if e.get("kind") == "request"])
        for name, value in self._timings().items():
            setattr(settings, name, value)
        self.clock.release()
        self.simulator = simulator
        self._first_request = len(simulator.requests)
        self.server = SimulatorServer(simulator).start()

    def _replay(self, simulator: Simulator, entries: list[dict[str, Any]]) -> None:
        """Each request again at its recorded time, under the timings it was first answered with."""
        client = Client(simulator)
        for entry in entries:
            self.clock.pin(float(entry["at"]))
            for name, value in (entry.get("timings") or {}).items():
                setattr(simulator.settings, name, float(value))
            response = client.open(
                entry["path"],
                method=entry["method"],
                query_string=entry.get("query") or None,
                data=json.dumps(entry["body"]) if entry.get("body") is not None else None,
                headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json",
                         "Cc-Version": "2024-09-16"},
            )
            if response.status_code != entry.get("status"):
                raise RehearsalError(
                    f"{self.journal.path}: replaying {entry['method']} {entry['path']} gave "
                    f"{response.status_code}, not {entry.get('status')} as recorded; delete the state "
                    "directory to start over"
                )

    def new_requests(self) -> list[Any]:
        """Requests answered during this run (the replay excluded)."""
        assert self.simulator is not None
        return self.simulator.requests[self._first_request :]

    def calls(self) -> list[ApiCall]:
        return [
            ApiCall("cockroach", f"{r.method} {r.path}", "", r.is_mutating, r.status, r.body, _seconds(r.at))
            for r in self.new_requests()
        ]

    def save(self) -> None:
        """Appends this run's mutating requests to the journal (a preview must have made none)."""
        mutating = [r for r in self.new_requests() if r.is_mutating]
        if self.read_only:
            if mutating:
                raise RehearsalError(
                    "preview made mutating Cloud API calls: " + ", ".join(f"{r.method} {r.path}" for r in mutating)
                )
            return
        for record in mutating:
            self.journal.append({
                "kind": "request",
                "method": record.method,
                "path": record.path,
                "query": record.query,
                "body": record.body,
                "status": record.status,
                "at": _seconds(record.at),
                "timings": self._timings(),
            })
        self._first_request = len(self.simulator.requests) if self.simulator else 0

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    # ------------------------------------------------------------------ inspection

    def cmek(self, cluster_id: str) -> dict[str, Any] | None:
        assert self.simulator is not None
        return self.simulator.cmek(cluster_id)

    def cluster(self, cluster_id: str) -> dict[str, Any]:
        assert self.simulator is not None
        return self.simulator.cluster(cluster_id)
