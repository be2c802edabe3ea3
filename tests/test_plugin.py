"""The ``cockroach-cmek`` provider plugin without the engine: its schema, and its custom
resource's adapters over the activation's operations (what a user of a YAML program sees)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckRequest,
    ConfigureRequest,
    CreateRequest,
    DiffRequest,
)
from pulumi.runtime import rpc

from cmek_component.activation.inputs import (
    INPUT_NAMES,
    OUTPUT_NAMES,
    ActivationError,
    IrreversibleRevoke,
)
from cmek_component.activation.operations import CallContext, ProviderRuntime, use_runtime
from cmek_component.component.args import ClusterCmekArgs
from cmek_component.plugin.construct import OUTPUT_ATTRIBUTES
from cmek_component.plugin.names import camel, schema_path, snake, to_library, to_schema
from cmek_component.plugin.property_values import property_map
from cmek_component.plugin.provider import CmekProvider
from cmek_component.plugin.schema import ACTIVATION_TOKEN, COMPONENT_TOKEN, OPTION_TYPES, schema

CLUSTER = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
SPECS = [{"region": "us-east-1", "key_spec": {
    "type": "AWS_KMS", "uri": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "auth_principal": "arn:aws:iam::123456789012:role/r"}}]
URN = f"urn:pulumi:dev::p::{ACTIVATION_TOKEN}::a"


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def check(provider: CmekProvider, news: dict[str, Any], olds: dict[str, Any] | None = None) -> Any:
    return run(provider.check(CheckRequest(URN, property_map(olds or {}), property_map(news), b"seed")))


def test_every_input_and_output_of_the_schema_is_documented() -> None:
    document = schema()
    json.dumps(document)
    component = document["resources"][COMPONENT_TOKEN]
    assert component["isComponent"] is True
    assert set(component["inputProperties"]) == set(map(camel, ClusterCmekArgs.__annotations__))
    assert component["requiredInputs"] == ["clusterId"]
    assert set(component["properties"]) == set(map(camel, OUTPUT_ATTRIBUTES))
    activation = document["resources"][ACTIVATION_TOKEN]
    assert set(activation["inputProperties"]) == set(map(camel, INPUT_NAMES))
    assert set(activation["properties"]) == set(map(camel, {*INPUT_NAMES, *OUTPUT_NAMES}))
    groups = [component["inputProperties"], component["properties"], activation["inputProperties"],
              activation["properties"], document["config"]["variables"]]
    groups += [document["types"][f"cockroach-cmek:index:{name}"]["properties"] for name in OPTION_TYPES]
    for properties in groups:
        for name, spec in properties.items():
            assert len(spec.get("description", "")) > 10, name
    assert component["inputProperties"]["aws"]["$ref"] == "#/types/cockroach-cmek:index:AwsKeyOptions"
    assert document["types"]["cockroach-cmek:index:AwsKeyOptions"]["properties"]["keyMode"]["type"] == "string"


def test_the_api_key_is_a_secret_provider_setting_and_never_a_resource_input() -> None:
    document = schema()
    assert document["config"]["variables"]["apiKey"]["secret"] is True
    assert document["provider"]["inputProperties"]["apiKey"]["secret"] is True
    for token in (COMPONENT_TOKEN, ACTIVATION_TOKEN):
        assert not any("key" == name.lower() or "api" in name.lower()
                       for name in document["resources"][token]["inputProperties"])


def test_check_names_the_field_the_rule_and_the_value() -> None:
    provider = CmekProvider()
    result = check(provider, {"clusterId": "not-a-uuid", "regionSpecs": SPECS})
    [failure] = result.failures
    assert failure.property == "clusterId" and failure.reason.startswith("clusterId: ")
    assert "not-a-uuid" in failure.reason and "expected" in failure.reason
    assert result.inputs["revoke"].value is False  # defaults applied, as the dynamic provider does


def test_check_lets_a_preview_unknown_pass() -> None:
    provider = CmekProvider()
    news = property_map({"clusterId": CLUSTER}) | {"regionSpecs": PropertyValue(rpc.UNKNOWN)}
    result = run(provider.check(CheckRequest(URN, {}, news, b"seed")))
    assert result.failures == []


def test_setting_revoke_back_to_false_is_refused() -> None:
    provider = CmekProvider()
    olds = property_map({"clusterId": CLUSTER, "regionSpecs": SPECS, "revoke": True, "status": "REVOKED"})
    news = property_map({"clusterId": CLUSTER, "regionSpecs": SPECS, "revoke": False})
    with pytest.raises(IrreversibleRevoke, match="revoke: cannot be set back to false"):
        run(provider.diff(DiffRequest(URN, CLUSTER, olds, news, [])))


def test_a_preview_create_makes_no_api_call_and_leaves_the_status_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    provider = CmekProvider()  # no key at all: any API call would fail
    props = property_map({"clusterId": CLUSTER, "regionSpecs": SPECS})
    result = run(provider.create(CreateRequest(URN, props, 60.0, True)))
    assert result.properties["status"].value == rpc.UNKNOWN
    assert result.properties["clusterId"].value == CLUSTER
    assert result.properties["regionSpecs"].value[0].value["key_spec"].value["auth_principal"].value.endswith("role/r")
    assert "keyHistory" in result.properties


def test_without_a_key_the_error_names_the_plugin_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    provider = CmekProvider()
    props = property_map({"clusterId": CLUSTER, "regionSpecs": SPECS})
    with pytest.raises(ActivationError, match=f"cluster {CLUSTER}: .*cockroach-cmek:apiKey"):
        run(provider.create(CreateRequest(URN, props, 60.0, False)))


def test_configure_reads_the_key_and_never_shows_it() -> None:
    provider = CmekProvider()
    args = {"apiKey": PropertyValue("crdbk-secret-value", is_secret=True), "apiUrl": PropertyValue("http://x")}
    run(provider.configure(ConfigureRequest({}, args, True, True)))
    assert provider.api_key == "crdbk-secret-value" and provider.api_url == "http://x"
    assert "crdbk-secret-value" not in repr(provider.context(URN))
    assert repr(CallContext(api_key="crdbk-secret-value")).count("crdbk") == 0


class _Refused(Exception):
    pass


def test_the_configured_key_or_else_the_environment_reaches_the_api_client(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str | None, str | None]] = []

    def make_client(api_key: str | None, api_url: str | None, sleep: Any, clock: Any) -> Any:
        seen.append((api_key, api_url))
        raise _Refused

    props = property_map({"clusterId": CLUSTER, "regionSpecs": SPECS})
    with use_runtime(ProviderRuntime(make_client=make_client)):
        configured = CmekProvider()
        args = {"apiKey": PropertyValue("crdbk-from-config", is_secret=True), "apiUrl": PropertyValue("http://api")}
        run(configured.configure(ConfigureRequest({}, args, True, True)))
        with pytest.raises(_Refused):
            run(configured.create(CreateRequest(URN, props, 60.0, False)))
        monkeypatch.setenv("COCKROACH_API_KEY", "crdbk-from-env")
        from_env = CmekProvider()
        run(from_env.configure(ConfigureRequest({}, {}, True, True)))
        with pytest.raises(_Refused):
            run(from_env.create(CreateRequest(URN, props, 60.0, False)))
    # None: the client reads COCKROACH_API_KEY / COCKROACH_SERVER itself.
    assert seen == [("crdbk-from-config", "http://api"), (None, None)]


def test_schema_names_are_camel_case_and_map_keys_stay_data() -> None:
    assert camel("iam_propagation_timeout_seconds") == "iamPropagationTimeoutSeconds"
    assert snake("iamPropagationTimeoutSeconds") == "iam_propagation_timeout_seconds"
    assert snake("us-east-1") == "us-east-1"
    with pytest.raises(ValueError, match="property name: expected lower snake_case"):
        camel("Cluster_Id")
    library = {"cluster_id": CLUSTER, "add_regions": {"us_east_1": 3},
               "aws": {"key_mode": "per-region", "tags": {"cost_center": "x"}}}
    named = to_schema(library, frozenset({"aws"}))
    assert named == {"clusterId": CLUSTER, "addRegions": {"us_east_1": 3},
                     "aws": {"keyMode": "per-region", "tags": {"cost_center": "x"}}}
    assert to_library(named, frozenset({"aws"})) == library
    assert schema_path("aws.key_mode", frozenset({"aws"})) == "aws.keyMode"
    assert schema_path("add_regions.us_east_1") == "addRegions.us_east_1"


class _Context:
    """The part of ``grpc.aio.ServicerContext`` that ``_answered`` uses."""

    def __init__(self) -> None:
        self.aborted: tuple[object, str] | None = None

    async def abort(self, code: object, details: str) -> None:
        self.aborted = (code, details)
        raise RuntimeError("aborted")


def test_a_user_error_reaches_the_engine_as_its_message_alone_and_a_bug_keeps_its_stack() -> None:
    from cmek_component.plugin.server import _answered, user_error

    async def sdk_wrapped(error: Exception) -> None:
        """As the SDK's servicer does: the message with the stack appended, chained to the original."""
        try:
            raise error
        except Exception as inner:  # noqa: BLE001 - any error, as the SDK
            raise Exception(f"{inner}:\n  File \"x.py\", line 1")  # noqa: B904 - the SDK's own way

    async def failing(request: object, context: object) -> None:
        await sdk_wrapped(ActivationError(f"cluster {CLUSTER}: CMEK is not enabled on it"))

    async def buggy(request: object, context: object) -> None:
        await sdk_wrapped(TypeError("unsupported operand"))

    context = _Context()
    with pytest.raises(RuntimeError, match="aborted"):
        run(_answered(failing, None, context))
    assert context.aborted is not None and context.aborted[1] == f"cluster {CLUSTER}: CMEK is not enabled on it"
    assert user_error(Exception("x")) is None
    other = _Context()
    with pytest.raises(Exception, match="unsupported operand:\n  File"):
        run(_answered(buggy, None, other))
    assert other.aborted is None


def test_descriptions_quote_fields_in_the_schemas_spelling() -> None:
    from cmek_component.plugin.schema import schema_text

    assert schema_text("Raise ``key_generation``; see ``aws.primary_region``.") == \
        "Raise ``keyGeneration``; see ``aws.primaryRegion``."
    assert schema_text("``aws.get_caller_identity`` and ``cmek_config.json``") == \
        "``aws.get_caller_identity`` and ``cmek_config.json``"
    described = json.dumps(schema())
    assert "``key_generation``" not in described and "``keyGeneration``" in described
