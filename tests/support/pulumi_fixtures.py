"""Pulumi mocks for program tests: a fresh event loop and ``reset_options()`` per test, and a
monitor that records each resource's options (protect, retain_on_delete, parent, dependencies),
which ``MockResourceArgs`` does not carry.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
import pytest
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor


@dataclass
class RecordedResource:
    """One resource registered under mocks: type, name, inputs and options."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    custom: bool
    parent: str
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]


@dataclass
class RecordedCall:
    token: str
    args: dict[str, Any]


class RecordingMonitor(MockMonitor):
    """A MockMonitor that keeps the options of every RegisterResource request."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.options: dict[str, dict[str, Any]] = {}
        self.thread_loops: list[asyncio.AbstractEventLoop] = []

    def close_thread_loops(self) -> None:
        """Closes the event loops made for executor threads (``MockMonitor`` would leave them to
        the garbage collector, which sometimes reports them as unraisable errors)."""
        for loop in self.thread_loops:
            loop.close()
        self.thread_loops.clear()

    def RegisterResource(self, request: Any) -> Any:
        if threading.current_thread() is not threading.main_thread():
            try:
                asyncio.get_event_loop()
            except RuntimeError:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                self.thread_loops.append(loop)
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        self.options[response.urn] = {
            "type": request.type,
            "name": request.name,
            "custom": bool(request.custom),
            "inputs": rpc.deserialize_properties(request.object),
            "parent": request.parent,
            "protect": bool(request.protect),
            "retain_on_delete": bool(request.retainOnDelete),
            "dependencies": list(request.dependencies),
            "ignore_changes": list(request.ignoreChanges),
            "property_dependencies": {
                k: list(v.urns) for k, v in request.propertyDependencies.items()
            },
        }
        return response


@dataclass
class Recorder(pulumi.runtime.Mocks):
    """Mocks that record resources and invokes and answer with plausible ids and outputs.

    ``outputs`` maps a resource type token to a function computing extra outputs from
    ``(name, inputs)``; ``calls`` maps an invoke token to a function computing its result (a dict, or
    ``(dict, [(property, reason)])`` for a failed invoke).
    """

    outputs: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)
    call_results: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)
    new: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    calls: list[RecordedCall] = field(default_factory=list)
    monitor: RecordingMonitor | None = None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.new.append((args.typ, args.name, dict(args.inputs)))
        state = dict(args.inputs)
        extra = self.outputs.get(args.typ)
        if extra is not None:
            state.update(extra(args.name, dict(args.inputs)))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:
        self.calls.append(RecordedCall(args.token, dict(args.args)))
        handler = self.call_results.get(args.token)
        return handler(dict(args.args)) if handler else {}

    def resources(self) -> list[RecordedResource]:
        """Every registered resource (components included), in registration order, with its
        inputs as sent (camelCase for provider resources) and the options the monitor saw."""
        assert self.monitor is not None
        found: list[RecordedResource] = []
        for urn, options in self.monitor.options.items():
            found.append(
                RecordedResource(
                    type=options["type"],
                    name=options["name"],
                    urn=urn,
                    inputs=options["inputs"],
                    custom=options["custom"],
                    parent=options.get("parent", ""),
                    protect=options.get("protect", False),
                    retain_on_delete=options.get("retain_on_delete", False),
                    dependencies=options.get("dependencies", []),
                    property_dependencies=options.get("property_dependencies", {}),
                )
            )
        return found

    def by_type(self, typ: str) -> list[RecordedResource]:
        return [r for r in self.resources() if r.type == typ]

    def one(self, typ: str, name: str | None = None) -> RecordedResource:
        matches = [r for r in self.by_type(typ) if name is None or r.name == name]
        assert len(matches) == 1, f"expected one {typ} {name or ''}, found {[m.name for m in matches]}"
        return matches[0]


@pytest.fixture
def pulumi_mocks() -> Iterator[Callable[..., Recorder]]:
    """Installs Pulumi mocks on a fresh event loop; returns ``install(recorder=None, config=None)``.

    ``config`` is a flat ``{"project:key": value}`` map (values that are not strings are JSON
    encoded, as the CLI does); keys listed in ``secret_keys`` are secrets.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.reset_options(project="cmek", stack="test")

    def install(
        recorder: Recorder | None = None,
        config: dict[str, Any] | None = None,
        secret_keys: list[str] | None = None,
        preview: bool = False,
    ) -> Recorder:
        recorder = recorder or Recorder()
        monitor = RecordingMonitor(recorder)
        recorder.monitor = monitor
        pulumi.runtime.set_mocks(
            recorder, project="cmek", stack="test", preview=preview, monitor=monitor, organization="organization"
        )
        flat = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
        pulumi.runtime.set_all_config(flat, secret_keys=secret_keys or [])
        return recorder

    monitors: list[RecordingMonitor] = []

    def install_and_track(*args: Any, **kwargs: Any) -> Recorder:
        recorder = install(*args, **kwargs)
        assert recorder.monitor is not None
        monitors.append(recorder.monitor)
        return recorder

    yield install_and_track
    pulumi.runtime.set_all_config({}, secret_keys=[])
    for monitor in monitors:
        monitor.close_thread_loops()
    loop.close()
