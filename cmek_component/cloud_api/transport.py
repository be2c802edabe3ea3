"""The HTTP layer under ``CloudApiClient``: one time bound per attempt, and bounded answers.

- ``WatchedAdapter``: a requests ``HTTPAdapter`` whose connections end each attempt (connect,
  send, status line, headers and the whole body) after at most the seconds of the enclosing
  ``watched_attempts(seconds)`` block. Socket timeouts apply to each read, so a server sending
  one byte every 0.4 s would otherwise hold a call with a 1 s read timeout for as long as it
  likes. At the bound a watchdog timer shuts the connection's socket down; the read then fails
  like a dropped connection, ``AttemptWatch.expired`` says why, and urllib3's retry rules apply
  as to any connection error. Through a SOCKS proxy (whose connection classes are its own) only
  the per-read timeouts apply.
- ``read_body``: the body of an answer, at most ``max_bytes`` as sent and as decoded (gzip,
  deflate ...), read in chunks so a small compressed answer cannot expand in memory; a
  ``Content-Length`` above the limit is refused before reading.
- ``parse_json``: JSON, or the text when the body is not JSON; nesting deeper than
  ``max_depth`` is refused (also where ``json`` would raise ``RecursionError``).

``BodyTooLarge`` and ``BodyTooDeep`` carry a message for the user; the client turns them into
a ``CloudApiError``. No Pulumi here.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests
import urllib3.poolmanager
from requests.adapters import HTTPAdapter
from urllib3 import connection as _connection
from urllib3 import connectionpool as _connectionpool

__all__ = [
    "AttemptWatch",
    "BodyError",
    "BodyTooDeep",
    "BodyTooLarge",
    "WatchedAdapter",
    "end_current_attempt",
    "parse_json",
    "read_body",
    "watched_attempts",
]

READ_CHUNK_BYTES = 64 * 1024
"""Decoded bytes asked for per read; urllib3 (2.6 and later) decompresses only about that much
per read, so the size check runs before a compressed answer can grow in memory."""


class AttemptWatch:
    """Ends each attempt ``seconds`` after its request started to be sent (see module doc).

    ``arm(connection)`` starts the bound for a new attempt (replacing the previous attempt's);
    ``disarm()`` ends it; ``expired`` is true once a bound was reached.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._lock = threading.Lock()
        self._generation = 0
        self._timer: threading.Timer | None = None

    def arm(self, connection: _connection.HTTPConnection) -> None:
        with self._lock:
            self._cancel()
            self._generation += 1
            self.expired = False  # says why the latest attempt failed
            timer = threading.Timer(self.seconds, self._expire, (self._generation, connection))
            timer.daemon = True
            self._timer = timer
        timer.start()

    def disarm(self) -> None:
        with self._lock:
            self._cancel()
            self._generation += 1

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self, generation: int, connection: _connection.HTTPConnection) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self.expired = True
            sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


_current_watch: ContextVar[AttemptWatch | None] = ContextVar("cmek_attempt_watch", default=None)


def end_current_attempt() -> None:
    """Ends the bound of the attempt under way in this thread, if any (before a retry's wait)."""
    watch = _current_watch.get()
    if watch is not None:
        watch.disarm()


@contextmanager
def watched_attempts(seconds: float) -> Iterator[AttemptWatch]:
    """Every attempt a ``WatchedAdapter`` makes in this block (in this thread) is bounded by
    ``seconds``; the bound of the last one ends with the block."""
    watch = AttemptWatch(seconds)
    token = _current_watch.set(watch)
    try:
        yield watch
    finally:
        watch.disarm()
        _current_watch.reset(token)


class _WatchedRequests(_connection.HTTPConnection):
    """Arms the watch of the enclosing ``watched_attempts`` block (if any) as each request starts."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = _current_watch.get()
        if watch is not None:
            watch.arm(self)
        super().request(*args, **kwargs)


# The subclasses keep urllib3's class names: they appear in connection error messages.


class HTTPConnection(_WatchedRequests):
    pass


class HTTPSConnection(_WatchedRequests, _connection.HTTPSConnection):
    pass


class HTTPConnectionPool(_connectionpool.HTTPConnectionPool):
    ConnectionCls = HTTPConnection


class HTTPSConnectionPool(_connectionpool.HTTPSConnectionPool):
    ConnectionCls = HTTPSConnection


_DEFAULT_POOLS = {"http": _connectionpool.HTTPConnectionPool, "https": _connectionpool.HTTPSConnectionPool}
_WATCHED_POOLS = {"http": HTTPConnectionPool, "https": HTTPSConnectionPool}


def _watch_pools(manager: urllib3.poolmanager.PoolManager) -> None:
    if dict(manager.pool_classes_by_scheme) == _DEFAULT_POOLS:  # not a SOCKS manager
        manager.pool_classes_by_scheme = dict(_WATCHED_POOLS)


class WatchedAdapter(HTTPAdapter):
    """``HTTPAdapter`` whose connections (direct or through an HTTP(S) proxy) honour
    ``watched_attempts``; otherwise exactly requests' adapter (``max_retries`` and all)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _watch_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> urllib3.poolmanager.ProxyManager:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _watch_pools(manager)
        return manager


class BodyError(Exception):
    """An answer the client will not take in; the message says why (no server text in it)."""


class BodyTooLarge(BodyError):
    """More than the allowed bytes, as sent or as decoded."""


class BodyTooDeep(BodyError):
    """JSON nested deeper than allowed."""


def _declared_length(response: requests.Response) -> int | None:
    value = (response.headers.get("Content-Length") or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def read_body(response: requests.Response, max_bytes: int) -> bytes:
    """The whole body of a streamed ``response``, decoded (``Content-Encoding``), or
    ``BodyTooLarge`` when it declares, sends or decodes to more than ``max_bytes``."""
    declared = _declared_length(response)
    if declared is not None and declared > max_bytes:
        raise BodyTooLarge(f"the answer declares {declared} bytes, more than the limit of {max_bytes} (max_response_bytes)")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(READ_CHUNK_BYTES):
        size += len(chunk)
        sent = response.raw.tell() if response.raw is not None else 0
        if size > max_bytes or sent > max_bytes:
            how = "decodes to" if size > max_bytes else "sends"
            raise BodyTooLarge(f"the answer {how} more than the limit of {max_bytes} bytes (max_response_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _nesting_exceeds(value: object, max_depth: int) -> bool:
    """True when objects/arrays in ``value`` nest more than ``max_depth`` levels (iterative)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def parse_json(body: bytes, max_depth: int) -> object:
    """The JSON value of ``body``; its text when it is not JSON (an HTML error page, or numbers
    Python will not parse); ``None`` when empty. ``BodyTooDeep`` beyond ``max_depth`` levels."""
    if not body:
        return None
    try:
        value = json.loads(body)
    except RecursionError:
        raise BodyTooDeep(f"the answer's JSON is nested deeper than {max_depth} levels") from None
    except ValueError:
        return body.decode("utf-8", "replace")
    if _nesting_exceeds(value, max_depth):
        raise BodyTooDeep(f"the answer's JSON is nested deeper than {max_depth} levels")
    return value
