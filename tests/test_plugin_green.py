"""The plugin's cooperative activations (``cmek_component/plugin/green.py``): synchronous
operations run as greenlets on the server's event loop, so their waits hold no thread, while
each HTTP attempt runs in a small pool, and the rate limit counts each greenlet's request."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from cmek_component.activation.operations import ProviderRuntime, _default_client
from cmek_component.cloud_api.rate_limit import RequestRateLimiter
from cmek_component.plugin.green import (
    green_runtime,
    green_sleep,
    in_attempt_pool,
    run_green,
    suspend,
)


def test_many_operations_wait_at_once_on_the_event_loop_thread() -> None:
    events: list[tuple[str, int, int]] = []

    def operation(name: str) -> str:
        for step in range(3):
            events.append((name, step, threading.get_ident()))
            green_sleep(0.01)
        return f"{name} done"

    async def main() -> list[str]:
        return list(await asyncio.gather(*(run_green(operation, f"op{i}") for i in range(50))))

    before = threading.active_count()
    results = asyncio.run(main())
    assert results == [f"op{i} done" for i in range(50)]
    # Interleaved: every operation took its first step before any took its second.
    first_seconds = [index for index, (_, step, _) in enumerate(events) if step == 1]
    assert min(first_seconds) >= 50
    assert {thread for _, _, thread in events} == {threading.get_ident()}  # no thread held per wait
    assert threading.active_count() == before


def test_an_awaited_error_is_raised_inside_the_operation_and_its_own_errors_reach_the_caller() -> None:
    async def failing() -> None:
        raise ConnectionError("lost")

    def operation() -> str:
        try:
            suspend(failing())
        except ConnectionError as error:
            return f"caught {error}"
        return "not raised"

    def broken() -> None:
        green_sleep(0)
        raise ValueError("cluster_id: expected a UUID")

    assert asyncio.run(run_green(operation)) == "caught lost"
    with pytest.raises(ValueError, match="cluster_id: expected a UUID"):
        asyncio.run(run_green(broken))
    with pytest.raises(RuntimeError, match="inside run_green"):
        suspend(asyncio.sleep(0))


def test_an_attempt_runs_in_the_pool_with_the_callers_context() -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")

    def attempt() -> tuple[str, int]:
        return marker.get(), threading.get_ident()

    def operation() -> tuple[str, int]:
        marker.set("set in the operation")
        return in_attempt_pool(attempt)  # type: ignore[no-any-return]

    seen, thread = asyncio.run(run_green(operation))
    assert seen == "set in the operation" and thread != threading.get_ident()
    assert in_attempt_pool(attempt) == ("unset", threading.get_ident())  # outside: in this thread


def test_each_greenlet_holds_its_own_rate_limit_place() -> None:
    limiter = RequestRateLimiter(2)

    def holds_across_a_wait() -> bool:
        limiter.acquire(green_sleep)
        green_sleep(0.05)  # another greenlet sends and is answered meanwhile
        in_flight = [slot for slot in limiter._slots if slot.end is None]
        limiter.release()
        return len(in_flight) == 1

    def quick() -> None:
        limiter.acquire(green_sleep)
        limiter.release()

    async def main() -> list[object]:
        return list(await asyncio.gather(run_green(holds_across_a_wait), run_green(quick)))

    held, _ = asyncio.run(main())
    assert held is True
    assert all(slot.end is not None for slot in limiter._slots)


def test_a_retry_pause_inside_an_attempt_leaves_no_rate_limit_place_held() -> None:
    limiter = RequestRateLimiter(3)

    def attempt_with_a_retry() -> None:  # as urllib3's Retry calls the client's pause hook
        limiter.release()
        limiter.acquire()

    def operation() -> None:
        for _ in range(5):
            limiter.acquire(green_sleep)
            try:
                in_attempt_pool(attempt_with_a_retry)
            finally:
                limiter.release()

    asyncio.run(asyncio.wait_for(run_green(operation), timeout=30))
    assert [slot for slot in limiter._slots if slot.end is None] == []


def test_the_runtime_becomes_cooperative_only_where_it_uses_real_time() -> None:
    default = green_runtime(ProviderRuntime())
    assert default.sleep is green_sleep and default.make_client is not _default_client

    def injected_sleep(seconds: float) -> None:
        pass

    kept = green_runtime(ProviderRuntime(sleep=injected_sleep))
    assert kept.sleep is injected_sleep
    assert green_sleep.__module__ == "cmek_component.plugin.green" and time.sleep is not green_sleep
