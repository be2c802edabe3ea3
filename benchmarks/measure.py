"""Measuring subprocesses, statistics and small tables (shared by the ``bench_*.py`` scripts).

A subprocess is measured the way ``/usr/bin/time -v`` does it, by ``launcher.py`` (a small
process that starts it): wall time from start to exit, and the kernel's resource usage of that
one child, read with ``os.wait4``: peak resident set size (``ru_maxrss``) and CPU time (user +
system). CPU time is less disturbed than wall time by other work on the machine.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
ROOT = BENCHMARKS.parent
PYTHON = sys.executable


PYCACHE = Path(tempfile.gettempdir()) / "cmek-benchmarks-pycache"


def child_env() -> dict[str, str]:
    """The environment of measured children: bytecode caching on, as on a user's machine.

    ``PYTHONDONTWRITEBYTECODE`` (set in some sandboxes) would make every run recompile the
    package and ``__main__.py``'s imports; caches go to ``PYCACHE`` (``PYTHONPYCACHEPREFIX``),
    so nothing is written into the project tree. Callers warm the cache with one unmeasured run.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


@dataclass(frozen=True)
class Sample:
    """One measured subprocess run."""

    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str


def run_measured(command: Sequence[str], timeout: float = 900.0) -> Sample:
    """Runs ``command`` from the project root through ``launcher.py`` and measures it.

    Raises ``RuntimeError`` with the end of the child's stderr when it exits non-zero, and
    ``TimeoutError`` (after killing it) when it runs longer than ``timeout`` seconds.
    """
    with tempfile.TemporaryDirectory() as scratch:
        result_path = Path(scratch) / "result.json"
        launcher = [PYTHON, "-S", "-E", str(BENCHMARKS / "launcher.py"), str(result_path), *command]
        try:
            done = subprocess.run(launcher, cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{' '.join(command)}: killed after {timeout:g} s") from None
        if done.returncode != 0 or not result_path.exists():
            raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr[-4000:]}")
        figures = json.loads(result_path.read_text())
    if figures["peak_rss_kib"] <= figures["launcher_rss_kib"]:
        raise RuntimeError(f"{' '.join(command)}: peak RSS not above the launcher's own (too small a command to measure this way)")
    return Sample(
        wall_seconds=figures["wall_seconds"],
        cpu_seconds=figures["cpu_seconds"],
        peak_rss_mb=figures["peak_rss_kib"] / 1024.0,  # KiB on Linux
        stdout=done.stdout,
    )


@dataclass(frozen=True)
class Summary:
    """The medians of repeated runs of one command."""

    label: str
    runs: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float


def summarize(label: str, samples: Sequence[Sample]) -> Summary:
    return Summary(
        label=label,
        runs=len(samples),
        wall_seconds=statistics.median(s.wall_seconds for s in samples),
        cpu_seconds=statistics.median(s.cpu_seconds for s in samples),
        peak_rss_mb=statistics.median(s.peak_rss_mb for s in samples),
    )


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """(slope, intercept, r squared) of the least-squares line through the points."""
    fit = statistics.linear_regression(xs, ys)
    mean = statistics.fmean(ys)
    total = sum((y - mean) ** 2 for y in ys)
    residual = sum((y - (fit.slope * x + fit.intercept)) ** 2 for x, y in zip(xs, ys, strict=True))
    return fit.slope, fit.intercept, 1.0 - residual / total if total else 1.0


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (also readable as plain text)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def machine() -> dict[str, str]:
    """Date, core count and Python version of this run (for results.md)."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cores": str(len(os.sched_getaffinity(0))),  # what `nproc` prints
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
