"""``construct`` of ``cockroach-cmek:index:ClusterCmek``: the Python library's ``ClusterCmek``,
its activation declared as the provider's custom resource ``cockroach-cmek:index:CmekActivation``.

Only two things differ from a Python program: the component's type token (the package's), and
the activation resource (a custom resource of this provider, not a dynamic one). Everything
else (argument validation, cluster facts, the AWS or GCP children, the outputs) is the library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails

from cmek_component.activation.inputs import OUTPUT_NAMES, with_defaults
from cmek_component.component.activation_child import ActivationResource
from cmek_component.component.args import ClusterCmekArgs
from cmek_component.component.cluster_cmek import ClusterCmek
from cmek_component.component.cluster_facts import ClusterFactsError
from cmek_component.manifest.problems import SpecError, SpecProblems

from .names import camel, schema_path, to_library, to_schema
from .schema import ACTIVATION_TOKEN, API_KEY_SETTING, COMPONENT_TOKEN, GROUPS

OUTPUT_ATTRIBUTES = (
    "auth_principal", "key_uris", "role_arn", "key_arns", "aliases", "key_policy",
    "service_account_email", "region_specs", "cmek_config_json", "status", "region_statuses",
)
"""The component's outputs, exactly as the Python library registers them."""


class CmekActivationResource(pulumi.CustomResource):
    """``cockroach-cmek:index:CmekActivation``: the same inputs and outputs as the dynamic
    ``CmekActivation`` under the schema's camelCase names, served by this provider plugin
    (``CmekProvider``)."""

    status: pulumi.Output[str]
    regions: pulumi.Output[list[dict[str, Any]]]
    keyHistory: pulumi.Output[dict[str, list[dict[str, Any]]]]  # the schema's name

    def __init__(self, name: str, args: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        props: dict[str, Any] = with_defaults(dict(args))
        props.update(dict.fromkeys(OUTPUT_NAMES))
        super().__init__(ACTIVATION_TOKEN, name, to_schema(props), opts)


def plugin_activation(name: str, args: Any, opts: pulumi.ResourceOptions) -> ActivationResource:
    """The component's ``activation_factory`` in the plugin."""
    return CmekActivationResource(name, args, opts)


class PluginClusterCmek(ClusterCmek):
    """``ClusterCmek`` under the package's token."""

    component_type = COMPONENT_TOKEN


def _client_factory(api_key: str | None, api_url: str | None) -> Any:
    def make() -> Any:
        from cmek_component.cloud_api.client import CloudApiClient

        return CloudApiClient(api_key=api_key, api_url=api_url)

    return make


async def _resolved(output: pulumi.Output[Any]) -> tuple[Any, bool, bool]:
    """(value, known, secret) of an output, once its resources are done."""
    known = await output.is_known()
    secret = await output.is_secret()
    value = await output.future() if known else None
    return value, known, secret


async def construct_cluster_cmek(
    name: str, args: Mapping[str, Any], options: pulumi.ResourceOptions, api_key: str | None, api_url: str | None
) -> tuple[str, dict[str, tuple[Any, bool, bool]]]:
    """Declares the component; returns its URN and each output as (value, known, secret).

    ``args`` are named as in the schema (``clusterId``). Invalid arguments fail as the engine's
    "invalid inputs" error, one line per problem naming its field (the schema's name), rule and
    value (as the Python library's ``SpecProblems``), without a traceback."""
    try:
        component = PluginClusterCmek(
            name, to_library(args, GROUPS), options,  # type: ignore[arg-type]  # validated by ClusterCmek itself
            client_factory=_client_factory(api_key, api_url),
            activation_factory=plugin_activation,
        )
    except SpecProblems as exc:
        raise InputPropertiesError(
            f"ClusterCmek {name}: invalid arguments",
            [_reason(problem.field, str(problem)) for problem in exc.problems],
        ) from None
    except SpecError as exc:
        raise InputPropertiesError(f"ClusterCmek {name}: invalid arguments", [_reason(exc.field, str(exc))]) from None
    except ClusterFactsError as exc:  # the Cloud API client names the Python library's setting
        message = schema_words(str(exc).replace("cockroach:apiKey", API_KEY_SETTING))
        # A list, even empty: the SDK (3.272) fails on an InputPropertiesError without one.
        raise InputPropertiesError(f"ClusterCmek {name}: {message}", []) from None
    urn = await component.urn.future()
    state = {camel(attribute): await _resolved(getattr(component, attribute)) for attribute in OUTPUT_ATTRIBUTES}
    return str(urn), state


_ARGUMENT_NAMES = re.compile(r"\b(" + "|".join(
    sorted((name for name in ClusterCmekArgs.__annotations__ if "_" in name), key=len, reverse=True)) + r")\b")


def schema_words(text: str) -> str:
    """``text`` with the component's argument names in the schema's spelling (``cluster_id``
    -> ``clusterId``), as a plugin user writes them."""
    return _ARGUMENT_NAMES.sub(lambda match: camel(match.group(1)), text)


def _reason(field: str, text: str) -> InputPropertyErrorDetails:
    """One problem for the engine, its field and message in the schema's names."""
    named = schema_path(field, GROUPS)
    if text.startswith(field):
        text = named + text[len(field):]
    return {"property_path": named, "reason": text}
