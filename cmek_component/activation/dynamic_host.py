"""Room for many activations at once in Pulumi's dynamic-provider host, and log lines that say
which resource they concern.

Every dynamic resource of a stack is served by one ``python -m pulumi.dynamic`` process, a gRPC
server whose thread pool has **4 workers** (``pulumi/dynamic/__main__.py`` in the pinned SDK).
A create or update of ``CmekActivation`` holds its worker while it waits for ENABLED (minutes),
so without help a stack of 12 clusters enables in three waves, and a preview's Check or Diff of
another resource queues behind the waits.

``widen_host_pool`` raises that pool's limit to ``HOST_WORKERS`` threads the first time the
provider is configured in the host. Threads are still started only on demand, one per call in
flight. It touches the gRPC server's private state (``grpc._server._ServerState.thread_pool``)
and the executor's ``_max_workers``; where either is missing (another SDK or grpcio), it
changes nothing and the host keeps its 4 workers. ``tests/engine`` measures the effect
(12 activations against one) through the real CLI, so an upgrade that breaks it fails a test.

``log_to_engine`` sends a provider's log line to the engine attached to the resource whose call
the host is serving. The host configures Pulumi's runtime without an engine, so ``pulumi.log``
there only prints to standard error, which the CLI shows under the stack, not the resource. The
engine's address is the host's first argument; the resource's URN is the ``urn`` of the gRPC
request the host is serving in this thread (found on the call stack). Where either is missing,
it returns False and the caller falls back to ``pulumi.log``.
"""

from __future__ import annotations

import gc
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

HOST_WORKERS = 256
"""Calls the host serves at once: enough for a stack of 200 clusters plus previews' calls."""
DYNAMIC_HOST_MODULE = "pulumi.dynamic.__main__"


def in_dynamic_host() -> bool:
    """True in the process Pulumi runs as ``python -m pulumi.dynamic``."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return getattr(spec, "name", None) == DYNAMIC_HOST_MODULE


def widen_host_pool(workers: int = HOST_WORKERS) -> int | None:
    """Lets the dynamic host's gRPC server run ``workers`` calls at once.

    Returns the new limit, or None outside the dynamic host or when the server's pool cannot
    be found (nothing is changed then).
    """
    if not in_dynamic_host():
        return None
    try:
        from grpc import _server
    except ImportError:
        return None
    state_type = getattr(_server, "_ServerState", None)
    if state_type is None:
        return None
    widened = None
    for obj in gc.get_objects():
        if isinstance(obj, state_type):
            pool = getattr(obj, "thread_pool", None)
            if isinstance(pool, ThreadPoolExecutor) and isinstance(getattr(pool, "_max_workers", None), int):
                pool._max_workers = max(pool._max_workers, workers)
                widened = pool._max_workers
    return widened


_engine_lock = threading.Lock()
_engine: Any = None


def _engine_stub() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            address = sys.argv[1] if len(sys.argv) > 1 else ""
            host, _, port = address.rpartition(":")
            if not host or not port.isascii() or not port.isdigit():
                return None
            import grpc
            from pulumi.runtime.proto import engine_pb2_grpc

            _engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(address))
        return _engine


def served_urn() -> str | None:
    """The URN of the resource whose gRPC call this thread is serving in the host, if any."""
    frame = sys._getframe(1)
    while frame is not None:
        request = frame.f_locals.get("request")
        urn = getattr(request, "urn", None)
        if isinstance(urn, str) and urn.startswith("urn:pulumi:"):
            return urn
        frame = frame.f_back  # type: ignore[assignment]
    return None


def log_to_engine(severity: str, message: str) -> bool:
    """Logs ``message`` (severity ``info`` or ``warning``) under the served resource; False when
    not in the dynamic host or no resource or engine is known (nothing was logged then)."""
    if not in_dynamic_host():
        return False
    urn = served_urn()
    engine = _engine_stub() if urn else None
    if urn is None or engine is None:
        return False
    from pulumi.runtime.proto import engine_pb2

    level = engine_pb2.LogSeverity.WARNING if severity == "warning" else engine_pb2.LogSeverity.INFO
    try:
        engine.Log(engine_pb2.LogRequest(severity=level, message=message, urn=urn, streamId=0))
    except Exception:  # noqa: BLE001 - a log line must never fail the operation
        return False
    return True
