"""Runs a stand-in provider plugin (``-u -m <module> <args>``, as the stand-ins' launchers call
Python) and, at exit, appends this process's CPU time (user + system, seconds) to the file named
by ``BENCH_PLUGIN_CPU_FILE``: the part of a command that the stand-ins for the cloud providers
cost, which a user running the real AWS or GCP provider does not pay (see ``bench_cli_growth``).
"""

import atexit
import os
import runpy
import sys
import time
from pathlib import Path

_OUT = os.environ.get("BENCH_PLUGIN_CPU_FILE")


def _record() -> None:
    if _OUT:
        with Path(_OUT).open("a") as out:
            out.write(f"{time.process_time():.4f}\n")


def _module(argv: list[str]) -> tuple[str, list[str]]:
    """(module, its arguments) from ``[-u] -m <module> <args>``."""
    rest = [arg for arg in argv if arg != "-u"]
    if len(rest) < 2 or rest[0] != "-m":
        raise SystemExit(f"recorded_plugin: expected [-u] -m <module> <args>, got {argv}")
    return rest[1], rest[2:]


if __name__ == "__main__":
    module, arguments = _module(sys.argv[1:])
    atexit.register(_record)
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
