"""``scripts/pulumi-cli.sh``: finds or builds the real CLI, prints its directory last.

The build itself (15 minutes cold) runs once per machine in the test command; these tests use
small stand-in ``pulumi`` scripts in a private cache directory (``CMEK_TOOLS_DIR``) to check
what the script decides, what it says, and its lock.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "pulumi-cli.sh"
VERSION = (REPO / "pulumi-cli.version").read_text().strip()
NO_GO_PATH = "/usr/bin:/bin"


def fake_cli(directory: Path, version: str = VERSION, *, with_host: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    pulumi = directory / "pulumi"
    pulumi.write_text(f"#!/bin/sh\necho v{version}\n")
    pulumi.chmod(0o755)
    if with_host:
        host = directory / "pulumi-language-python"
        host.write_text("#!/bin/sh\nexit 0\n")
        host.chmod(0o755)
    return directory


def fake_cache(tools: Path) -> Path:
    cache = tools / f"pulumi-{VERSION}"
    fake_cli(cache / "bin")
    (cache / ".complete").touch()
    return cache / "bin"


def run(tools: Path, path: str = NO_GO_PATH, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "CMEK_TOOLS_DIR": str(tools), **env}
    return subprocess.run(["bash", str(SCRIPT)], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_complete_cache_is_used_without_go_and_its_path_is_the_last_line(tmp_path: Path) -> None:
    bin_dir = fake_cache(tmp_path)
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(bin_dir)
    assert f"cached: {bin_dir} (v{VERSION})" in done.stderr
    # Without Go the two language hosts written in Go cannot be built: said, and not fatal.
    assert "TypeScript programs will not run" in done.stderr and "Go programs will not run" in done.stderr


def test_without_go_or_a_cli_it_says_what_to_install(tmp_path: Path) -> None:
    done = run(tmp_path)
    assert done.returncode == 1
    assert f"install the Pulumi CLI {VERSION} or Go >= 1.24" in done.stderr
    assert done.stdout == ""


def test_a_cli_named_by_pulumi_cli_is_used_only_at_the_supported_version(tmp_path: Path) -> None:
    good = fake_cli(tmp_path / "good")
    done = run(tmp_path / "tools", PULUMI_CLI=str(good / "pulumi"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(good)

    old = fake_cli(tmp_path / "old", version="3.100.0")
    refused = run(tmp_path / "tools", PULUMI_CLI=str(old))
    assert f"{old}/pulumi is v3.100.0, not v{VERSION}: not used" in refused.stderr
    assert refused.returncode == 1  # and no Go to build one

    hostless = fake_cli(tmp_path / "hostless", with_host=False)
    refused = run(tmp_path / "tools", PULUMI_CLI=str(hostless))
    assert "has no pulumi-language-python: not used" in refused.stderr


def test_a_second_run_waits_for_a_build_under_way_and_takes_its_result(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    with (tools / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a build under way
        waiting = subprocess.Popen(
            ["bash", str(SCRIPT)], cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "CMEK_TOOLS_DIR": str(tools), "PULUMI_CLI": ""},
        )
        time.sleep(2)
        assert waiting.poll() is None  # it waits instead of building beside the other run
        bin_dir = fake_cache(tools)  # what the other run leaves behind
        fcntl.flock(lock, fcntl.LOCK_UN)
        stdout, stderr = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, stderr
    assert "another run is building" in stderr
    assert "cached (built by the other run)" in stderr
    assert stdout.strip().splitlines()[-1] == str(bin_dir)
    assert not any(p.name.startswith("build.") for p in tools.iterdir())
