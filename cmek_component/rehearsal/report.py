"""What a rehearsal shows a person: stack outputs, policy documents, per-region CMEK status,
the API calls made, and the JSON report a test reads. Pure formatting."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi.output import Unknown

from .calls import ApiCall
from .plan import PlanStep
from .state import is_secret


@dataclass
class RehearsalReport:
    """Everything one ``cmek rehearse`` run did, for the JSON report (``--report``)."""

    project: str
    stack: str
    mode: str
    """``up``, ``preview``, ``destroy`` or ``destroy-preview``."""
    plan: list[PlanStep] = field(default_factory=list)
    """The preview's plan (for ``up``: what was planned before applying)."""
    applied: list[PlanStep] = field(default_factory=list)
    """What was done (empty for previews)."""
    calls: list[ApiCall] = field(default_factory=list)
    """Every call to a stand-in during this run, in order per stand-in (reads included)."""
    provider_rpcs: list[str] = field(default_factory=list)
    """gRPC calls sent to the dynamic provider host (``Configure``, ``Check``, ``Diff`` ...)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    cmek: dict[str, Any] = field(default_factory=dict)
    """Cluster id -> ``GET .../cmek`` body after the run (None when CMEK was never enabled)."""
    error: str | None = None

    def mutating_calls(self) -> list[ApiCall]:
        return [c for c in self.calls if c.mutating]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "mode": self.mode,
            "plan": [s.to_json() for s in self.plan],
            "applied": [s.to_json() for s in self.applied],
            "calls": [c.to_json() for c in self.calls],
            "provider_rpcs": list(self.provider_rpcs),
            "outputs": displayable(self.outputs),
            "cmek": self.cmek,
            "error": self.error,
        }


def displayable(value: Any) -> Any:
    """Secrets as ``[secret]``, unknowns as ``(known after apply)``, the rest as it is."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, Unknown):
        return "(known after apply)"
    if isinstance(value, Mapping):
        return {str(k): displayable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [displayable(v) for v in value]
    return value


def _folded(value: Any) -> Any:
    """Multi-line strings (documents already shown elsewhere) folded to one line."""
    if isinstance(value, str) and "\n" in value:
        return f"({len(value.splitlines())} lines of text; full value in --report)"
    if isinstance(value, Mapping):
        return {k: _folded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_folded(v) for v in value]
    return value


def render_outputs(outputs: Mapping[str, Any]) -> str:
    if not outputs:
        return "Outputs: none"
    lines = ["Outputs:"]
    for name, value in outputs.items():
        shown = _folded(displayable(value))
        if isinstance(shown, (dict, list)):
            text = json.dumps(shown, indent=2, sort_keys=True)
            lines.append(f"  {name}:")
            lines.extend("    " + line for line in text.splitlines())
        else:
            lines.append(f"  {name}: {shown}")
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
        current = next((k for k in keys if k.get("status") in ("ENABLED", "ENABLING", "REVOKED", "REVOKING")), None)
        current = current or (keys[-1] if keys else {})
        uri = (current.get("spec") or {}).get("uri", "")
        rows.append((region.get("region", ""), region.get("status", ""), current.get("status", ""), str(len(keys)), uri))
    headers = ("region", "status", "key status", "keys", "current key")
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) if rows else len(headers[i]) for i in range(4)]
    lines.append("  " + "  ".join(headers[i].ljust(widths[i]) for i in range(4)) + "  " + headers[4])
    for row in rows:
        lines.append("  " + "  ".join(row[i].ljust(widths[i]) for i in range(4)) + "  " + row[4])
    return "\n".join(lines)


def render_calls(calls: list[ApiCall], mutating_only: bool = True) -> str:
    shown = [c for c in calls if c.mutating or not mutating_only]
    title = "Mutating API calls" if mutating_only else "API calls"
    if not shown:
        return f"{title}: none"
    return "\n".join([f"{title} ({len(shown)}):", *("  " + c.line() for c in shown)])


def render_policy(title: str, document: Any) -> str:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError:
            return f"{title}:\n  {document}"
    text = json.dumps(document, indent=2, sort_keys=False)
    return "\n".join([f"{title}:", *("  " + line for line in text.splitlines())])
