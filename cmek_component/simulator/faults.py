"""Injected faults and the per-key rate limit.

Fault kinds (``Simulator.inject_fault``):

* ``"429"``: 429 with ``Retry-After`` (kw ``retry_after``, default 1 s) and "rate limit exceeded";
* ``"500"``: 500 INTERNAL; ``"503"``: 503 UNAVAILABLE; ``"502"``/``"504"``: a gateway error
  (kw ``body`` replaces the JSON Status body with raw text, like a load balancer page);
* ``"drop"``: the connection is closed without an answer (kw ``after_processing=True``: the
  request takes effect first, as when a response is lost on the way back);
* ``"slow"``: the answer is delayed by kw ``seconds`` (real time), then served normally.

A fault matches when the method matches (``"*"`` for any) and the request path ends with
``path_suffix``; it fires ``count`` times, oldest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("429", "500", "502", "503", "504", "drop", "slow")


@dataclass
class Fault:
    method: str
    path_suffix: str
    kind: str
    remaining: int
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.method in ("*", method) and path.endswith(self.path_suffix)


class FaultPlan:
    """Faults waiting for matching requests. Guarded by the simulator's lock."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, method: str, path_suffix: str, kind: str, count: int = 1, **options: Any) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind: expected one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        if count < 1:
            raise ValueError(f"count: expected at least 1, got {count!r}")
        allowed = {"429": {"retry_after"}, "slow": {"seconds"}, "502": {"body"}, "504": {"body"},
                   "500": {"body"}, "503": {"body", "retry_after"}, "drop": {"after_processing"}}.get(kind, set())
        unknown = set(options) - allowed
        if unknown:
            raise ValueError(f"options for {kind!r}: expected {sorted(allowed) or 'none'}, got {sorted(unknown)}")
        if kind == "slow" and "seconds" not in options:
            raise ValueError("seconds: a 'slow' fault needs seconds=<delay>")
        self.faults.append(Fault(method.upper(), path_suffix, kind, count, options))

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault (its count decremented), or None."""
        for fault in self.faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None


class RateLimiter:
    """A token bucket per API key: ``rate`` requests per second, bursts of up to ``rate``.

    Time comes from the simulator's clock, so with a ManualClock the limit is deterministic:
    more than ``rate`` requests without advancing the clock are refused.
    """

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, key: str, now: float) -> float | None:
        """None when the request may proceed, else the seconds until it could (for Retry-After)."""
        if self.rate is None:
            return None
        capacity = max(self.rate, 1.0)
        tokens, last = self.buckets.get(key, (capacity, now))
        tokens = min(capacity, tokens + max(0.0, now - last) * self.rate)
        if tokens >= 1.0 - 1e-6:  # float noise from clock arithmetic
            self.buckets[key] = (max(0.0, tokens - 1.0), now)
            return None
        self.buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds (at least 1), as HTTP requires."""
    return str(max(1, math.ceil(seconds)))
