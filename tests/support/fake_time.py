"""A fake clock for code that takes injectable ``clock`` and ``sleep`` callables."""

from __future__ import annotations


class FakeTime:
    """``sleep`` moves ``now`` forward and records the delay; nothing really waits."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
