"""Plan steps and their table: what a run will do (preview) or did (apply) to each resource.

Pure logic. The operations are Pulumi's:

====================  ==================================================================
``create``            the resource is new
``update``            changed in place (``changes`` lists the inputs that differ)
``replace``           a changed input cannot be updated: a new one is made, the old deleted
``same``              nothing to do
``delete``            gone from the program (or ``--destroy``): deleted in the cloud
``retain``            gone from the program, ``retain_on_delete``: forgotten, kept in the cloud
====================  ==================================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pulumi.output import Unknown

OPERATIONS = ("create", "update", "replace", "same", "delete", "retain")
SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "same": " ", "delete": "-", "retain": "~-"}
VERBS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "same": "unchanged",
    "delete": "to delete",
    "retain": "to retain (removed from the stack, kept in the cloud)",
}
DONE = {
    "create": "created",
    "update": "updated",
    "replace": "replaced",
    "same": "unchanged",
    "delete": "deleted",
    "retain": "retained (removed from the stack, kept in the cloud)",
}


@dataclass
class PlanStep:
    """One resource and what happens to it."""

    op: str
    urn: str
    type: str
    name: str
    changes: list[str] = field(default_factory=list)
    """Inputs that differ (update/replace); ``replaces`` are the ones forcing a replacement."""
    replaces: list[str] = field(default_factory=list)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def short_type(typ: str) -> str:
    """``aws:kms/key:Key`` -> ``aws:kms:Key``; dynamic ``pulumi-python:dynamic/cockroach:X`` -> ``cockroach:X``."""
    if typ.startswith("pulumi-python:dynamic/"):
        return typ.split("/", 1)[1]
    parts = typ.split(":")
    if len(parts) == 3 and "/" in parts[1]:
        return f"{parts[0]}:{parts[1].split('/')[0]}:{parts[2]}"
    return typ


def _is_unknown(value: Any) -> bool:
    return isinstance(value, Unknown)


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any], ignore: Iterable[str] = ()) -> list[str]:
    """Top-level inputs whose values differ (an unknown new value counts as a change)."""
    skipped = set(ignore)
    keys = sorted((set(old) | set(new)) - skipped)
    changed = []
    for key in keys:
        before, after = old.get(key), new.get(key)
        if contains_unknown(after) or _normal(before) != _normal(after):
            changed.append(key)
    return changed


def contains_unknown(value: Any) -> bool:
    if _is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False


def _normal(value: Any) -> Any:
    """Treats missing, ``None``, empty lists and empty maps alike, and 3 like 3.0 (as the engine's
    property diff does for values that round-trip through protobuf)."""
    if value in (None, [], {}):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items() if _normal(v) is not None}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    return value


def summary(steps: Iterable[PlanStep], done: bool = False) -> str:
    counts = Counter(step.op for step in steps)
    words = DONE if done else VERBS
    parts = [f"{counts[op]} {words[op]}" for op in OPERATIONS if counts[op]]
    return "Resources: " + (", ".join(parts) if parts else "none")


def render_table(steps: list[PlanStep], title: str, done: bool = False, with_summary: bool = True) -> str:
    """The plan as a table, one row per resource (in state order, deletions last)."""
    rows = [(SYMBOLS[s.op], s.op, short_type(s.type), s.name, _detail(s)) for s in steps]
    headers = ("", "op", "type", "name", "changes")
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) if rows else len(headers[i]) for i in range(4)]
    lines = [title]
    lines.append("  " + "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers[:4])) + "  " + headers[4])
    for row in rows:
        lines.append("  " + "  ".join(row[i].ljust(widths[i]) for i in range(4)) + ("  " + row[4] if row[4] else ""))
    if with_summary:
        lines.append(summary(steps, done))
    return "\n".join(line.rstrip() for line in lines)


def _detail(step: PlanStep) -> str:
    parts = []
    if step.changes:
        parts.append("[" + ", ".join(f"{c}*" if c in step.replaces else c for c in step.changes) + "]")
    if step.note:
        parts.append(step.note)
    return " ".join(parts)
