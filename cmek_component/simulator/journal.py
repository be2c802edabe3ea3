"""Persistence for the standalone simulator: a journal of the API requests that changed its world.

``python -m cmek_component.simulator --journal FILE`` keeps the world (clusters, CMEK states,
pending operations, when each key was first seen) across processes. The world is not written out;
it is rebuilt. The file is JSON lines:

- the first line, ``{"kind": "start", "at": T}``: when the world was first seeded (the seeds'
  timestamps are derived from it, so they are the same after every restart);
- then one ``{"kind": "request", ...}`` line per mutating API request (POST, PUT, PATCH, DELETE)
  that reached its operation (past authentication, rate limit and Cc-Version checks), refused or
  not, with its simulated time, its status and the delay settings it was answered under.

At the next start the simulator is seeded at the start time, each request is applied again at its
recorded time under its recorded delays (without authentication: the API key may differ from one
process to the next), and each must get its recorded status, else the start fails naming the
request. Then the clock runs on from real time (never earlier than the last recorded request), so
operations that came due while no simulator ran complete on the next request, as in the cloud.

Not kept: admin actions (faults, ``advance``, cluster states set by ``/_simulator/...``) and the
request record (``GET /_simulator/requests`` lists this process's requests only).
``POST /_simulator/reset`` empties the journal too.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .clock import Clock, format_timestamp

DELAY_SETTINGS = (
    "enable_seconds",
    "rotate_seconds",
    "revoke_seconds",
    "add_region_seconds",
    "disable_seconds",
    "iam_propagation_seconds",
)
"""The settings that decide when a request's operation completes (recorded with each request)."""


class JournalError(ValueError):
    """A journal that cannot be read or that the simulator does not reproduce; names the line."""


class PinnableClock:
    """A clock that follows ``base`` except while pinned to a recorded moment (during a replay).

    After ``release()`` it never goes back before the last pinned time."""

    def __init__(self, base: Clock) -> None:
        self._base = base
        self._pinned: float | None = None
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._pinned if self._pinned is not None else self._base.now() + self._offset

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
                self._offset = max(self._offset, self._pinned - self._base.now())
            self._pinned = None


def _seconds(rfc3339: str) -> float:
    """``2026-01-01T12:00:00.250000Z`` -> seconds since the epoch."""
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()


@dataclass
class RequestJournal:
    """The journal file at ``path`` and what it held when opened."""

    path: Path
    start: float | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, path: Path) -> RequestJournal:
        """Reads ``path`` (a missing or empty file is a new journal)."""
        journal = cls(Path(path))
        if not journal.path.exists():
            return journal
        for number, line in enumerate(journal.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as error:
                raise JournalError(f"{path}:{number}: not a JSON line ({error.msg})") from None
            kind = entry.get("kind") if isinstance(entry, dict) else None
            if kind == "start" and journal.start is None and isinstance(entry.get("at"), (int, float)):
                journal.start = float(entry["at"])
            elif kind == "request" and journal.start is not None:
                journal.requests.append(entry)
            else:
                raise JournalError(
                    f"{path}:{number}: expected a {{\"kind\": \"start\"}} line first, then "
                    f"{{\"kind\": \"request\"}} lines, got {line[:120]!r}"
                )
        return journal

    def begin(self, at: float) -> None:
        """Starts a new journal seeded at ``at`` (replacing what the file held)."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"kind": "start", "at": at}) + "\n")
            self.start = at
            self.requests = []

    def append(self, entry: dict[str, Any]) -> None:
        """Adds one request line and syncs it to disk (a crash loses at most the request under way)."""
        line = json.dumps({"kind": "request", **entry}, sort_keys=True)
        with self._lock:
            with self.path.open("a") as stream:
                stream.write(line + "\n")
                stream.flush()
                os.fsync(stream.fileno())
            self.requests.append({"kind": "request", **entry})


def request_entry(method: str, path: str, query: dict[str, str], raw_body: bytes, status: int, at: str,
                  settings: Any) -> dict[str, Any]:
    """The journal line of one answered request (the body as sent; no header, so no key)."""
    return {
        "method": method,
        "path": path,
        "query": query,
        "body": raw_body.decode("utf-8", "surrogateescape"),
        "status": status,
        "at": _seconds(at),
        "delays": {name: getattr(settings, name) for name in DELAY_SETTINGS},
    }


@contextmanager
def delays(settings: Any, values: dict[str, float]) -> Iterator[None]:
    """``settings``' delay fields set to ``values`` for the duration (a replayed request's)."""
    saved = {name: getattr(settings, name) for name in DELAY_SETTINGS}
    try:
        for name, value in values.items():
            if name in DELAY_SETTINGS:
                setattr(settings, name, float(value))
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)


def describe(entry: dict[str, Any]) -> str:
    """``POST /api/v1/clusters/<id>/cmek at 2026-...Z`` for error messages."""
    return f"{entry.get('method')} {entry.get('path')} at {format_timestamp(float(entry.get('at', 0)))}"
