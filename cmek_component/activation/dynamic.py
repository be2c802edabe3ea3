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

The logic lives in ``activation.operations`` (each operation, shared with the provider plugin's
custom resource), ``activation.plan`` (decisions) and ``activation.runner`` (API calls).
"""

from __future__ import annotations

from typing import Any, TypedDict

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

from cmek_component.activation import operations as operations
from cmek_component.activation.inputs import with_defaults
from cmek_component.activation.operations import ProviderRuntime, use_runtime

__all__ = ["CmekActivation", "CmekActivationArgs", "CmekActivationProvider", "ProviderRuntime", "use_runtime"]

# The HTTP stack (requests, urllib3) is imported only when the provider calls the API, so a
# program (and a preview) that only declares resources does not pay for it.

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
# Provider: a thin adapter over activation.operations (shared with the plugin's custom resource)
# --------------------------------------------------------------------------------------------


def _is_unknown(value: object) -> bool:
    return isinstance(value, Unknown)


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
        from cmek_component.activation.dynamic_host import widen_host_pool

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
        inputs, failures = operations.check(olds, news, _is_unknown)
        return CheckResult(inputs, [CheckFailure(prop, message) for prop, message in failures])

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """No API call. ``cluster_id`` changed: replace; anything else changed (region order
        ignored, unknowns count as changes): update; ``revoke`` true -> false: refused."""
        result = operations.diff(olds, news, _is_unknown)
        return DiffResult(changes=result.changes, replaces=list(result.replaces), delete_before_replace=False)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Preflight, adopt or enable, wait for ENABLED; with ``revoke`` true, adopt a revoked
        configuration or adopt the declared keys and revoke them. The id is the cluster id."""
        id_, outs = operations.create(self._context(), props)
        return CreateResult(id_, outs=outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Add regions, rotate, re-wrap or revoke (``olds`` are the old outputs), then wait."""
        return UpdateResult(outs=operations.update(self._context(), olds, news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The live configuration: its keys become ``region_specs`` (so an out-of-band rotation
        shows up and the next update restores the declared keys); no CMEK means gone."""
        found = operations.read(self._context(), id_, props)
        if found is None:
            return ReadResult(None, {})
        outs, live = found
        return ReadResult(id_, outs, live)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """No API call (the API cannot disable CMEK, and a revoke is never implied): a warning,
        which says what stays: CMEK enabled, or revoked after a revoke."""
        operations.current_runtime().warn(operations.delete_warning(id_, props))

    def _context(self) -> operations.CallContext:
        hint = "" if self._config_received else OLD_CLI_HINT
        return operations.CallContext(api_key=self._api_key, api_url=self._api_url, missing_hint=hint)


# --------------------------------------------------------------------------------------------
# Resource
# --------------------------------------------------------------------------------------------


# The state of every stack stores this class by the name it had before the package had folders
# (the dynamic provider is pickled by reference). Keeping that name means state written by this
# version reads the same as before, and an older version of the package can still load it (a
# rollback); ``cmek_component.activation`` resolves the name lazily.
CmekActivationProvider.__module__ = "cmek_component.activation"


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
