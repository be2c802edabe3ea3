"""``CmekActivation``: turns CMEK on for a CockroachDB Cloud cluster, and keeps it as declared.

A Pulumi dynamic resource (type ``pulumi-python:dynamic/cockroach:CmekActivation``) whose
provider class lives in this installed package, so Pulumi stores only a reference to it: the
provider is stateless, and the API key comes from stack config when the provider runs:

    pulumi config set --secret cockroach:apiKey <key>     # else env COCKROACH_API_KEY
    pulumi config set cockroach:apiUrl <url>              # optional; else COCKROACH_SERVER

What each operation does:

- preview (``check``/``diff``): validates and compares inputs, with no API call;
- create: checks the cluster (ADVANCED, PRIVATE, CREATED, key type, one spec per region),
  adopts a configuration that already has these keys, otherwise enables CMEK, and waits until
  the cluster and every region report ENABLED; with ``revoke`` true it adopts a revoke under
  way or done, or adopts the declared keys and revokes them (nothing to revoke: an error);
- update: adds regions (``new_region_nodes``), rotates changed keys, re-wraps every region
  when ``rotation_trigger`` changes, or revokes (``revoke``, irreversible), then waits;
- refresh: reads the live configuration (an out-of-band rotation shows up);
- delete: no API call. CMEK stays enabled on the cluster; the API cannot disable it.

The logic lives in ``activation_plan`` (decisions) and ``activation_runner`` (API calls).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

import pulumi
import pulumi.dynamic
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    UpdateResult,
)
from pulumi.output import Unknown

from cmek_component.activation_inputs import (
    INPUT_NAMES,
    ActivationError,
    ActivationInputs,
    check_problems,
    diff_inputs,
    with_defaults,
)
from cmek_component.activation_plan import live_outputs, live_region_specs
from cmek_component.manifest import SpecProblems

if TYPE_CHECKING:
    # The HTTP stack (requests, urllib3) is imported only when the provider calls the API, so a
    # program (and a preview) that only declares resources does not pay for it.
    from cmek_component.activation_runner import ActivationRunner
    from cmek_component.cloud_api import CloudApiClient, CmekInfo

API_KEY_CONFIG = "cockroach:apiKey"
"""Stack config holding the CockroachDB Cloud API key (set it with ``--secret``)."""
API_URL_CONFIG = "cockroach:apiUrl"
"""Stack config holding the Cloud API base URL (default ``https://cockroachlabs.cloud``)."""

RESOURCE_TYPE = "pulumi-python:dynamic/cockroach:CmekActivation"
MINIMUM_CLI_VERSION = "3.216.0"
"""The oldest Pulumi CLI this provider works with: 3.139.0 first passed the stack configuration
(``cockroach:apiKey``) to dynamic providers, and 3.216.0 first kept ``ReadResult.inputs`` after a
refresh (without it, every refresh makes the next preview show a spurious update)."""
OLD_CLI_HINT = (
    f". The provider received no stack configuration at all: if you did set cockroach:apiKey, your "
    f"Pulumi CLI is older than v{MINIMUM_CLI_VERSION} (see `pulumi version`), which does not pass "
    f"stack configuration to dynamic providers; upgrade it to v{MINIMUM_CLI_VERSION} or later"
)


class CmekActivationArgs(TypedDict, total=False):
    """Inputs of ``CmekActivation``. Only ``cluster_id`` and ``region_specs`` are required."""

    cluster_id: pulumi.Input[str]
    """The cluster's id (a UUID). Changing it replaces the activation."""
    region_specs: pulumi.Input[list[dict[str, Any]]]
    """One entry per cluster region, in the API's shape:
    ``{"region": "us-east-1", "key_spec": {"type": "AWS_KMS", "uri": <key ARN>, "auth_principal": <role ARN>}}``
    or for GCP ``{"type": "GCP_CLOUD_KMS", "uri": "projects/p/locations/l/keyRings/r/cryptoKeys/k",
    "auth_principal": <service account email>}``. Changing a region's key rotates that region."""
    new_region_nodes: pulumi.Input[dict[str, int]]
    """Regions being added to the cluster: region -> node count (at least 3). Each needs an entry
    in ``region_specs``. Default ``{}``."""
    rotation_trigger: pulumi.Input[str]
    """Any string; changing it re-wraps every region under CMEK with its key's newest version
    (same URIs). Default ``""``."""
    revoke: pulumi.Input[bool]
    """``True`` revokes CockroachDB Cloud's access to the keys: irreversible except through
    CockroachDB support, and the cluster's nodes cannot restart afterwards. Must be the only
    change in its update. Default ``False``."""
    wait_timeout_seconds: pulumi.Input[int]
    """How long to wait for ENABLED (or REVOKED, or a LOCKED cluster) per operation. Default 7200."""
    iam_propagation_timeout_seconds: pulumi.Input[int]
    """How long an answer saying the key cannot be used is retried, to let cloud IAM changes
    propagate. Default 600."""


# --------------------------------------------------------------------------------------------
# Runtime (test hook)
# --------------------------------------------------------------------------------------------


def _default_client(
    api_key: str | None, api_url: str | None, sleep: Callable[[float], None], clock: Callable[[], float]
) -> CloudApiClient:
    from cmek_component.cloud_api import CloudApiClient

    return CloudApiClient(api_key, api_url, sleep=sleep, clock=clock)


def _log_info(message: str) -> None:
    from cmek_component.dynamic_host import log_to_engine

    if not log_to_engine("info", message):
        pulumi.log.info(message)


def _log_warn(message: str) -> None:
    from cmek_component.dynamic_host import log_to_engine

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
# Provider
# --------------------------------------------------------------------------------------------


def _is_unknown(value: object) -> bool:
    return isinstance(value, Unknown)


def _top_level(field: str) -> str:
    for index, char in enumerate(field):
        if char in ".[":
            return field[:index]
    return field


def _inputs_of(props: Mapping[str, Any]) -> dict[str, Any]:
    """Only the activation's inputs (``olds`` in diff/update are the old outputs)."""
    return {name: props[name] for name in INPUT_NAMES if name in props}


def _parse(props: Mapping[str, Any]) -> ActivationInputs:
    try:
        return ActivationInputs.from_props(_inputs_of(props))
    except SpecProblems as exc:
        raise ActivationError(f"invalid CmekActivation inputs: {exc}") from None


class CmekActivationProvider(pulumi.dynamic.ResourceProvider):
    """The provider of ``CmekActivation``. Stateless: the only attributes an instance ever gets
    are set by ``configure()``, which runs in the provider process after unpickling, so the API
    key never reaches the pickled provider or the state."""

    serialize_as_secret_always = False
    _api_key: str | None = None
    _api_url: str | None = None
    _config_received = True

    def configure(self, req: ConfigureRequest) -> None:
        """Reads ``cockroach:apiKey`` and ``cockroach:apiUrl``; absent ones fall back to the
        environment (``COCKROACH_API_KEY``, ``COCKROACH_SERVER``) when a call needs them."""
        from cmek_component.dynamic_host import widen_host_pool

        widen_host_pool()  # many activations wait at once (see dynamic_host)
        key = req.config.get(API_KEY_CONFIG)
        url = req.config.get(API_URL_CONFIG)
        self._api_key = str(key) if key else None
        self._api_url = str(url) if url else None
        # CLIs older than MINIMUM_CLI_VERSION send no configuration at all (not even other keys).
        self._config_received = bool(getattr(req.config, "_props", None))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validates without any API call; unknown (preview) values pass. Returns the inputs with
        defaults applied and one failure per problem, named after its top-level input."""
        problems = check_problems(_inputs_of(olds), _inputs_of(news), _is_unknown)
        failures = [CheckFailure(_top_level(problem.field), str(problem)) for problem in problems]
        return CheckResult(with_defaults(_inputs_of(news)), failures)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """No API call. ``cluster_id`` changed: replace; anything else changed (region order
        ignored, unknowns count as changes): update; ``revoke`` true -> false: refused."""
        result = diff_inputs(_inputs_of(olds), _inputs_of(news), _is_unknown)
        return DiffResult(changes=result.changes, replaces=list(result.replaces), delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Preflight, adopt or enable, wait for ENABLED; with ``revoke`` true, adopt a revoked
        configuration or adopt the declared keys and revoke them. The id is the cluster id."""
        inputs = _parse(props)
        cmek = self._call(lambda runner: runner.create(), inputs)
        return CreateResult(inputs.cluster_id, outs=_outputs(inputs, cmek))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Add regions, rotate, re-wrap or revoke (``olds`` are the old outputs), then wait."""
        old, new = _parse(olds), _parse(news)
        cmek = self._call(lambda runner: runner.update(old), new)
        return UpdateResult(outs=_outputs(new, cmek))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The live configuration: its keys become ``region_specs`` (so an out-of-band rotation
        shows up and the next update restores the declared keys); no CMEK means gone."""
        known = with_defaults(_inputs_of(props))
        known.setdefault("cluster_id", id_)
        if "region_specs" in known:
            inputs = _parse(known)
        else:  # a get by id: the live configuration supplies the specs
            inputs = ActivationInputs(cluster_id=str(known["cluster_id"]), region_specs=())
        cmek = self._call(lambda runner: runner.read(), inputs)
        if cmek is None:
            return ReadResult(None, {})
        live = dict(inputs.to_props())
        live["region_specs"] = [spec.to_api() for spec in live_region_specs(cmek, inputs.region_specs)]
        live["revoke"] = inputs.revoke or cmek.status in ("REVOKING", "REVOKED")
        return ReadResult(id_, {**live, **live_outputs(cmek)}, live)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """No API call (the API cannot disable CMEK, and a revoke is never implied): a warning,
        which says what stays: CMEK enabled, or revoked after a revoke."""
        cluster_id = props.get("cluster_id") or id_
        if props.get("revoke") is True or props.get("status") in ("REVOKING", "REVOKED"):
            _runtime.warn(
                f"CmekActivation: CMEK stays revoked on cluster {cluster_id} (status {props.get('status')}): "
                "nothing was changed. Keep its keys and the identity: only CockroachDB support can re-enable "
                "CMEK, and the cluster needs the same keys and access again then."
            )
            return
        _runtime.warn(
            f"CmekActivation: CMEK stays enabled on cluster {cluster_id}: the CockroachDB Cloud API cannot "
            "disable it, so nothing was changed. Keep its keys and permissions in place; the cluster "
            "cannot run without them."
        )

    def _call(self, operation: Callable[[ActivationRunner], Any], inputs: ActivationInputs) -> Any:
        from cmek_component.activation_runner import ActivationRunner, api_key_hint
        from cmek_component.cloud_api import API_KEY_ENV, MISSING_KEY_MESSAGE, CloudApiError
        from cmek_component.waiting import Waiter

        if not (self._api_key or os.environ.get(API_KEY_ENV)):
            hint = "" if self._config_received else OLD_CLI_HINT
            raise ActivationError(f"cluster {inputs.cluster_id}: {MISSING_KEY_MESSAGE}{hint}")
        runtime = _runtime
        client = runtime.make_client(self._api_key, self._api_url, runtime.sleep, runtime.clock)
        waiter = Waiter(clock=runtime.clock, sleep=runtime.sleep, report=runtime.info)
        runner = ActivationRunner(client, waiter, inputs, info=runtime.info, warn=runtime.warn)
        try:
            return operation(runner)
        except CloudApiError as exc:
            raise ActivationError(f"cluster {inputs.cluster_id}: {exc}{api_key_hint(exc)}") from None


def _outputs(inputs: ActivationInputs, cmek: CmekInfo) -> dict[str, Any]:
    return {**inputs.to_props(), **live_outputs(cmek)}


# --------------------------------------------------------------------------------------------
# Resource
# --------------------------------------------------------------------------------------------


def import_refusal(name: str, import_id: str) -> str:
    """Why ``import_=`` cannot work for this dynamic resource, and what to do instead."""
    return (
        f"CmekActivation {name!r}: import_={import_id!r} is not supported: Pulumi's dynamic-provider "
        "host cannot read a resource it did not create (pulumi/pulumi#16175), and neither can "
        "`pulumi import`. Remove import_ and run `pulumi up`: when CMEK is already enabled on the "
        "cluster with the declared region_specs, the activation adopts it without changing "
        "anything (the output says 'adopting it'); when the keys differ, it stops before any "
        "change and names them."
    )



class CmekActivation(pulumi.dynamic.Resource, module="cockroach", name="CmekActivation"):
    """CMEK on one CockroachDB Cloud cluster (see the module docstring for what it does).

    Outputs: every input, plus ``status`` (cluster-level CMEK status), ``regions`` (per region:
    ``region``, ``status``, ``key_uri``, ``key_status``, ``user_message``, ``created_at``,
    ``updated_at``) and ``key_history`` (region -> every key the API lists, old ones DISABLED).
    """

    cluster_id: pulumi.Output[str]
    region_specs: pulumi.Output[list[dict[str, Any]]]
    new_region_nodes: pulumi.Output[dict[str, int]]
    rotation_trigger: pulumi.Output[str]
    revoke: pulumi.Output[bool]
    wait_timeout_seconds: pulumi.Output[float]
    iam_propagation_timeout_seconds: pulumi.Output[float]
    status: pulumi.Output[str]
    regions: pulumi.Output[list[dict[str, Any]]]
    key_history: pulumi.Output[dict[str, list[dict[str, Any]]]]

    def __init__(self, name: str, args: CmekActivationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if opts is not None and opts.import_:
            raise pulumi.RunError(import_refusal(name, str(opts.import_)))
        props: dict[str, Any] = with_defaults(dict(args))
        props.update({"status": None, "regions": None, "key_history": None})
        super().__init__(CmekActivationProvider(), name, props, opts)
