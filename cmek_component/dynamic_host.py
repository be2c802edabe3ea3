"""Room for many activations at once in Pulumi's dynamic-provider host.

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
"""

from __future__ import annotations

import gc
import sys
from concurrent.futures import ThreadPoolExecutor

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
