"""Records of the API calls a rehearsal makes: one list per run, shown and asserted on.

Every stand-in (moto for AWS, the GCP validator, the Cloud API simulator) appends an
``ApiCall`` for each call it serves during the run, reads included; ``mutating`` tells the
writes apart (what a ``--preview`` must never make).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

READ_PREFIXES = ("Get", "List", "Describe")


@dataclass(frozen=True)
class ApiCall:
    """One API call: ``cloud`` (``aws``, ``gcp`` or ``cockroach``), the operation and its target."""

    cloud: str
    operation: str
    """AWS: ``kms:CreateKey``; GCP: ``kms.keyRings.create``; Cloud API: ``POST /api/v1/clusters/<id>/cmek``."""
    target: str = ""
    """Region, resource name or path: what the call acts on."""
    mutating: bool = True
    status: int | None = None
    """HTTP status for Cloud API calls."""
    body: Any = None
    """Request body (Cloud API) or the parameters that matter (AWS/GCP); never credentials."""
    at: float = 0.0
    """Wall-clock time of the call (seconds since the epoch): orders calls across stand-ins."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        target = f" {self.target}" if self.target else ""
        return f"{self.cloud:9} {self.operation}{target}{status}"


def is_mutating_aws(operation: str) -> bool:
    """``CreateKey`` is, ``DescribeKey``/``GetCallerIdentity``/``ListAliases`` are not."""
    return not operation.startswith(READ_PREFIXES)


@dataclass
class Journal:
    """An append-only JSON-lines file of the mutating calls a stand-in has served, across runs.

    Replaying it into a fresh stand-in at the next start rebuilds the same world: this is how
    moto's and the simulator's state survive between ``cmek rehearse`` processes.
    """

    path: Path
    entries: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Journal:
        journal = cls(path)
        if path.exists():
            with path.open() as stream:
                journal.entries = [json.loads(line) for line in stream if line.strip()]
        return journal

    def append(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as stream:
            stream.write(json.dumps(entry, sort_keys=True) + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(list(self.entries))

    def __len__(self) -> int:
        return len(self.entries)
