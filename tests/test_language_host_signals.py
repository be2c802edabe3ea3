"""The project's Python language host stops when the CLI closes it (SIGINT to its process group).

The CLI closes every plugin at the end of a command with SIGINT and kills it only 5 s later; a
host that ignored SIGINT cost every ``pulumi`` command about 10 s (it is started twice).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_sigint_to_its_process_group_stops_the_host_at_once(tmp_path: Path) -> None:
    executor = tmp_path / "pulumi-language-python-exec"
    executor.write_text("#!/bin/sh\nexit 0\n")
    executor.chmod(0o755)
    host = subprocess.Popen(
        [sys.executable, "-u", "-m", "cmek_component.pulumi_cli.language_host", "--use-executor", str(executor)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert host.stdout is not None
        port = host.stdout.readline().strip()
        assert port.isdigit(), host.stderr.read() if host.stderr else ""
        started = time.monotonic()
        os.killpg(host.pid, signal.SIGINT)  # what the CLI does when it closes the plugin
        host.wait(timeout=10)
        assert time.monotonic() - started < 4, "the host outlived the CLI's 5 s grace"
    finally:
        if host.poll() is None:
            host.kill()
            host.wait()
