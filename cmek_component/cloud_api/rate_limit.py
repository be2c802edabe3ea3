"""Client-side request rate limit: one process stays under the Cloud API's per-key limit.

The Cloud API allows 10 requests per second per user (service account). Every
``CloudApiClient`` in a process that uses the same API key (and the same clock) shares one
``RequestRateLimiter``, across threads. Limiters are found by a SHA-256 digest of the key,
never by the key itself.

Rule enforced: at most ``N = max(1, floor(requests_per_second))`` requests in any window of
``N / requests_per_second`` seconds (10 per second by default). A request keeps its place in
the window from the moment it is sent until ``window`` seconds after its response arrived, so
the rule holds for the moments the server receives requests, whatever the network and
thread-scheduling delays; no timing margin is needed. The cost is that a slow response delays
the next request by its latency, which is negligible next to CMEK operations lasting minutes.

Pure logic: no network, no Pulumi. ``clock`` and ``sleep`` are injectable so tests never wait.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["RequestRateLimiter", "api_key_digest", "shared_limiter"]

Clock = Callable[[], float]
Sleep = Callable[[float], None]

_POLL_SECONDS = 0.01
"""How long to wait when every place in the window is held by a request still in flight."""
_EPSILON = 0.001


@dataclass
class _Slot:
    """A request's place in the window: ``end`` is ``None`` while the request is in flight."""

    end: float | None = None


class RequestRateLimiter:
    """Blocks callers so that at most ``N`` requests fall in any ``window``-second window.

    ``requests_per_second``: a positive number (default used by the client: 10).
    ``clock``: monotonic seconds (default ``time.monotonic``).
    Use ``acquire(sleep)`` before sending a request and ``release()`` when its response (or
    error) is in; both apply to the caller's request: the calling thread's, or the calling
    greenlet's (the place is kept in a context variable, which each thread and each greenlet
    has its own of).
    """

    def __init__(self, requests_per_second: float, *, clock: Clock = time.monotonic) -> None:
        if not requests_per_second > 0:
            raise ValueError(f"requests_per_second: expected a positive number, got {requests_per_second!r}")
        self.requests_per_second = float(requests_per_second)
        self.limit = max(1, math.floor(self.requests_per_second))
        self.window = self.limit / self.requests_per_second
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._held: ContextVar[_Slot | None] = ContextVar(f"rate-limit-place-{id(self)}", default=None)

    def __repr__(self) -> str:
        return f"RequestRateLimiter(limit={self.limit}, window={self.window:g}s)"

    def acquire(self, sleep: Sleep = time.sleep) -> None:
        """Waits (through ``sleep``) until this thread may send one request, and takes the place."""
        self.release()
        while True:
            with self._lock:
                now = self._clock()
                self._slots = [s for s in self._slots if s.end is None or now - s.end <= self.window]
                if len(self._slots) < self.limit:
                    slot = _Slot()
                    self._slots.append(slot)
                    self._held.set(slot)
                    return
                ended = [s.end for s in self._slots if s.end is not None]
                wait = min(ended) + self.window - now + _EPSILON if ended else _POLL_SECONDS
            sleep(max(wait, _EPSILON))

    def release(self) -> None:
        """Marks the caller's request as answered now; no-op when it holds no place."""
        slot = self._held.get()
        if slot is None:
            return
        with self._lock:
            slot.end = self._clock()
        self._held.set(None)


def api_key_digest(api_key: str) -> str:
    """A SHA-256 digest naming an API key in memory (the key itself is never used as a name)."""
    return hashlib.sha256(b"cmek-component-rate-limit\0" + api_key.encode()).hexdigest()


_registry: dict[tuple[str, float, Clock], RequestRateLimiter] = {}
_registry_lock = threading.Lock()


def shared_limiter(api_key: str, requests_per_second: float, clock: Clock = time.monotonic) -> RequestRateLimiter:
    """The process-wide limiter for ``api_key`` at ``requests_per_second`` measured by ``clock``.

    Clients created with the same key, rate and clock share it (the defaults make every client
    of one key share it). Kept for the life of the process, so a client created later still
    sees the requests made by earlier ones.
    """
    name = (api_key_digest(api_key), float(requests_per_second), clock)
    with _registry_lock:
        limiter = _registry.get(name)
        if limiter is None:
            limiter = RequestRateLimiter(requests_per_second, clock=clock)
            _registry[name] = limiter
        return limiter
