"""gRPC dynamic-provider fixtures: the real plugin host (``python -m pulumi.dynamic``) in a
subprocess, driven with ``provider_pb2`` messages the way the Pulumi engine drives it.

``provider_host`` starts one plugin (``PULUMI_PROJECT=cmek``, no ``COCKROACH_*`` variables
unless a test passes them) and returns a ``ProviderHost`` with configure/check/diff/create/
update/read/delete methods taking and returning plain dicts. ``provider_host_factory(env=...)``
starts more (e.g. a fresh plugin after killing one). Every response and every error is kept,
and the plugin's stderr (where ``pulumi.log`` writes when no engine is attached) is captured,
so tests can search all of it for secrets or messages.

Unknown (preview) values: put ``UNKNOWN`` anywhere in a property dict; it is sent as the
engine's unknown sentinel.

``activation_stack`` / ``activation_stack_factory(**simulator_settings)`` pair a configured
plugin (``cockroach:apiKey`` as a secret, ``cockroach:apiUrl``) with a real-time simulator
(``tests.support.activation_stack``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from cmek_component.simulator import RealClock
from tests.support.activation_stack import SECRET_API_KEY, ActivationStack, realtime_settings

PROJECT = "cmek"
URN = f"urn:pulumi:test::{PROJECT}::pulumi-python:dynamic/cockroach:CmekActivation::activation"
PROVIDER_KEY = "__provider"
UNKNOWN = object()
"""Marks a preview-time unknown value in a property dict passed to ``ProviderHost``."""
START_TIMEOUT_SECONDS = 30


class ProviderRpcError(Exception):
    """A provider call that failed; ``details`` is the plugin's text (a Python traceback)."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        self.method = method
        self.code = code
        self.details = details
        super().__init__(f"{method}: {code.name}: {details}")

    @property
    def last_line(self) -> str:
        """The exception line of the traceback, e.g. ``...ActivationError: cluster ...``."""
        lines = [line for line in self.details.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


@dataclass
class CheckOutcome:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


@dataclass
class DiffOutcome:
    changes: str
    """``SOME``, ``NONE`` or ``UNKNOWN``."""
    replaces: list[str]
    delete_before_replace: bool


@dataclass
class ReadOutcome:
    id: str
    outs: dict[str, Any]
    inputs: dict[str, Any] | None


def _to_wire(value: Any) -> Any:
    if value is UNKNOWN:
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): _to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_wire(v) for v in value]
    return value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_to_wire(dict(props)))
    return struct


def _plain(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct, keep_unknowns=True))


def serialized_provider() -> str:
    """``__provider`` exactly as ``CmekActivation(...)`` computes it."""
    from cmek_component.activation.dynamic import CmekActivationProvider

    return serialize_provider(CmekActivationProvider())


