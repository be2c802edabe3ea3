"""The rehearsal's state file: what Pulumi's checkpoint holds, as readable JSON.

``<state dir>/state.json`` lists every resource the last run left behind, dependencies before
dependents (ties in URN order), with its type, id, the inputs it was last applied with, its
outputs and the options that matter between runs (``retain_on_delete``, ``protect``, parent,
provider, dependencies). Secret values are never written: a secret input or output is stored as
``{"secret_sha256": "<hex>"}`` so a later run can still tell whether it changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

STATE_VERSION = 1
SECRET_MARKER = "secret_sha256"


@dataclass
class ResourceState:
    """One resource as the last run left it."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    provider: str = ""
    dependencies: list[str] = field(default_factory=list)
    protect: bool = False
    retain_on_delete: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceState:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class StackState:
    """Every resource of the stack plus the stack's exported outputs."""

    project: str
    stack: str
    resources: list[ResourceState] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, ResourceState]:
        return {r.urn: r for r in self.resources}


def topological(resources: Iterable[ResourceState]) -> list[ResourceState]:
    """Parents and dependencies before dependents, ties broken by URN: the same order whatever
    order the program happened to register them in (so an unchanged stack writes the same file)."""
    by_urn = {r.urn: r for r in resources}
    needs = {
        urn: {d for d in [r.parent, *r.dependencies] if d in by_urn and d != urn} for urn, r in by_urn.items()
    }
    ordered: list[ResourceState] = []
    placed: set[str] = set()
    while len(ordered) < len(by_urn):
        ready = sorted(urn for urn in by_urn if urn not in placed and needs[urn] <= placed)
        if not ready:  # a cycle cannot come from the SDK; keep the rest in URN order
            ready = sorted(urn for urn in by_urn if urn not in placed)[:1]
        ordered.append(by_urn[ready[0]])
        placed.add(ready[0])
    return ordered


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def reveal(value: Any) -> Any:
    """``value`` with every secret wrapper removed (for comparing and for applying)."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(reveal(value), sort_keys=True, default=str).encode()).hexdigest()


def seal(value: Any) -> Any:
    """``value`` as the state file stores it: secrets replaced by their SHA-256 marker."""
    if is_secret(value):
        return {SECRET_MARKER: _digest(value)}
    if isinstance(value, dict):
        return {k: seal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [seal(v) for v in value]
    return value


def comparable(value: Any) -> Any:
    """A form of ``value`` that compares equal to its sealed form when the secret is unchanged."""
    return seal(value)


def load_state(path: Path, project: str, stack: str) -> StackState:
    """The state at ``path``, or an empty state when the file does not exist yet."""
    if not path.exists():
        return StackState(project=project, stack=stack)
    data = json.loads(path.read_text())
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"{path}: version: expected {STATE_VERSION}, got {data.get('version')!r}")
    if data.get("stack") != stack or data.get("project") != project:
        raise ValueError(
            f"{path}: belongs to {data.get('project')}/{data.get('stack')}, not {project}/{stack}"
        )
    return StackState(
        project=project,
        stack=stack,
        resources=[ResourceState.from_json(r) for r in data.get("resources", [])],
        outputs=dict(data.get("outputs") or {}),
    )


def save_state(path: Path, state: StackState, forbidden: Iterable[str] = ()) -> None:
    """Writes ``state`` atomically, resources in ``topological`` order. Refuses to write if any ``forbidden`` string (the API key)
    would end up in the file."""
    document = {
        "version": STATE_VERSION,
        "project": state.project,
        "stack": state.stack,
        "resources": [
            {**asdict(r), "inputs": seal(r.inputs), "outputs": seal(r.outputs)} for r in topological(state.resources)
        ],
        "outputs": seal(state.outputs),
    }
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    for secret in forbidden:
        if secret and secret in text:
            raise RuntimeError(f"{path}: refusing to write a state that contains a secret value")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=".state-", dir=path.parent)
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temp, path)
