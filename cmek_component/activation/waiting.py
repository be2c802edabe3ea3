"""Polling with capped exponential backoff, an injectable clock and progress reports.

Pure logic: no Pulumi, no network. The activation uses one ``Waiter`` for every long wait
(CMEK reaching ENABLED, a LOCKED cluster returning to CREATED, the IAM-propagation window), so
all waits share one schedule and one way of reporting progress.

Default schedule (``POLL_SCHEDULE``): the first poll at once, then 1 s, 1.5 s, 2.25 s, 3.4 s,
then every 5 s. The 5 s cap bounds the delay between the API reaching a state and the wait
noticing it; at one request per 5 s a wait uses 0.2 requests per second of the API's
10 requests per second per key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PollSchedule:
    """Delays between polls: ``initial``, then multiplied by ``factor``, never above ``cap``."""

    initial: float = 1.0
    factor: float = 1.5
    cap: float = 5.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.cap <= 0 or self.factor < 1:
            raise ValueError(f"poll schedule: expected initial > 0, cap > 0 and factor >= 1, got {self!r}")

    def delays(self) -> Iterator[float]:
        """The endless sequence of delays, in seconds."""
        delay = min(self.initial, self.cap)
        while True:
            yield delay
            delay = min(delay * self.factor, self.cap)


POLL_SCHEDULE = PollSchedule()
"""The activation's schedule: 1 s, x1.5, capped at 5 s."""

TERRAFORM_SCHEDULE = PollSchedule(initial=0.5, factor=2.0, cap=10.0)
"""The Terraform provider's schedule (terraform-plugin-sdk ``retry``): 0.5 s doubling to 10 s."""


def poll_times(schedule: PollSchedule, until: float) -> list[float]:
    """Times of the polls (the first at 0) up to and including the first one at or after ``until``.

    Used to compare schedules on paper: for a state reached at ``until`` seconds, the number of
    polls is ``len(result)`` and the delay before it is noticed is ``result[-1] - until``.
    """
    times = [0.0]
    delays = schedule.delays()
    while times[-1] < until:
        times.append(times[-1] + next(delays))
    return times


class WaitTimeout(TimeoutError):
    """A wait that did not finish within its limit; the message says what was still pending."""


@dataclass(frozen=True)
class Waiter:
    """Runs polls on ``schedule`` using ``clock``/``sleep`` (real time unless a test injects them).

    ``report`` receives a progress line at least every ``progress_interval`` seconds of a wait
    (none for waits shorter than that), each saying what is awaited, the current state and the
    elapsed time.
    """

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    schedule: PollSchedule = POLL_SCHEDULE
    progress_interval: float = 30.0
    report: Callable[[str], None] | None = None

    def poll(
        self,
        probe: Callable[[], T],
        done: Callable[[T], bool],
        *,
        timeout: float,
        what: str,
        describe: Callable[[T], str] = str,
    ) -> T:
        """Calls ``probe`` until ``done(result)`` is true, then returns that result.

        ``probe`` and ``done`` may raise to end the wait with an error (a terminal failure).
        Raises ``WaitTimeout`` once ``timeout`` seconds have passed without success; the last
        poll happens at the deadline.
        """
        start = self.clock()
        deadline = start + timeout
        last_report = start
        delays = self.delays()
        while True:
            value = probe()
            if done(value):
                return value
            now = self.clock()
            if now >= deadline:
                raise WaitTimeout(f"{what}: still {describe(value)} after {timeout:g} s")
            delay = min(next(delays), deadline - now)
            if self.report is not None and now + delay - last_report > self.progress_interval:
                self.report(f"{what}: {describe(value)} ({now - start:.0f} s elapsed)")
                last_report = now
            self.sleep(delay)

    def delays(self) -> Iterator[float]:
        """A fresh sequence of delays from this waiter's schedule (for retry loops)."""
        return self.schedule.delays()
