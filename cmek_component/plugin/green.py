"""The plugin's activations as coroutines: their long waits hold no thread.

The activation's decisions and Cloud API calls are one synchronous implementation
(:mod:`cmek_component.activation.operations`), shared with the dynamic provider. In the plugin
each operation runs in a greenlet on the server's event loop (:func:`run_green`): when it
sleeps (a poll of ENABLED, a rate-limit or retry pause) the greenlet hands the event loop an
``asyncio.sleep`` and steps aside, and each HTTP attempt runs in a small thread pool
(:data:`ATTEMPT_WORKERS` threads, held only for the request and its answer). So a stack of any
number of clusters waits for all of them at once with a handful of threads.

greenlet (the library SQLAlchemy's asyncio support runs on) switches stacks in one thread; each
greenlet has its own context variables, seeded here with a copy of the caller's.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import greenlet

from cmek_component.activation.operations import ProviderRuntime, _default_client

ATTEMPT_WORKERS = 16
"""Threads for HTTP attempts; an attempt holds one for its request and answer only (at most
``attempt_timeout`` seconds), never for a wait."""
_ATTEMPTS = ThreadPoolExecutor(max_workers=ATTEMPT_WORKERS, thread_name_prefix="cmek-attempt")


@dataclass(frozen=True)
class _Await:
    """What a greenlet hands its event loop: an awaitable to await on its behalf."""

    awaitable: Awaitable[Any]


def suspend(awaitable: Awaitable[Any]) -> Any:
    """Inside :func:`run_green`: awaits ``awaitable`` on the event loop and returns its result
    (or raises its exception), while other coroutines run."""
    current = greenlet.getcurrent()
    if not getattr(current, "cmek_green", False) or current.parent is None:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()  # never awaited: not left to warn
        raise RuntimeError("suspend: expected to run inside run_green")
    return current.parent.switch(_Await(awaitable))


def in_green() -> bool:
    """Whether the caller runs inside :func:`run_green`."""
    return bool(getattr(greenlet.getcurrent(), "cmek_green", False))


async def run_green(function: Callable[..., Any], *args: Any) -> Any:
    """Runs the synchronous ``function(*args)`` on this event loop; every :func:`suspend` it
    makes is awaited here. Returns its result or raises its exception."""
    child = greenlet.greenlet(function)
    child.cmek_green = True  # type: ignore[attr-defined]
    child.gr_context = contextvars.copy_context()
    handed = child.switch(*args)
    while isinstance(handed, _Await):
        try:
            value = await handed.awaitable
        except BaseException as error:  # noqa: BLE001 - handed back to the greenlet that awaited
            handed = child.throw(error)
        else:
            handed = child.switch(value)
    return handed


def green_sleep(seconds: float) -> None:
    """``time.sleep`` that, inside :func:`run_green`, lets the event loop run meanwhile."""
    if in_green():
        suspend(asyncio.sleep(seconds))
    else:
        time.sleep(seconds)


def in_attempt_pool(attempt: Callable[[], Any]) -> Any:
    """Runs one HTTP attempt in :data:`_ATTEMPTS` and waits for it as a coroutine, as if it ran
    here: it sees the caller's context variables, and what it sets in them is set here after
    (a retry pause inside the attempt gives back and takes a rate-limit place, which the
    caller then releases). Outside :func:`run_green`, in the calling thread."""
    if not in_green():
        return attempt()
    context = contextvars.copy_context()
    try:
        return suspend(asyncio.get_running_loop().run_in_executor(_ATTEMPTS, context.run, attempt))
    finally:
        for variable, value in context.items():
            variable.set(value)


def green_runtime(runtime: ProviderRuntime) -> ProviderRuntime:
    """``runtime`` with its real-time parts made cooperative: ``time.sleep`` becomes
    :func:`green_sleep`, and the default API client sends its attempts through
    :func:`in_attempt_pool`. Injected sleeps and clients (tests) are kept as they are."""
    sleep = green_sleep if runtime.sleep is time.sleep else runtime.sleep
    if runtime.make_client is not _default_client:
        return replace(runtime, sleep=sleep)

    def make_client(api_key: str | None, api_url: str | None, sleep: Callable[[float], None],
                    clock: Callable[[], float]) -> Any:
        from cmek_component.cloud_api.client import CloudApiClient

        return CloudApiClient(api_key, api_url, sleep=sleep, clock=clock, offload=in_attempt_pool)

    return replace(runtime, sleep=sleep, make_client=make_client)
