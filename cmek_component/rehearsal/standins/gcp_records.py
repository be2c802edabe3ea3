"""The GCP stand-in's records: what GCP holds, the names ever used, and every call made.

:class:`GcpRecords` is the state the GCP store's resources (:mod:`.gcp_accounts`,
:mod:`.gcp_kms`) act on, loaded from and saved to one JSON file whole, plus the call record
(a mutating call of a read-only store is refused, as a preview must not change GCP) and the
deterministic ids of GCP's formats (digits, etags).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmek_component.gcp.rules import project_problem

from ..calls import ApiCall
from ..errors import RehearsalError


def problem_text(problem: Any) -> str:
    return f"{problem.field}: {problem.message}"


def digits(text: str, length: int) -> str:
    number = int(hashlib.sha256(text.encode()).hexdigest(), 16)
    return ("1" + str(number))[:length]


def etag(text: str) -> str:
    return "BwY" + base64.b64encode(hashlib.sha256(text.encode()).digest()[:6]).decode()


@dataclass
class GcpRecords:
    """What the GCP stand-in holds, where it is stored, and the calls made on it."""

    path: Path
    default_project: str | None = None
    default_region: str | None = None
    read_only: bool = False
    calls: list[ApiCall] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Resource name -> what GCP holds (kind, fields, IAM bindings)."""
    names_used: list[str] = field(default_factory=list)
    """Key ring and crypto key names ever created: never reusable."""

    def load(self) -> None:
        if self.path.exists():
            data = json.loads(self.path.read_text())
            self.objects = dict(data.get("objects") or {})
            self.names_used = list(data.get("names_used") or [])

    def save(self) -> None:
        if self.read_only:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".gcp-", dir=self.path.parent)
        with os.fdopen(handle, "w") as stream:
            json.dump({"objects": self.objects, "names_used": self.names_used}, stream, indent=2, sort_keys=True)
        os.replace(temp, self.path)

    def _call(self, operation: str, target: str, mutating: bool = True, body: Any = None) -> None:
        if mutating and self.read_only:
            raise RehearsalError(f"preview attempted a mutating GCP call: {operation} {target}")
        self.calls.append(ApiCall("gcp", operation, target, mutating, body=body, at=time.time()))

    def _project(self, inputs: Mapping[str, Any], where: str) -> str:
        project = inputs.get("project") or self.default_project
        if not project:
            raise RehearsalError(f"{where}: project: required (set it or `gcp:project` in the stack config)")
        problem = project_problem(f"{where}: project", project)
        if problem:
            raise RehearsalError(problem_text(problem))
        return str(project)

    def bindings(self, name: str) -> dict[str, list[str]]:
        """IAM bindings (role -> members) the stand-in holds on a service account or crypto key."""
        return {k: list(v) for k, v in (self.objects.get(name, {}).get("bindings") or {}).items()}
