"""The ``cockroach-cmek`` provider: ``ClusterCmek`` for any Pulumi language, and its activation.

Serves, on ``pulumi.provider.experimental``:

- ``cockroach-cmek:index:ClusterCmek`` (``construct``): the Python library's ``ClusterCmek``
  itself, same arguments, defaults, validation, children and outputs, with its
  ``<name>-activation`` declared as the custom resource below instead of the dynamic resource
  (a dynamic resource needs a Python program);
- ``cockroach-cmek:index:CmekActivation`` (``check``, ``diff``, ``create``, ``read``,
  ``update``, ``delete``): a thin adapter over :mod:`cmek_component.activation.operations`,
  the same code the dynamic provider runs.

Provider configuration: ``apiKey`` (secret; default env ``COCKROACH_API_KEY``) and ``apiUrl``
(default env ``COCKROACH_SERVER``). The key is never a resource input, so it reaches no state,
output or log line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import grpc
import pulumi
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    ConstructRequest,
    ConstructResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from cmek_component.activation import operations as operations
from cmek_component.activation.inputs import OUTPUT_NAMES, ActivationError

from .construct import construct_cluster_cmek
from .green import green_runtime, run_green
from .names import camel, to_library, to_schema
from .property_values import UNKNOWN, Unknown, contains_unknown, plain_request_map, property_map
from .schema import ACTIVATION_TOKEN, API_KEY_SETTING, COMPONENT_TOKEN, PACKAGE, schema_json


def _is_unknown(value: object) -> bool:
    return isinstance(value, Unknown)


class EngineLog:
    """Log lines under a resource, through the engine's ``Log`` call (shown by the CLI)."""

    def __init__(self, engine_address: str | None) -> None:
        self._address = engine_address
        self._stub: Any = None

    def __call__(self, severity: str, urn: str) -> Callable[[str], None]:
        def log(message: str) -> None:
            from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

            if self._address is None:
                return
            if self._stub is None:
                self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
            level = engine_pb2.LogSeverity.WARNING if severity == "warning" else engine_pb2.LogSeverity.INFO
            try:
                self._stub.Log(engine_pb2.LogRequest(severity=level, message=message, urn=urn, streamId=0))
            except grpc.RpcError:  # a log line must never fail the operation
                pass

        return log


def _token(resource_type: str) -> str:
    """The resource's own type (the SDK puts its parents' types in front: ``a$b$<type>``)."""
    return resource_type.rsplit("$", 1)[-1]


