"""A local server process for the rehearsal, the tests and the benchmarks (the simulator, moto).

Each of them prints its URL (``http://127.0.0.1:<port>``) as the first line of its standard
output once it listens; :func:`serving` starts one, waits for that line, and stops the process at
exit (SIGTERM, then SIGKILL after 10 s), whatever happened in between.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

LOOPBACK_URL = "http://127.0.0.1:"


@contextmanager
def serving(command: Sequence[str], log: Path, what: str, *, env: Mapping[str, str] | None = None,
            cwd: Path | None = None, error: type[Exception] = RuntimeError,
            append: bool = False) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Runs ``command`` with its standard error in ``log`` (appended to with ``append``) and
    yields ``(url, process)`` once it printed its URL; raises ``error`` naming ``what`` with the
    end of the log when it exits or prints anything else first."""
    with log.open("a" if append else "w") as stderr:
        process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   env=dict(env) if env is not None else None, cwd=cwd)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith(LOOPBACK_URL):
            if process.poll() is None:
                process.terminate()
            process.wait(timeout=30)
            raise error(f"{what} did not start: {log.read_text().strip()[-2000:]}")
        yield url, process
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    """Stops ``process`` (SIGTERM, SIGKILL after 10 s) and closes its standard output."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()
