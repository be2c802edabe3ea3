"""The activation's waits: capped exponential backoff, deadlines and progress reports."""

from __future__ import annotations

import itertools

import pytest

from cmek_component.activation.waiting import (
    POLL_SCHEDULE,
    TERRAFORM_SCHEDULE,
    PollSchedule,
    Waiter,
    WaitTimeout,
    poll_times,
)
from tests.support.fake_time import FakeTime


def take(schedule: PollSchedule, n: int) -> list[float]:
    delays = schedule.delays()
    return [next(delays) for _ in range(n)]


def test_default_schedule_grows_then_stays_at_five_seconds() -> None:
    assert take(POLL_SCHEDULE, 7) == pytest.approx([1.0, 1.5, 2.25, 3.375, 5.0, 5.0, 5.0])


def test_terraform_schedule_is_half_a_second_doubling_to_ten() -> None:
    assert take(TERRAFORM_SCHEDULE, 7) == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_poll_times_end_at_the_first_poll_after_the_event() -> None:
    times = poll_times(TERRAFORM_SCHEDULE, 20.0)
    assert times == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 25.5]


def test_nonsense_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="factor >= 1"):
        PollSchedule(initial=1, factor=0.5, cap=5)


def test_poll_returns_the_first_value_that_is_done() -> None:
    t = FakeTime()
    answers = iter(["ENABLING", "ENABLING", "ENABLING", "ENABLED", "never reached"])
    result = Waiter(clock=t.clock, sleep=t.sleep).poll(
        lambda: next(answers), lambda v: v == "ENABLED", timeout=60, what="enable"
    )
    assert result == "ENABLED"
    assert t.sleeps == pytest.approx([1.0, 1.5, 2.25])


def test_poll_times_out_at_the_deadline_naming_the_last_state() -> None:
    t = FakeTime()
    polls: list[float] = []

    def probe() -> str:
        polls.append(t.now)
        return "ENABLING"

    with pytest.raises(WaitTimeout, match=r"CMEK on cluster c: still ENABLING after 20 s"):
        Waiter(clock=t.clock, sleep=t.sleep).poll(probe, lambda v: False, timeout=20, what="CMEK on cluster c")
    assert polls[-1] == pytest.approx(20.0)  # the last poll happens at the deadline, not after it
    assert all(later > earlier for earlier, later in itertools.pairwise(polls))


def test_errors_raised_by_the_probe_end_the_wait() -> None:
    t = FakeTime()

    def probe() -> str:
        raise RuntimeError("ENABLE_FAILED in us-east-1: key disabled")

    with pytest.raises(RuntimeError, match="key disabled"):
        Waiter(clock=t.clock, sleep=t.sleep).poll(probe, lambda v: False, timeout=60, what="x")


def test_long_waits_report_progress_at_least_every_thirty_seconds() -> None:
    t = FakeTime()
    reports: list[tuple[float, str]] = []
    waiter = Waiter(clock=t.clock, sleep=t.sleep, report=lambda line: reports.append((t.now, line)))
    waiter.poll(lambda: t.now, lambda now: now >= 600, timeout=7200, what="CMEK on cluster c", describe=lambda now: "us-east-1 ENABLING")
    times = [0.0] + [when for when, _ in reports] + [t.now]
    assert len(reports) >= 600 // 30 - 1
    assert max(b - a for a, b in itertools.pairwise(times)) <= 30
    assert reports[0][1].startswith("CMEK on cluster c: us-east-1 ENABLING (")


def test_short_waits_stay_quiet() -> None:
    t = FakeTime()
    reports: list[str] = []
    Waiter(clock=t.clock, sleep=t.sleep, report=reports.append).poll(lambda: t.now, lambda now: now >= 10, timeout=60, what="x")
    assert reports == []
