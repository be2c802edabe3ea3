"""The real dynamic-provider host, driven over gRPC the way the Pulumi engine drives it.

``python -m pulumi.dynamic`` is started as a subprocess (the same command Pulumi's
``pulumi-resource-pulumi-python`` script runs), its port read from its first stdout line, then
``Configure`` with the stack's namespaced config and ``Check`` / ``Diff`` / ``Create`` /
``Update`` / ``Delete`` with the properties the engine would send: ``olds`` of ``Check`` are the
previous inputs, ``olds`` of ``Diff``/``Update`` the previous outputs, ``Delete`` gets the
outputs. The plugin's stderr (where ``pulumi.log`` writes without an engine) is forwarded line
by line to ``on_log``, with every secret string replaced by ``[secret]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .errors import RehearsalError

START_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class DynamicDiff:
    """What ``Diff`` answered: ``changes`` is ``some``, ``none`` or ``unknown``."""

    changes: str
    replaces: list[str]
    delete_before_replace: bool


def to_wire(value: Any) -> Any:
    """Plain values for a Struct: unknowns become the engine's unknown sentinel."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


def to_struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(to_wire(dict(props)))
    return struct


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct, keep_unknowns=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[secret]")
    return text


class DynamicProviderHost:
    """One ``python -m pulumi.dynamic`` process for the whole rehearsal run."""

    def __init__(
        self,
        project: str,
        config: Mapping[str, str],
        env: Mapping[str, str],
        on_log: Callable[[str], None],
        secrets: Iterable[str] = (),
    ) -> None:
        self.project = project
        self.config = dict(config)
        self.env = dict(env)
        self.on_log = on_log
        self.secrets = [s for s in secrets if s]
        self.calls: list[str] = []
        """RPC names in the order they were sent (``Check``, ``Diff``, ``Create`` ...)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self._stderr_thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._process is not None:
            return
        env = {**os.environ, **self.env, "PULUMI_PROJECT": self.project}
        self._process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        port_line = self._read_port_line()
        try:
            port = int(port_line.strip())
        except ValueError:
            self.stop()
            raise RehearsalError(
                f"the dynamic provider host did not start (python -m pulumi.dynamic printed {port_line!r})"
            ) from None
        self._stderr_thread = threading.Thread(target=self._pump_stderr, name="dynamic-provider-stderr", daemon=True)
        self._stderr_thread.start()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_SECONDS)
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        self._rpc("Configure", provider_pb2.ConfigureRequest(
            type="pulumi:providers:pulumi-python", args=to_struct(self.config)))

    def _read_port_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(self._process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_TIMEOUT_SECONDS)
        if not result:
            return ""
        return result[0].decode(errors="replace")

    def _pump_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for raw in iter(self._process.stderr.readline, b""):
            line = redact(raw.decode(errors="replace").rstrip(), self.secrets)
            if line:
                self.on_log(line)

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=5)
            self._stderr_thread = None

    # ------------------------------------------------------------------ RPCs

    def _rpc(self, method: str, request: Any) -> Any:
        self.start()
        assert self._stub is not None
        self.calls.append(method)
        try:
            return getattr(self._stub, method)(request)
        except grpc.RpcError as error:
            details = redact(str(error.details() if hasattr(error, "details") else error), self.secrets)
            lines = [line for line in details.strip().splitlines() if line.strip()]
            raise RehearsalError(f"dynamic provider {method} failed: {lines[-1] if lines else details}") from None

    def check(self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        response = self._rpc("Check", provider_pb2.CheckRequest(urn=urn, olds=to_struct(olds), news=to_struct(news)))
        failures = [f"{f.property}: {f.reason}" if f.property else f.reason for f in response.failures]
        return from_struct(response.inputs), failures

    def diff(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DynamicDiff:
        response = self._rpc("Diff", provider_pb2.DiffRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news)))
        names = {provider_pb2.DiffResponse.DIFF_SOME: "some", provider_pb2.DiffResponse.DIFF_NONE: "none"}
        return DynamicDiff(names.get(response.changes, "unknown"), list(response.replaces), bool(response.deleteBeforeReplace))

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._rpc("Create", provider_pb2.CreateRequest(urn=urn, properties=to_struct(props)))
        return response.id, from_struct(response.properties)

    def update(self, urn: str, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        response = self._rpc("Update", provider_pb2.UpdateRequest(id=id_, urn=urn, olds=to_struct(olds), news=to_struct(news)))
        return from_struct(response.properties)

    def delete(self, urn: str, id_: str, props: Mapping[str, Any]) -> None:
        self._rpc("Delete", provider_pb2.DeleteRequest(id=id_, urn=urn, properties=to_struct(props)))
