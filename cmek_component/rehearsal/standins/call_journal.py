"""The stand-ins' record of the calls they make on their backends, across CLI commands.

Each provider process appends one JSON line per backend call to the file named by
``CMEK_STANDIN_CALLS`` (the harness sets it): ``{"cloud", "operation", "target", "mutating",
"at", "pid"}``. Tests and the rehearsal read it to show what a command did and to assert that a
preview made no mutating call.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

CALLS_ENV = "CMEK_STANDIN_CALLS"


def record(cloud: str, operation: str, target: str, mutating: bool) -> None:
    """Appends one call to the journal (nothing when ``CMEK_STANDIN_CALLS`` is unset)."""
    path = os.environ.get(CALLS_ENV)
    if not path:
        return
    line = json.dumps({"cloud": cloud, "operation": operation, "target": target, "mutating": mutating,
                       "at": time.time(), "pid": os.getpid()}, sort_keys=True)
    with open(path, "a") as stream:
        stream.write(line + "\n")


def read(path: Path) -> list[dict[str, Any]]:
    """Every call recorded so far, oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
