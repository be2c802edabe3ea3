"""Simulated time: a manual clock for tests, a real clock for demos, RFC 3339 rendering.

Both clocks return seconds since the Unix epoch (so timestamps look real) and both can be
moved forward with ``advance()``: the manual clock only moves when told to; the real clock
follows wall time plus every ``advance()`` so far (``POST /_simulator/advance`` works on a
standalone simulator too).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

MANUAL_CLOCK_START = 1_767_268_800.25
"""2026-01-01T12:00:00.250000Z: where a ``ManualClock`` starts unless told otherwise."""


@runtime_checkable
class Clock(Protocol):
    """A source of simulated time."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def advance(self, seconds: float) -> None:
        """Moves simulated time forward by ``seconds`` (>= 0)."""
        ...


class _AdvancingClock:
    """``now()`` is the time of :meth:`_base` plus every ``advance()`` so far."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = float(offset)
        self._lock = threading.Lock()

    def _base(self) -> float:
        return 0.0

    def now(self) -> float:
        with self._lock:
            return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        _require_duration(seconds)
        with self._lock:
            self._offset += seconds


class ManualClock(_AdvancingClock):
    """A clock that stands still until ``advance()`` is called: tests step through transitions."""

    def __init__(self, start: float = MANUAL_CLOCK_START) -> None:
        super().__init__(start)

    def __repr__(self) -> str:
        return f"ManualClock(now={format_timestamp(self.now())!r})"


class RealClock(_AdvancingClock):
    """Wall-clock time, plus the total of every ``advance()`` (a skip ahead, never back)."""

    def _base(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return f"RealClock(offset={self._offset}s)"


def _require_duration(seconds: float) -> None:
    """``advance()``'s argument: a skip ahead, never back."""
    if seconds < 0:
        raise ValueError(f"seconds: expected a duration >= 0, got {seconds!r}")


def format_timestamp(seconds: float) -> str:
    """RFC 3339 in UTC with microseconds, as the Cloud API writes them: ``2022-03-22T20:23:11.285067Z``."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
