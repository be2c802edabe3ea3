"""The stand-ins' backends for a stack's life: start them, point the plugins at them, read them.

    with standin_backends(state_dir) as backends:
        install_standins(workspace.home)
        workspace.env.update(backends.env())
        ... run pulumi ...
        backends.mutating_calls()        # what the stand-ins changed, across CLI commands
        backends.aws("kms", "eu-west-1")  # boto3 client on moto, to look at what is stored

``state_dir`` keeps everything between harness runs: moto's replay journal
(``moto-journal.jsonl``: moto comes back with the same keys, roles and aliases at the next
start), the GCP store (``gcp-store.json``) and the stand-ins' call journal (``calls.jsonl``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..calls import Journal
from ..local_server import serving
from . import call_journal
from .aws_plugin import AWS_URL_ENV, FAKE_CREDENTIALS
from .gcp_plugin import GCP_STORE_ENV
from .gcp_store import GcpStore


@dataclass(frozen=True)
class StandinBackends:
    """The running backends: moto on ``moto_url``, the GCP store and the journals in ``state_dir``."""

    state_dir: Path
    moto_url: str

    @property
    def calls_path(self) -> Path:
        return self.state_dir / "calls.jsonl"

    @property
    def gcp_store_path(self) -> Path:
        return self.state_dir / "gcp-store.json"

    @property
    def moto_journal_path(self) -> Path:
        return self.state_dir / "moto-journal.jsonl"

    def env(self) -> dict[str, str]:
        """What the CLI's environment needs for the plugins to find their backends."""
        return {AWS_URL_ENV: self.moto_url, GCP_STORE_ENV: str(self.gcp_store_path),
                call_journal.CALLS_ENV: str(self.calls_path), **FAKE_CREDENTIALS}

    def calls(self) -> list[dict[str, Any]]:
        """Every backend call the stand-ins made (reads included), oldest first."""
        return call_journal.read(self.calls_path)

    def mutating_calls(self, cloud: str | None = None) -> list[tuple[str, str, str]]:
        """(cloud, operation, target) of every mutating call, of one cloud or all."""
        return [(c["cloud"], c["operation"], c["target"]) for c in self.calls()
                if c["mutating"] and cloud in (None, c["cloud"])]

    def moto_writes(self) -> list[str]:
        """The operations of every mutating request moto has served (its replay journal)."""
        return [entry["operation"] for entry in Journal.load(self.moto_journal_path)]

    def aws(self, service: str, region: str) -> Any:
        """A boto3 client on moto, for looking at what is stored (not recorded as a stand-in call)."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        ).client(service, region_name=region, endpoint_url=self.moto_url)

    def gcp(self) -> GcpStore:
        """The GCP store as it is now (read-only)."""
        store = GcpStore(self.gcp_store_path, read_only=True)
        store.load()
        return store


@contextmanager
def standin_backends(state_dir: Path) -> Iterator[StandinBackends]:
    """Starts moto (state replayed from ``state_dir``) on 127.0.0.1 and stops it at exit."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "moto-server.log"
    command = [sys.executable, "-m", "cmek_component.rehearsal.standins.moto_server",
               "--journal", str(state_dir / "moto-journal.jsonl")]
    with serving(command, log, "the moto server", env={**os.environ, **FAKE_CREDENTIALS}, append=True) as (url, _):
        yield StandinBackends(state_dir, url)
