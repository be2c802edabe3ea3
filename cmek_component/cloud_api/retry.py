"""The Cloud API client's retry policy: which calls are resent, after what, and how long to wait.

- GET is retried on connection errors, timeouts, HTTP 429 and every 5xx except 501: up to
  ``max_retries`` times, waiting ``Retry-After`` when the server sends it, else
  ``backoff_factor * 2**(n-1)`` seconds for the n-th retry plus up to 25% jitter, never more than
  ``backoff_max`` (defaults: 0.5-0.625 s, 1-1.25 s, 2-2.5 s, 4-5 s);
- PUT (rotate) is retried the same way on HTTP 429 and 503 only, the answers of a request that
  was not processed. After a connection error, a timeout or another 5xx the rotation may have
  been applied (a lost answer), and a second PUT would re-wrap the cluster again: the caller
  looks first (``ActivationRunner``);
- POST (enable CMEK) and PATCH (revoke, add regions) are never resent: the server may have
  acted on them. Their callers decide what is safe to repeat.

``CloudRetry`` applies these rules in urllib3 (statuses and headers); a rate-limit answer under
another status is recognised from its body and retried by ``CloudApiClient`` itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import urllib3
from urllib3.util.retry import Retry

from cmek_component.cloud_api.errors import parse_retry_after

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool

__all__ = [
    "RETRIED_METHODS",
    "RETRIED_ONLY_WHEN_UNPROCESSED",
    "RETRIED_STATUSES",
    "UNPROCESSED_STATUSES",
    "CloudRetry",
    "backoff_delay",
]

RETRIED_METHODS = frozenset({"GET", "PUT"})
RETRIED_STATUSES = frozenset({429} | {code for code in range(500, 600) if code != 501})
UNPROCESSED_STATUSES = frozenset({429, 503})
"""Answers that say the request was not acted on: the only ones after which PUT is resent."""
RETRIED_ONLY_WHEN_UNPROCESSED = frozenset({"PUT"})
"""Methods resent only after an ``UNPROCESSED_STATUSES`` answer, never after a connection error,
a timeout or another 5xx (the server may have applied them)."""
JITTER_FRACTION = 0.25


def _jitter() -> float:
    """A number in [0, 1) scaling the jitter (tests replace it to pin the schedule)."""
    return random.random()


def backoff_delay(retry_number: int, factor: float, maximum: float) -> float:
    """Seconds before retry ``retry_number`` (1, 2, ...) when the server gave no ``Retry-After``:
    ``factor * 2**(retry_number-1)`` plus up to 25% jitter, capped at ``maximum``."""
    base = factor * (2 ** max(retry_number - 1, 0))
    return float(min(maximum, base * (1 + JITTER_FRACTION * _jitter())))


class CloudRetry(Retry):
    """urllib3 ``Retry`` with this client's rules; it sees statuses and headers, not bodies.

    - only the ``allowed_methods`` (GET, PUT) are ever resent, also after connection errors
      (plain urllib3 resends any method whose connection failed before sending); PUT only after
      a 429 or 503 answer (``RETRIED_ONLY_WHEN_UNPROCESSED``);
    - backoff from ``backoff_delay`` (urllib3's own has no wait before the first retry);
    - ``Retry-After`` accepts fractional seconds, and an unreadable value falls back to backoff;
    - waiting goes through ``pause(seconds)``, so the client can release its rate-limit place,
      use its injected sleep, and take a new place before the retry.
    """

    def __init__(self, *args: Any, pause: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pause = pause

    def new(self, **kw: Any) -> Self:
        kw.setdefault("pause", self.pause)
        return super().new(**kw)

    def get_backoff_time(self) -> float:
        return backoff_delay(len(self.history), self.backoff_factor, self.backoff_max)

    def get_retry_after(self, response: urllib3.BaseHTTPResponse) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"))

    def sleep(self, response: urllib3.BaseHTTPResponse | None = None) -> None:
        delay: float | None = None
        if self.respect_retry_after_header and response is not None:
            delay = self.get_retry_after(response)
        if not delay:
            delay = self.get_backoff_time()
        self.pause(delay)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() in RETRIED_ONLY_WHEN_UNPROCESSED and status_code not in UNPROCESSED_STATUSES:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: urllib3.BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        never = method is not None and not self._is_method_retryable(method)
        if method is not None and method.upper() in RETRIED_ONLY_WHEN_UNPROCESSED:
            never = never or response is None or response.status not in UNPROCESSED_STATUSES
        if never:
            # Never resend POST/PATCH, nor PUT after an answer that may hide an applied request:
            # spend the whole budget so urllib3 gives up right away.
            return Retry.increment(self.new(total=0), method, url, response, error, _pool, _stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)

