"""Starts one command and writes its wall time, CPU time and peak RSS as JSON to a file.

    python benchmarks/launcher.py RESULT.json COMMAND [ARG ...]

Why a separate small process: on Linux a process's peak RSS (``ru_maxrss``) starts from the
high-water mark of the process that forked it (``exec`` keeps the old memory's high-water mark),
so a child started straight from a benchmark process that has imported Pulumi would report at
least that process's size. This launcher imports only the standard modules below, so the
inherited floor is its own few MB (``VmHWM``, recorded as ``launcher_rss_kib``), far below any
measured Python program.
"""

import json
import os
import sys
import time


def own_peak_rss_kib() -> int:
    """This process's own peak RSS (``VmHWM``): what a forked child inherits as its floor.
    (``getrusage(RUSAGE_SELF)`` would include the high-water mark inherited from our parent.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    result_path, command = sys.argv[1], sys.argv[2:]
    launcher_rss = own_peak_rss_kib()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(result_path, "w") as out:
        json.dump(
            {
                "exit_code": code,
                "wall_seconds": wall,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "peak_rss_kib": usage.ru_maxrss,
                "launcher_rss_kib": launcher_rss,
            },
            out,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
