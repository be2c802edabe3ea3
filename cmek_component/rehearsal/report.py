"""What a rehearsal step adds to the CLI's output, and the JSON report a test or script reads.

Pure formatting: stack outputs, policy documents, per-region CMEK status, the mutating calls of
the step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One mutating call of a step: ``cloud`` is ``aws``/``gcp`` (a stand-in) or ``cockroach``
    (the simulator)."""

    cloud: str
    operation: str
    """AWS: ``kms:CreateKey``; GCP: ``kms:cryptoKeys.create``; Cloud API: ``POST /api/v1/clusters/<id>/cmek``."""
    target: str = ""
    status: int | None = None
    """HTTP status (Cloud API calls)."""
    body: Any = None
    """The request body (Cloud API calls; never a credential)."""

    def line(self) -> str:
        status = f" -> {self.status}" if self.status is not None else ""
        target = f" {self.target}" if self.target else ""
        return f"{self.cloud:9} {self.operation}{target}{status}"


@dataclass
class CommandRun:
    """One CLI command of the step: its arguments, exit status and ``Resources:`` counts."""

    args: list[str]
    returncode: int
    summary: dict[str, int] = field(default_factory=dict)
    mutating_calls: int = 0
    """Mutating calls made while it ran, on the stand-ins, moto and the simulator together."""


@dataclass
class RehearsalReport:
    """Everything one ``cmek rehearse`` step did (``--report FILE`` writes it as JSON)."""

    project: str
    stack: str
    mode: str
    """``up``, ``preview``, ``destroy`` or ``destroy-preview``."""
    commands: list[CommandRun] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    """The mutating calls of this step: the stand-ins' (AWS, GCP) then the simulator's."""
    moto_writes: list[str] = field(default_factory=list)
    """The mutating requests moto served in this step."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """``pulumi stack output --json`` after the step (secrets as ``[secret]``)."""
    cmek: dict[str, Any] = field(default_factory=dict)
    """Cluster id -> ``GET .../cmek`` body after the step (None when CMEK was never enabled)."""
    retained: list[str] = field(default_factory=list)
    """``destroy``: the resources the stack forgot but left in the cloud (``retain_on_delete``)."""
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _folded(value: Any) -> Any:
    """Multi-line strings (documents the policies already show) folded to one line."""
    if isinstance(value, str) and "\n" in value:
        return f"({len(value.splitlines())} lines of text; in full: --report, or pulumi stack output)"
    if isinstance(value, Mapping):
        return {k: _folded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_folded(v) for v in value]
    return value


def render_outputs(outputs: Mapping[str, Any]) -> str:
    """The stack outputs as ``pulumi stack output --json`` gives them (secrets ``[secret]``),
    multi-line documents folded."""
    if not outputs:
        return "Outputs: none"
    lines = ["Outputs:"]
    for name, value in _folded(dict(outputs)).items():
        if isinstance(value, (dict, list)):
            lines.append(f"  {name}:")
            lines.extend("    " + line for line in json.dumps(value, indent=2, sort_keys=True).splitlines())
        else:
            lines.append(f"  {name}: {value}")
    return "\n".join(lines)


def render_cmek_status(cluster_id: str, cmek: Mapping[str, Any] | None, cluster: Mapping[str, Any] | None) -> str:
    """One cluster's CMEK state as ``GET .../cmek`` reports it: overall, then per region the
    current key and how many keys the region has used."""
    name = f" ({cluster.get('name')})" if cluster else ""
    state = ""
    if cluster and cluster.get("state") != "CREATED":
        state = f", cluster {cluster.get('state')} ({cluster.get('operation_status')})"
    if cmek is None:
        return f"CMEK status of cluster {cluster_id}{name}: not enabled{state}"
    lines = [f"CMEK status of cluster {cluster_id}{name}: {cmek.get('status')}{state}"]
    rows = []
    for region in cmek.get("region_infos") or []:
        keys = region.get("key_infos") or []
        current = next((k for k in reversed(keys) if k.get("status") in ("ENABLED", "ENABLING", "REVOKED", "REVOKING")),
                       None)
        current = current or (keys[-1] if keys else {})
        uri = (current.get("spec") or {}).get("uri", "")
        rows.append((region.get("region", ""), region.get("status", ""), current.get("status", ""), str(len(keys)), uri))
    headers = ("region", "status", "key status", "keys", "current key")
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) if rows else len(headers[i]) for i in range(4)]
    lines.append("  " + "  ".join(headers[i].ljust(widths[i]) for i in range(4)) + "  " + headers[4])
    for row in rows:
        lines.append("  " + "  ".join(row[i].ljust(widths[i]) for i in range(4)) + "  " + row[4])
    return "\n".join(lines)


def render_calls(calls: list[Call]) -> str:
    if not calls:
        return "Mutating calls in this step (stand-ins and simulator): none"
    return "\n".join([f"Mutating calls in this step ({len(calls)}):", *("  " + c.line() for c in calls)])


def render_policy(title: str, document: Any) -> str:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return f"{title}:\n  {document}"
    text = json.dumps(document, indent=2, sort_keys=False)
    return "\n".join([f"{title}:", *("  " + line for line in text.splitlines())])
