"""The plugin's gRPC server: the SDK's ``pulumi.provider.experimental`` servicer, with the
errors a user can act on reported as their message alone.

The SDK's servicer (3.272) appends the Python stack of every exception to the message the
engine shows ("Unexpected <class 'Exception'>: cluster ...: CMEK is not enabled ...:\\n  File
..."). For the errors of this package, which name the field, rule, value or cluster already
(:data:`USER_ERRORS`), :class:`CmekServicer` aborts the call with that message instead; any
other exception (a bug) keeps its stack.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pulumi
from pulumi.provider.experimental.provider import Provider
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime.proto import provider_pb2_grpc

from cmek_component.activation.inputs import ActivationError
from cmek_component.activation.waiting import WaitTimeout
from cmek_component.cloud_api.errors import CloudApiError
from cmek_component.manifest.problems import SpecError, SpecProblems

USER_ERRORS: tuple[type[BaseException], ...] = (
    ActivationError, CloudApiError, WaitTimeout, SpecError, SpecProblems, pulumi.RunError,
)
"""Errors whose message is the whole story (field, rule and value, or the cluster and what to do)."""

SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", 400 * 1024 * 1024),
    ("grpc.server_max_unrequested_time_in_server", 30 * 60),
]
"""As the SDK's servers: messages up to 400 MB (a large stack's state), and requests may wait
half an hour in the queue (many activations waiting at once)."""


def user_error(error: BaseException) -> BaseException | None:
    """The user-facing error behind ``error`` (the SDK re-raises it as a plain ``Exception``
    with the stack appended, chained to the original), or ``None`` for any other error."""
    for candidate in (error, error.__cause__, error.__context__):
        if isinstance(candidate, USER_ERRORS):
            return candidate
    return None


async def _answered(call: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
    try:
        return await call(request, context)
    except grpc.aio.AbortError:
        raise
    except Exception as error:
        found = user_error(error)
        if found is None:
            raise
        await context.abort(grpc.StatusCode.UNKNOWN, str(found))


RESOURCE_CALLS = ("Check", "Diff", "Create", "Update", "Read", "Delete", "Construct")
"""The servicer's calls that run this package's code, so may raise one of :data:`USER_ERRORS`."""


def _reporting_user_errors(name: str) -> Callable[..., Awaitable[Any]]:
    """The servicer call ``name``: the SDK's, with :data:`USER_ERRORS` reported as their message."""

    async def call(self: CmekServicer, request: Any, context: Any) -> Any:
        return await _answered(getattr(super(CmekServicer, self), name), request, context)

    call.__name__, call.__qualname__ = name, f"CmekServicer.{name}"
    return call


class CmekServicer(ProviderServicer):
    """``ProviderServicer`` whose resource calls (:data:`RESOURCE_CALLS`) report
    :data:`USER_ERRORS` without a stack."""


for _call in RESOURCE_CALLS:
    setattr(CmekServicer, _call, _reporting_user_errors(_call))


def serve(args: list[str], version: str, provider: Provider) -> None:
    """Serves ``provider`` on a free loopback port, printed on stdout for the engine (the
    engine's address is the first argument); returns when the engine stops the plugin."""
    parser = argparse.ArgumentParser(description="The cockroach-cmek provider plugin (gRPC server)")
    parser.add_argument("engine", help="the Pulumi engine's address")
    engine = parser.parse_known_args(args)[0].engine

    async def run() -> None:
        server = grpc.aio.server(options=SERVER_OPTIONS)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(
            CmekServicer(args, version, provider, engine_address=engine), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:  # the engine stops plugins with SIGINT
        pass
