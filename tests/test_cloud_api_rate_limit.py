"""The client-side rate limiter, on an injected clock (no real waiting)."""

from __future__ import annotations

import itertools

import pytest

from cmek_component.cloud_api import rate_limit
from cmek_component.cloud_api.rate_limit import RequestRateLimiter, api_key_digest, shared_limiter
from tests.support.fake_time import FakeTime


def test_ten_requests_pass_then_the_eleventh_waits_a_window_after_the_first_answer() -> None:
    fake = FakeTime(500.0)
    limiter = RequestRateLimiter(10, clock=fake.clock)
    for _ in range(10):
        limiter.acquire(fake.sleep)
        fake.now += 0.01  # request latency
        limiter.release()
    assert fake.sleeps == []
    first_answer = 500.01
    limiter.acquire(fake.sleep)
    assert fake.now > first_answer + 1.0
    assert fake.now == pytest.approx(first_answer + 1.0, abs=0.01)


def test_a_request_in_flight_holds_its_place_until_answered() -> None:
    fake = FakeTime(500.0)
    limiter = RequestRateLimiter(1, clock=fake.clock)
    limiter.acquire(fake.sleep)
    fake.now += 5  # a slow answer: the window starts when it arrives, not when it was sent
    limiter.release()
    limiter.acquire(fake.sleep)
    assert fake.now == pytest.approx(506.0, abs=0.01) and fake.now > 506.0


def test_fractional_rates_space_requests_out() -> None:
    fake = FakeTime(500.0)
    limiter = RequestRateLimiter(0.5, clock=fake.clock)
    assert (limiter.limit, limiter.window) == (1, 2.0)
    starts = []
    for _ in range(3):
        limiter.acquire(fake.sleep)
        starts.append(fake.now)
        limiter.release()
    assert all(later - earlier > 2.0 for earlier, later in itertools.pairwise(starts))


def test_acquire_twice_without_release_gives_the_first_place_back() -> None:
    fake = FakeTime(500.0)
    limiter = RequestRateLimiter(1, clock=fake.clock)
    limiter.acquire(fake.sleep)

    def bounded_sleep(seconds: float) -> None:
        assert len(fake.sleeps) < 100, "the first place was never given back"
        fake.sleep(seconds)

    limiter.acquire(bounded_sleep)  # would wait forever if the first place stayed in flight
    assert sum(fake.sleeps) == pytest.approx(1.0, abs=0.01)


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="requests_per_second: expected a positive number, got 0"):
        RequestRateLimiter(0)


def test_limiters_are_shared_per_key_and_named_by_a_digest() -> None:
    fake = FakeTime(500.0)
    key = "crl-secret-limiter-key-0001"
    first = shared_limiter(key, 10, fake.clock)
    assert shared_limiter(key, 10, fake.clock) is first
    assert shared_limiter("another-key", 10, fake.clock) is not first
    assert shared_limiter(key, 10, FakeTime(500.0).clock) is not first
    names = [name for name, limiter in rate_limit._registry.items() if limiter is first]
    assert names == [(api_key_digest(key), 10.0, fake.clock)]
    assert key not in repr(rate_limit._registry)
    assert key not in api_key_digest(key)
