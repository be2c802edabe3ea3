"""The ``__main__.py`` of every benchmark project: runs ``program.py`` beside it (the program
under test, unchanged) and, at exit, appends this process's CPU time (user + system, seconds)
to the file named by ``BENCH_PROGRAM_CPU_FILE``, so a benchmark can tell the program's own CPU
time from the CLI's and the plugins'. The cost of the wrapper is the same for every program.
"""

import atexit
import os
import runpy
import time
from pathlib import Path

_OUT = os.environ.get("BENCH_PROGRAM_CPU_FILE")


def _record() -> None:
    if _OUT:
        with Path(_OUT).open("a") as out:
            out.write(f"{time.process_time():.4f}\n")


atexit.register(_record)
runpy.run_path(str(Path(__file__).resolve().with_name("program.py")), run_name="__main__")