@dataclass
class ProviderHost:
    """One running ``python -m pulumi.dynamic`` plugin and a gRPC stub to it."""

    process: subprocess.Popen[bytes]
    port: int
    provider_blob: str
    stderr_lines: list[str] = field(default_factory=list)
    responses: list[Any] = field(default_factory=list)
    errors: list[ProviderRpcError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    # -- RPCs -----------------------------------------------------------------------------------

    def configure(self, config: Mapping[str, Any], secret_keys: tuple[str, ...] = ("cockroach:apiKey",)) -> None:
        """Sends stack config the way the engine does (full namespaced config; secrets wrapped)."""
        args = {
            key: {rpc._special_sig_key: rpc._special_secret_sig, "value": value} if key in secret_keys else value
            for key, value in config.items()
        }
        self._call("Configure", provider_pb2.ConfigureRequest(type="pulumi:providers:pulumi-python", args=_struct(args)))

    def check(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> CheckOutcome:
        response = self._call(
            "Check", provider_pb2.CheckRequest(urn=URN, olds=_struct(self._with_provider(olds, olds_ok=True)), news=_struct(self._with_provider(news)))
        )
        return CheckOutcome(_plain(response.inputs), [(f.property, f.reason) for f in response.failures])

    def diff(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffOutcome:
        response = self._call(
            "Diff",
            provider_pb2.DiffRequest(id=id_, urn=URN, olds=_struct(self._with_provider(olds)), news=_struct(self._with_provider(news))),
        )
        names = {provider_pb2.DiffResponse.DIFF_SOME: "SOME", provider_pb2.DiffResponse.DIFF_NONE: "NONE"}
        return DiffOutcome(names.get(response.changes, "UNKNOWN"), list(response.replaces), response.deleteBeforeReplace)

    def create(self, props: Mapping[str, Any], timeout: float = 120) -> tuple[str, dict[str, Any]]:
        response = self._call("Create", provider_pb2.CreateRequest(urn=URN, properties=_struct(self._with_provider(props))), timeout)
        return response.id, _plain(response.properties)

    def update(self, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], timeout: float = 120) -> dict[str, Any]:
        response = self._call(
            "Update",
            provider_pb2.UpdateRequest(id=id_, urn=URN, olds=_struct(self._with_provider(olds)), news=_struct(self._with_provider(news))),
            timeout,
        )
        return _plain(response.properties)

    def read(self, id_: str, props: Mapping[str, Any]) -> ReadOutcome:
        response = self._call("Read", provider_pb2.ReadRequest(id=id_, urn=URN, properties=_struct(self._with_provider(props))))
        inputs = _plain(response.inputs) if response.HasField("inputs") else None
        return ReadOutcome(response.id, _plain(response.properties), inputs)

    def delete(self, id_: str, props: Mapping[str, Any]) -> None:
        self._call("Delete", provider_pb2.DeleteRequest(id=id_, urn=URN, properties=_struct(self._with_provider(props))))

    # -- plumbing -------------------------------------------------------------------------------

    def _with_provider(self, props: Mapping[str, Any], olds_ok: bool = False) -> dict[str, Any]:
        out = dict(props)
        if olds_ok and not out:
            return out
        out.setdefault(PROVIDER_KEY, self.provider_blob)
        return out

    def _call(self, method: str, request: Any, timeout: float = 30) -> Any:
        try:
            response = getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as exc:
            error = ProviderRpcError(method, exc.code(), exc.details() or "")
            self.errors.append(error)
            raise error from None
        self.responses.append(response)
        return response

    @property
    def stderr(self) -> str:
        """Everything the plugin wrote to stderr so far (``pulumi.log`` lines among it)."""
        return "".join(self.stderr_lines)

    def wait_for_stderr(self, text: str, timeout: float = 10) -> bool:
        """True once ``text`` appears on the plugin's stderr (polls; never a fixed sleep)."""
        event = threading.Event()
        for _ in range(int(timeout * 20)):
            if text in self.stderr:
                return True
            event.wait(0.05)
        return text in self.stderr

    def everything_sent_back(self) -> str:
        """Every response, error and stderr line so far, as text (for secret scans)."""
        return "\n".join([*(str(r) for r in self.responses), *(e.details for e in self.errors), self.stderr])

    def kill(self) -> None:
        """SIGKILL, like a crashed or interrupted ``pulumi up``."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def close(self) -> None:
        self.channel.close()
        self.kill()


def start_provider_host(env: Mapping[str, str] | None = None) -> ProviderHost:
    """Starts ``python -u -m pulumi.dynamic`` and reads its port from the first stdout line."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("COCKROACH_", "PULUMI_"))}
    base["PULUMI_PROJECT"] = PROJECT
    base.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.dynamic"],
        env=base,
        cwd=tempfile.gettempdir(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    port_line: list[bytes] = []
    reader = threading.Thread(target=lambda: port_line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_SECONDS)
    if not port_line or not port_line[0].strip().isdigit():
        process.kill()
        raise RuntimeError(f"pulumi.dynamic did not print a port: {port_line!r} {process.stderr.read().decode()!r}")
    host = ProviderHost(process, int(port_line[0]), serialized_provider())

    def drain(stream: Any, sink: Callable[[str], None]) -> None:
        for line in iter(stream.readline, b""):
            sink(line.decode("utf-8", "replace"))

    threading.Thread(target=drain, args=(process.stderr, host.stderr_lines.append), daemon=True).start()
    threading.Thread(target=drain, args=(process.stdout, host.stderr_lines.append), daemon=True).start()
    return host


@pytest.fixture
def provider_host_factory() -> Iterator[Callable[..., ProviderHost]]:
    """Starts plugins on demand: ``provider_host_factory(env={...})``; all stopped at teardown."""
    hosts: list[ProviderHost] = []

    def start(env: Mapping[str, str] | None = None) -> ProviderHost:
        host = start_provider_host(env)
        hosts.append(host)
        return host

    yield start
    for host in hosts:
        host.close()


@pytest.fixture
def provider_host(provider_host_factory: Callable[..., ProviderHost]) -> ProviderHost:
    """One running plugin (not yet configured)."""
    return provider_host_factory()


@pytest.fixture
def activation_stack_factory(
    sim_factory: Callable[..., Any], provider_host_factory: Callable[..., ProviderHost]
) -> Callable[..., ActivationStack]:
    """``activation_stack_factory(**simulator_settings)``: a real-time simulator (short delays,
    ``SECRET_API_KEY`` accepted) and a plugin configured with ``cockroach:apiKey`` (secret) and
    ``cockroach:apiUrl`` pointing at it."""

    def make(**settings: Any) -> ActivationStack:
        server = sim_factory(realtime_settings(**settings), RealClock())
        host = provider_host_factory()
        host.configure({"cockroach:apiKey": SECRET_API_KEY, "cockroach:apiUrl": server.url})
        return ActivationStack(host, server)

    return make


@pytest.fixture
def activation_stack(activation_stack_factory: Callable[..., ActivationStack]) -> ActivationStack:
    """A plugin and a real-time simulator with default settings (see ``activation_stack_factory``)."""
    return activation_stack_factory()
