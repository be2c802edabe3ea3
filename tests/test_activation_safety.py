"""Preview safety (Check and Diff never call the API) and secret safety (the API key appears in
no response, no ``__provider``, no error and no log line), through the real plugin host."""

from __future__ import annotations

import base64
import pickletools
from collections.abc import Callable
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from cmek_component.activation.dynamic import RESOURCE_TYPE, CmekActivation, CmekActivationProvider
from cmek_component.simulator import seeds
from tests.support.activation_stack import SECRET_API_KEY, ActivationStack, activation_props
from tests.support.grpc_fixtures import UNKNOWN, ProviderHost, ProviderRpcError
from tests.support.pulumi_fixtures import Recorder

StackFactory = Callable[..., ActivationStack]


def unknown_variants(props: dict[str, Any]) -> list[dict[str, Any]]:
    """The same inputs with, in turn, each kind of value a preview may not know yet."""
    first = props["region_specs"][0]
    return [
        {**props, "cluster_id": UNKNOWN},
        {**props, "region_specs": UNKNOWN},
        {**props, "region_specs": [{**first, "key_spec": {**first["key_spec"], "uri": UNKNOWN}}, *props["region_specs"][1:]]},
        {**props, "region_specs": [{"region": first["region"], "key_spec": UNKNOWN}, *props["region_specs"][1:]]},
        {**props, "rotation_trigger": UNKNOWN, "revoke": UNKNOWN, "new_region_nodes": UNKNOWN},
    ]


def test_check_and_diff_never_call_the_api_with_known_or_unknown_inputs(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_MULTI)
    id_, outs = activation_stack.create(props)
    host = activation_stack.host
    activation_stack.sim.clear_requests()

    assert host.check({}, props).failures == []
    assert host.check(activation_stack.checked[id_], {**props, "rotation_trigger": "next"}).failures == []
    assert host.diff(id_, outs, activation_stack.checked[id_]).changes == "NONE"
    assert host.diff(id_, outs, activation_stack.checked[id_] | {"rotation_trigger": "next"}).changes == "SOME"
    for variant in unknown_variants(props):
        assert host.check({}, variant).failures == []
        assert host.check(activation_stack.checked[id_], variant).failures == []
        diff = host.diff(id_, outs, variant)
        assert diff.changes == "SOME"
        assert diff.replaces == (["cluster_id"] if variant["cluster_id"] is UNKNOWN else [])
    bad = host.check({}, {**props, "region_specs": [{"region": "us-east-1", "key_spec": {"type": "AWS_KMS", "uri": "alias/foo", "auth_principal": "x"}}]})
    assert ("region_specs", "region_specs[0].key_spec.uri: expected a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), got 'alias/foo'") in bad.failures

    assert activation_stack.sim.requests == []


def test_check_keeps_unknown_values_unknown_for_the_engine(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_MULTI)
    check = activation_stack.host.check({}, {**props, "rotation_trigger": UNKNOWN})
    assert isinstance(check.inputs["rotation_trigger"], pulumi.output.Unknown)
    assert check.inputs["revoke"] is False and check.inputs["iam_propagation_timeout_seconds"] == 600


def _provider_bytes(blob: str) -> bytes:
    return base64.b64decode(blob)


def test_the_api_key_never_leaves_the_provider(
    activation_stack_factory: StackFactory, provider_host_factory: Callable[..., ProviderHost]
) -> None:
    stack = activation_stack_factory()
    stack.sim.mark_key_unreachable(seeds.gcp_key_uri("us-east1"), "400")
    host = stack.host
    props = activation_props(seeds.AWS_MULTI)
    id_, outs = stack.create(props)
    outs = stack.update(id_, outs, {**props, "rotation_trigger": "r2"})
    read = host.read(id_, outs)
    host.delete(id_, outs)
    failures = [
        lambda: stack.create(activation_props(seeds.STANDARD)),  # preflight error
        lambda: stack.create(activation_props(seeds.GCP_SINGLE, iam_propagation_timeout_seconds=1)),  # IAM window
        lambda: host.diff(id_, {**outs, "revoke": True}, {**props, "revoke": False}),  # refused un-revoke
    ]
    for fail in failures:
        with pytest.raises(ProviderRpcError):
            fail()
    wrong = provider_host_factory()
    wrong.configure({"cockroach:apiKey": SECRET_API_KEY[::-1], "cockroach:apiUrl": stack.server.url})
    with pytest.raises(ProviderRpcError) as unauthenticated:
        wrong.create(wrong.check({}, props).inputs)
    assert "unauthenticated" in unauthenticated.value.last_line and "cockroach:apiKey" in unauthenticated.value.last_line
    host.wait_for_stderr(f"CMEK stays enabled on cluster {seeds.AWS_MULTI}")

    assert len(host.errors) == 3 and host.stderr  # there is text to search
    for text in (host.everything_sent_back(), wrong.everything_sent_back(), repr(outs), repr(read)):
        assert SECRET_API_KEY not in text
        assert SECRET_API_KEY[::-1] not in text
    assert outs["__provider"] == host.provider_blob  # a plain string: not secret-wrapped, never re-pickled
    for blob in (host.provider_blob, outs["__provider"], read.outs["__provider"]):
        raw = _provider_bytes(blob)
        assert SECRET_API_KEY.encode() not in raw
        assert b"cmek_component.activation\x94" in raw and b"CmekActivationProvider" in raw
        assert len(raw) < 200  # a reference to the installed class, not pickled code
    ops = {op.name for op, _, _ in pickletools.genops(_provider_bytes(host.provider_blob))}
    assert "STACK_GLOBAL" in ops and "BUILD" not in ops  # no instance state at all


def test_a_new_provider_holds_no_key_even_when_the_program_environment_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKROACH_API_KEY", SECRET_API_KEY)
    provider = CmekActivationProvider()  # what CmekActivation(...) pickles into __provider

    raw = base64.b64decode(serialize_provider(provider))

    assert SECRET_API_KEY.encode() not in raw
    assert dill.loads(raw).__dict__ == {}


def test_the_resource_registers_a_readable_type_with_plain_inputs(pulumi_mocks: Callable[..., Recorder]) -> None:
    recorder = pulumi_mocks()
    props = activation_props(seeds.AWS_SINGLE)

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        activation = CmekActivation("cmek", {"cluster_id": props["cluster_id"], "region_specs": props["region_specs"]})
        return activation.urn

    program()
    registered = recorder.one(RESOURCE_TYPE, "cmek")
    assert RESOURCE_TYPE == "pulumi-python:dynamic/cockroach:CmekActivation"
    assert registered.inputs["cluster_id"] == seeds.AWS_SINGLE
    assert registered.inputs["revoke"] is False and registered.inputs["rotation_trigger"] == ""
    assert registered.inputs["new_region_nodes"] == {} and registered.inputs["iam_propagation_timeout_seconds"] == 600
    assert isinstance(registered.inputs["__provider"], str)  # serialize_as_secret_always = False
