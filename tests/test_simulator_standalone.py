"""``python -m cmek_component.simulator``: the standalone server and its flags."""

from __future__ import annotations

import dataclasses
import selectors
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from cmek_component.simulator import SimulatorSettings, seeds
from cmek_component.simulator.__main__ import build_parser, settings_from_args

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise AssertionError(f"the simulator printed nothing within {timeout} s")
    return process.stdout.readline().strip()


@pytest.fixture
def standalone():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cmek_component.simulator", "--port", str(port), "--quiet",
         "--api-key", "demo-key", "--enable-seconds", "0", "--cmek-absent", "DISABLED"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = read_line(process, timeout=30)
        yield port, url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


def test_standalone_server_prints_its_url_and_serves_the_api(standalone):
    port, url = standalone
    assert url == f"http://127.0.0.1:{port}"
    headers = {"Authorization": "Bearer demo-key", "Cc-Version": "2024-09-16"}
    cmek_url = f"{url}/api/v1/clusters/{seeds.AWS_SINGLE}/cmek"
    assert requests.get(cmek_url, headers=headers, timeout=10).json() == {"status": "DISABLED", "region_infos": []}
    seed_key = {"Authorization": "Bearer sim-admin-key"}
    assert requests.get(cmek_url, headers=seed_key, timeout=10).status_code == 401  # --api-key replaced it
    posted = requests.post(cmek_url, headers=headers, json={"region_specs": seeds.region_specs(seeds.AWS_SINGLE)},
                           timeout=10)
    assert posted.json()["status"] == "ENABLING"
    assert requests.get(cmek_url, headers=headers, timeout=10).json()["status"] == "ENABLED"  # --enable-seconds 0
    recorded = requests.get(f"{url}/_simulator/requests", timeout=10).json()["requests"]
    assert [(r["method"], r["status"]) for r in recorded] == [("GET", 200), ("GET", 401), ("POST", 200), ("GET", 200)]
    assert all("demo-key" not in str(r["headers"]) for r in recorded)


def test_every_setting_has_a_flag():
    parser = build_parser()
    flags = {a.dest for a in parser._actions}
    names = {f.name for f in dataclasses.fields(SimulatorSettings)} - {"api_keys"}
    assert names <= flags


def test_flags_become_settings():
    args = build_parser().parse_args([
        "--rate-limit-per-second", "0", "--enable-twice-status", "409", "--kms-check-operations", "enable,rotate",
        "--lock-cluster-during-cmek", "true", "--rotate-seconds", "2.5", "--api-key", "k1", "--api-key",
        "k2=CLUSTER_DEVELOPER",
    ])
    settings = settings_from_args(args)
    assert settings.rate_limit_per_second is None
    assert settings.enable_twice_status == 409
    assert settings.kms_check_operations == ("enable", "rotate")
    assert settings.lock_cluster_during_cmek is True
    assert settings.rotate_seconds == 2.5
    assert settings.api_keys == {"k1": "CLUSTER_ADMIN", "k2": "CLUSTER_DEVELOPER"}
    assert settings.enable_seconds == SimulatorSettings().enable_seconds
    assert "k1" not in repr(settings)


def test_bad_flag_values_are_refused():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--cmek-absent", "MAYBE"])
    with pytest.raises(ValueError, match="kms_check_operations"):
        settings_from_args(build_parser().parse_args(["--kms-check-operations", "delete"]))
