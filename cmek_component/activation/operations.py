"""What the activation does in each provider operation, on plain property dicts.

One implementation, two thin adapters: the dynamic provider of Python programs
(:mod:`cmek_component.activation.dynamic`, ``pulumi.dynamic``) and the custom resource
``cockroach-cmek:index:CmekActivation`` of the package's provider plugin (``provider/``). Each
adapter only turns its SDK's request into the dicts below and the results back.

- :func:`check` and :func:`diff` make no API call;
- :func:`create`, :func:`update` and :func:`read` call the Cloud API through
  :class:`~cmek_component.activation.runner.ActivationRunner` (decisions:
  :mod:`cmek_component.activation.plan`);
- :func:`delete_warning` is what delete says: it never calls the API.

Where the API key comes from is the adapter's business (:class:`CallContext`); it is never
part of the properties, the outputs or an error message.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cmek_component.activation.inputs import (
    INPUT_NAMES,
    ActivationError,
    ActivationInputs,
    IsUnknown,
    check_problems,
    diff_inputs,
    with_defaults,
)
from cmek_component.activation.plan import live_outputs, live_region_specs
from cmek_component.manifest.problems import SpecProblems

if TYPE_CHECKING:
    from cmek_component.activation.inputs import InputDiff
    from cmek_component.activation.runner import ActivationRunner
    from cmek_component.cloud_api.client import CloudApiClient
    from cmek_component.cloud_api.models import CmekInfo


# --------------------------------------------------------------------------------------------
# Runtime (test hook)
# --------------------------------------------------------------------------------------------


def _default_client(
    api_key: str | None, api_url: str | None, sleep: Callable[[float], None], clock: Callable[[], float]
) -> CloudApiClient:
    from cmek_component.cloud_api.client import CloudApiClient

    return CloudApiClient(api_key, api_url, sleep=sleep, clock=clock)


def _log_info(message: str) -> None:
    import pulumi

    from cmek_component.activation.dynamic_host import log_to_engine

    if not log_to_engine("info", message):
        pulumi.log.info(message)


def _log_warn(message: str) -> None:
    import pulumi

    from cmek_component.activation.dynamic_host import log_to_engine

    if not log_to_engine("warning", message):
        pulumi.log.warn(message)


@dataclass(frozen=True)
class ProviderRuntime:
    """Where the provider's time, API client and log lines come from.

    Production always uses the default instance: real time, a new ``CloudApiClient`` per
    operation, ``pulumi.log``. Tests swap it with ``use_runtime()`` to run the same provider
    on a simulated clock; nothing in the package calls ``use_runtime``.
    """

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    make_client: Callable[
        [str | None, str | None, Callable[[float], None], Callable[[], float]], CloudApiClient
    ] = _default_client
    info: Callable[[str], None] = _log_info
    warn: Callable[[str], None] = _log_warn


_runtime = ProviderRuntime()


def current_runtime() -> ProviderRuntime:
    """The runtime providers in this process use now."""
    return _runtime


@contextmanager
def use_runtime(runtime: ProviderRuntime) -> Iterator[ProviderRuntime]:
    """Test hook: run providers in this process with ``runtime`` until the block ends."""
    global _runtime
    previous = _runtime
    _runtime = runtime
    try:
        yield runtime
    finally:
        _runtime = previous


# --------------------------------------------------------------------------------------------
# CallContext
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallContext:
    """How an operation reaches the Cloud API. ``api_key``/``api_url`` ``None``: the environment
    (``COCKROACH_API_KEY``, ``COCKROACH_SERVER``). ``missing_hint``: appended to the error when
    no key is found at all (the dynamic provider's hint about old CLIs)."""

    api_key: str | None = None
    api_url: str | None = None
    missing_hint: str = ""
    key_setting: str = "cockroach:apiKey"
    """The setting errors tell the user to set (the plugin's is ``cockroach-cmek:apiKey``)."""
    info: Callable[[str], None] | None = None
    """Where progress lines go (default: the runtime's)."""
    warn: Callable[[str], None] | None = None
    """Where warnings go (default: the runtime's)."""
    adapt_runtime: Callable[[ProviderRuntime], ProviderRuntime] | None = None
    """Applied to the runtime of each call (the plugin makes its sleeps and attempts cooperative)."""

    def __repr__(self) -> str:  # never the key
        return f"CallContext(api_key={'<set>' if self.api_key else None}, api_url={self.api_url!r})"


# --------------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------------


def top_level(field: str) -> str:
    """``region_specs[0].key_spec.uri`` -> ``region_specs``: the input a problem belongs to."""
    for index, char in enumerate(field):
        if char in ".[":
            return field[:index]
    return field


def inputs_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """Only the activation's inputs (``olds`` in diff/update are the old outputs)."""
    return {name: props[name] for name in INPUT_NAMES if name in props}


def parse(props: Mapping[str, Any]) -> ActivationInputs:
    """The typed inputs; a problem raises :class:`ActivationError` naming each field."""
    try:
        return ActivationInputs.from_props(inputs_of(props))
    except SpecProblems as exc:
        raise ActivationError(f"invalid CmekActivation inputs: {exc}") from None


def check(olds: Mapping[str, Any], news: Mapping[str, Any], is_unknown: IsUnknown) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """No API call. The new inputs with defaults applied, and (top-level input, message) per problem."""
    problems = check_problems(inputs_of(olds), inputs_of(news), is_unknown)
    return with_defaults(inputs_of(news)), [(top_level(problem.field), str(problem)) for problem in problems]


def diff(olds: Mapping[str, Any], news: Mapping[str, Any], is_unknown: IsUnknown) -> InputDiff:
    """No API call. ``cluster_id`` changed: replace; anything else changed: update; ``revoke``
    true -> false: refused (:class:`~cmek_component.activation.inputs.IrreversibleRevoke`)."""
    return diff_inputs(inputs_of(olds), inputs_of(news), is_unknown)


def create(context: CallContext, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Preflight, adopt or enable, wait for ENABLED (or adopt/revoke with ``revoke``): (id, outputs).
    The id is the cluster id."""
    inputs = parse(props)
    cmek = _call(context, lambda runner: runner.create(), inputs)
    return inputs.cluster_id, outputs(inputs, cmek)


def update(context: CallContext, olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """Add regions, rotate, re-wrap or revoke (``olds`` are the old outputs), then wait: the outputs."""
    old, new = parse(olds), parse(news)
    cmek = _call(context, lambda runner: runner.update(old), new)
    return outputs(new, cmek)


def read(context: CallContext, id_: str, props: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The live configuration as (outputs, inputs): its keys become ``region_specs`` (an
    out-of-band rotation shows up); ``None`` when the cluster has no CMEK. A get by id (``pulumi
    import``: no inputs known) of a cluster without CMEK raises :class:`ActivationError` naming
    it: there is nothing to import."""
    known = with_defaults(inputs_of(props))
    known.setdefault("cluster_id", id_)
    by_id = "region_specs" not in known
    if by_id:  # the live configuration supplies the specs
        inputs = ActivationInputs(cluster_id=str(known["cluster_id"]), region_specs=())
    else:
        inputs = parse(known)
    cmek = _call(context, lambda runner: runner.read(), inputs)
    if cmek is None and by_id:
        raise ActivationError(
            f"cluster {inputs.cluster_id}: CMEK is not enabled on it (the Cloud API has no CMEK configuration): "
            "nothing to import. Declare a ClusterCmek for the cluster instead: `pulumi up` makes its keys and "
            "enables CMEK"
        )
    if cmek is None:
        return None
    live = dict(inputs.to_props())
    live["region_specs"] = [spec.to_api() for spec in live_region_specs(cmek, inputs.region_specs)]
    live["revoke"] = inputs.revoke or cmek.status in ("REVOKING", "REVOKED")
    return {**live, **live_outputs(cmek)}, live


def delete_warning(id_: str, props: Mapping[str, Any]) -> str:
    """What a delete says (it makes no API call: the API cannot disable CMEK, and a revoke is
    never implied): CMEK stays enabled, or stays revoked after a revoke."""
    cluster_id = props.get("cluster_id") or id_
    if props.get("revoke") is True or props.get("status") in ("REVOKING", "REVOKED"):
        return (
            f"CmekActivation: CMEK stays revoked on cluster {cluster_id} (status {props.get('status')}): "
            "nothing was changed. Keep its keys and the identity: only CockroachDB support can re-enable "
            "CMEK, and the cluster needs the same keys and access again then."
        )
    return (
        f"CmekActivation: CMEK stays enabled on cluster {cluster_id}: the CockroachDB Cloud API cannot "
        "disable it, so nothing was changed. Keep its keys and permissions in place; the cluster "
        "cannot run without them."
    )


def outputs(inputs: ActivationInputs, cmek: CmekInfo) -> dict[str, Any]:
    """Every input, plus ``status``, ``regions`` and ``key_history`` from the live configuration."""
    return {**inputs.to_props(), **live_outputs(cmek)}


def _call(context: CallContext, operation: Callable[[ActivationRunner], Any], inputs: ActivationInputs) -> Any:
    from cmek_component.activation.runner import ActivationRunner, api_key_hint
    from cmek_component.activation.waiting import Waiter
    from cmek_component.cloud_api.api_key import API_KEY_ENV, MISSING_KEY_MESSAGE
    from cmek_component.cloud_api.errors import CloudApiError

    if not (context.api_key or os.environ.get(API_KEY_ENV)):
        missing = MISSING_KEY_MESSAGE.replace("cockroach:apiKey", context.key_setting)
        raise ActivationError(f"cluster {inputs.cluster_id}: {missing}{context.missing_hint}")
    runtime = context.adapt_runtime(_runtime) if context.adapt_runtime else _runtime
    info = context.info or runtime.info
    warn = context.warn or runtime.warn
    client = runtime.make_client(context.api_key, context.api_url, runtime.sleep, runtime.clock)
    waiter = Waiter(clock=runtime.clock, sleep=runtime.sleep, report=info)
    runner = ActivationRunner(client, waiter, inputs, info=info, warn=warn)
    try:
        return operation(runner)
    except CloudApiError as exc:
        hint = api_key_hint(exc).replace("cockroach:apiKey", context.key_setting)
        raise ActivationError(f"cluster {inputs.cluster_id}: {exc}{hint}") from None
