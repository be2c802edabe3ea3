"""Local servers (the simulator, moto) are started, awaited and always stopped."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cmek_component.rehearsal.local_server import serving

SERVER = "import sys, time; print('http://127.0.0.1:1234', flush=True); time.sleep(60)"


def test_the_url_is_yielded_and_the_process_is_stopped_at_exit(tmp_path: Path) -> None:
    with serving([sys.executable, "-c", SERVER], tmp_path / "log", "the test server") as (url, process):
        assert url == "http://127.0.0.1:1234" and process.poll() is None
    assert process.poll() is not None


def test_a_server_that_fails_to_start_is_named_with_the_end_of_its_log(tmp_path: Path) -> None:
    failing = "import sys; sys.stderr.write('port already in use'); sys.exit(3)"
    with pytest.raises(RuntimeError, match=r"^the test server did not start: port already in use$"):
        with serving([sys.executable, "-c", failing], tmp_path / "log", "the test server"):
            pass


def test_the_process_is_stopped_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        with serving([sys.executable, "-c", SERVER], tmp_path / "log", "the test server") as (_, process):
            raise KeyError("boom")
    assert process.poll() is not None