class CmekProvider(Provider):
    """The provider plugin ``pulumi-resource-cockroach-cmek``."""

    def __init__(self, engine_address: str | None = None) -> None:
        self.api_key: str | None = None
        self.api_url: str | None = None
        self.log = EngineLog(engine_address)

    # ------------------------------------------------------------------ provider

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=schema_json())

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        """``apiKey`` and ``apiUrl`` from the provider's settings (``cockroach-cmek:apiKey`` in
        stack config); the environment is the fallback when a call needs them."""
        config, _ = plain_request_map(request.args)
        variables = dict(request.variables)
        key = config.get("apiKey") or variables.get(f"{PACKAGE}:config:apiKey")
        url = config.get("apiUrl") or variables.get(f"{PACKAGE}:config:apiUrl")
        self.api_key = str(key) if isinstance(key, str) and key else None
        self.api_url = str(url) if isinstance(url, str) and url else None
        return ConfigureResponse(accept_secrets=True, supports_preview=True, accept_resources=True,
                                 accept_outputs=True)

    def context(self, urn: str) -> operations.CallContext:
        return operations.CallContext(api_key=self.api_key, api_url=self.api_url, key_setting=API_KEY_SETTING,
                                      info=self.log("info", urn), warn=self.log("warning", urn),
                                      adapt_runtime=green_runtime)

    # ------------------------------------------------------------------ the activation

    def _activation(self, resource_type: str) -> None:
        token = _token(resource_type)
        if token != ACTIVATION_TOKEN:
            raise ActivationError(f"type: the {PACKAGE} provider serves the custom resource {ACTIVATION_TOKEN} "
                                  f"only, got {token}")

    async def check(self, request: CheckRequest) -> CheckResponse:
        self._activation(request.type)
        olds, _ = _library(request.old_inputs)
        news, secret = _library(request.new_inputs)
        inputs, failures = operations.check(olds, news, _is_unknown)
        return CheckResponse(inputs=_schema(inputs, secret),
                             failures=[CheckFailure(_named(prop), _named_text(prop, reason)) for prop, reason in failures])

    async def diff(self, request: DiffRequest) -> DiffResponse:
        self._activation(request.type)
        olds, _ = _library(request.old_state)
        news, _ = _library(request.new_inputs)
        result = operations.diff(olds, news, _is_unknown)
        return DiffResponse(changes=result.changes, replaces=[_named(name) for name in result.replaces],
                            delete_before_replace=False)

    async def create(self, request: CreateRequest) -> CreateResponse:
        self._activation(request.type)
        props, secret = _library(request.properties)
        if request.preview:
            return CreateResponse(resource_id="", properties=_schema(_planned(props), secret))
        id_, outs = await run_green(operations.create, self.context(request.urn), props)
        return CreateResponse(resource_id=id_, properties=_schema(outs, secret))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        self._activation(request.type)
        olds, _ = _library(request.olds)
        news, secret = _library(request.news)
        if request.preview:
            return UpdateResponse(properties=_schema(_planned(news), secret))
        outs = await run_green(operations.update, self.context(request.urn), olds, news)
        return UpdateResponse(properties=_schema(outs, secret))

    async def read(self, request: ReadRequest) -> ReadResponse:
        self._activation(request.type)
        props, secret = _library(request.properties)
        found = await run_green(operations.read, self.context(request.urn), request.resource_id, props)
        if found is None:
            return ReadResponse(resource_id="")
        outs, live = found
        return ReadResponse(resource_id=request.resource_id, properties=_schema(outs, secret),
                            inputs=_schema(live, secret))

    async def delete(self, request: DeleteRequest) -> None:
        self._activation(request.type)
        props, _ = _library(request.properties)
        self.log("warning", request.urn)(operations.delete_warning(request.resource_id, props))

    # ------------------------------------------------------------------ the component

    async def construct(self, request: ConstructRequest) -> ConstructResponse:
        token = _token(request.resource_type)
        if token != COMPONENT_TOKEN:
            raise pulumi.RunError(f"type: the {PACKAGE} provider constructs {COMPONENT_TOKEN} only, got {token}")
        args, secret = plain_request_map(request.inputs)
        if contains_unknown(args):
            raise pulumi.RunError(
                f"{COMPONENT_TOKEN} {request.name}: every argument must be known while the program runs (the "
                "component reads the cluster and plans its keys then), got an unknown value in "
                f"{', '.join(sorted(key for key, value in args.items() if contains_unknown(value)))}"
            )
        urn, state = await construct_cluster_cmek(request.name, args, request.options, self.api_key, self.api_url)
        return ConstructResponse(urn=urn, state=_state_values(state, bool(secret)), state_dependencies={})


def _library(values: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], set[str]]:
    """A request's properties under the library's names, and the secret ones (library names)."""
    plain, secret = plain_request_map(values)
    return to_library(plain), set(to_library(dict.fromkeys(secret)))


def _schema(values: Mapping[str, Any], secret: set[str]) -> dict[str, PropertyValue]:
    """Library-named values for the engine, under the schema's names."""
    return property_map(to_schema(values), set(to_schema(dict.fromkeys(secret))))


def _named(field: str) -> str:
    """A library field path (``region_specs[0].key``) under the schema's top-level name."""
    head, sep, rest = field.partition(".")
    name, bracket, index = head.partition("[")
    try:
        return camel(name) + bracket + index + sep + rest
    except ValueError:  # not a library name: as it came
        return field


def _named_text(field: str, text: str) -> str:
    return _named(field) + text[len(field):] if text.startswith(field) else text


def _planned(props: Mapping[str, Any]) -> dict[str, Any]:
    """A preview's outputs: the inputs, and the live ones unknown."""
    return {**props, **dict.fromkeys(OUTPUT_NAMES, UNKNOWN)}


def _state_values(state: Mapping[str, tuple[Any, bool, bool]], secret: bool) -> dict[str, PropertyValue]:
    """(value, known, secret) per output -> the engine's form; secret inputs make every output secret."""
    values: dict[str, PropertyValue] = {}
    for name, (value, known, is_secret) in state.items():
        item = property_map({name: value if known else UNKNOWN})[name]
        values[name] = item.with_secret(secret or is_secret)
    return values
