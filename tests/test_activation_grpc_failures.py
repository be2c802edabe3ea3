"""The activation when things go wrong, through the real plugin host over gRPC: IAM still
propagating, keys CockroachDB Cloud cannot use, clusters that do not qualify, bursts of 429 and
503, a missing API key, and the plugin killed right after its POST."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from cmek_component.simulator import seeds
from tests.support.activation_stack import SECRET_API_KEY, ActivationStack, activation_props
from tests.support.grpc_fixtures import ProviderHost, ProviderRpcError

StackFactory = Callable[..., ActivationStack]


def posts(stack: ActivationStack) -> list[int | None]:
    """Status of every POST the simulator received (None: no answer was sent)."""
    return [r.status for r in stack.sim.requests if r.method == "POST"]


def test_kms_access_refused_while_iam_propagates_is_retried_until_it_works(activation_stack_factory: StackFactory) -> None:
    stack = activation_stack_factory(iam_propagation_seconds=1.5)
    props = activation_props(seeds.AWS_SINGLE, iam_propagation_timeout_seconds=30)

    _, outs = stack.create(props)

    assert outs["status"] == "ENABLED"
    statuses = posts(stack)
    assert statuses[-1] == 200 and len(statuses) >= 2 and set(statuses[:-1]) == {400}
    assert stack.host.wait_for_stderr("retrying for up to 30 s while cloud IAM changes propagate")


def test_kms_access_refused_beyond_the_window_fails_with_the_api_message(activation_stack_factory: StackFactory) -> None:
    stack = activation_stack_factory(iam_propagation_seconds=3600)
    props = activation_props(seeds.AWS_SINGLE, iam_propagation_timeout_seconds=2)

    with pytest.raises(ProviderRpcError) as failure:
        stack.create(props)

    message = failure.value.last_line
    assert "could not enable CMEK: KMS access still failing after the IAM-propagation window of 2 s: " in message
    assert "insufficient permissions to access the KMS key" in message
    assert stack.sim.cmek(seeds.AWS_SINGLE) is None


def test_enable_failed_surfaces_the_regions_user_message(activation_stack: ActivationStack) -> None:
    props = activation_props(seeds.AWS_MULTI)
    bad_uri = seeds.aws_key_arn("us-west-2")
    activation_stack.sim.mark_key_unreachable(bad_uri, "ENABLE_FAILED")

    with pytest.raises(ProviderRpcError) as failure:
        activation_stack.create(props)

    message = failure.value.last_line
    assert f"CMEK ENABLE_FAILED in region us-west-2: CockroachDB Cloud could not use the KMS key {bad_uri}" in message
    assert "access denied" in message


def test_a_validation_error_from_the_api_fails_at_once_with_its_message(activation_stack_factory: StackFactory) -> None:
    stack = activation_stack_factory(min_nodes_per_region=5)
    props = activation_props(seeds.AWS_SINGLE)
    id_, outs = stack.create(props)
    news = {**props, "region_specs": [*props["region_specs"], {"region": "us-west-2", "key_spec": seeds.key_spec("AWS", "us-west-2")}],
            "new_region_nodes": {"us-west-2": 3}}

    with pytest.raises(ProviderRpcError) as failure:
        stack.update(id_, outs, news)

    assert "could not add regions us-west-2: invalid argument: " in failure.value.last_line
    assert [r.method for r in stack.sim.requests if r.method == "PATCH"] == ["PATCH"]


@pytest.mark.parametrize(
    ("cluster_id", "props_of", "expected"),
    [
        (seeds.STANDARD, activation_props, "CMEK requires an ADVANCED plan, got 'STANDARD'"),
        (seeds.PUBLIC, activation_props, "CMEK requires a cluster created with private network visibility"),
        (
            seeds.AWS_MULTI,
            lambda cid: {**activation_props(cid), "region_specs": seeds.region_specs(cid, regions=["us-east-1", "us-west-2"])},
            "region_specs: missing a spec for cluster region 'eu-west-1'",
        ),
    ],
    ids=["standard-plan", "public-network", "missing-region"],
)
def test_clusters_that_do_not_qualify_fail_before_any_change(
    activation_stack: ActivationStack, cluster_id: str, props_of: Callable[[str], dict[str, object]], expected: str
) -> None:
    with pytest.raises(ProviderRpcError) as failure:
        activation_stack.create(dict(props_of(cluster_id)))

    assert f"{expected}" in failure.value.last_line
    assert activation_stack.mutations() == []


def test_a_locked_cluster_is_waited_for_before_the_post(activation_stack: ActivationStack) -> None:
    activation_stack.sim.lock_cluster(seeds.AWS_SINGLE, seconds=1.0)

    _, outs = activation_stack.create(activation_props(seeds.AWS_SINGLE))

    assert outs["status"] == "ENABLED"
    assert posts(activation_stack) == [200]


def test_bursts_of_429_and_503_are_ridden_out_with_one_accepted_post(activation_stack: ActivationStack) -> None:
    cmek_path = f"/api/v1/clusters/{seeds.AWS_MULTI}/cmek"
    activation_stack.sim.inject_fault("GET", f"/api/v1/clusters/{seeds.AWS_MULTI}", "503", count=2)
    activation_stack.sim.inject_fault("POST", cmek_path, "503", count=2)
    activation_stack.sim.inject_fault("POST", cmek_path, "429", count=1, retry_after=1)
    activation_stack.sim.inject_fault("GET", cmek_path, "429", count=2, retry_after=1)

    _, outs = activation_stack.create(activation_props(seeds.AWS_MULTI))

    assert outs["status"] == "ENABLED"
    faults = [(r.method, r.fault) for r in activation_stack.sim.requests if r.fault]
    assert sorted(faults) == sorted([("GET", "503")] * 2 + [("POST", "503")] * 2 + [("POST", "429")] + [("GET", "429")] * 2)
    assert posts(activation_stack) == [503, 503, 429, 200]


def test_a_plugin_killed_right_after_its_post_converges_on_rerun_without_a_second_post(
    activation_stack_factory: StackFactory, provider_host_factory: Callable[..., ProviderHost]
) -> None:
    stack = activation_stack_factory(enable_seconds=30)  # long enough that create is still waiting
    props = activation_props(seeds.AWS_MULTI)
    errors: list[BaseException] = []
    first = threading.Thread(target=lambda: _capture(errors, lambda: stack.create(props)), daemon=True)
    first.start()
    accepted = threading.Event()
    for _ in range(200):
        if posts(stack) == [200]:
            accepted.set()
            break
        accepted.wait(0.05)
    assert accepted.is_set(), "the plugin never sent its POST"
    stack.host.kill()
    first.join(10)
    assert errors and isinstance(errors[0], ProviderRpcError)  # create never returned: no state saved
    stack.sim.advance(30)  # the enable finishes in CockroachDB Cloud meanwhile

    rerun = provider_host_factory()
    rerun.configure({"cockroach:apiKey": SECRET_API_KEY, "cockroach:apiUrl": stack.server.url})
    check = rerun.check({}, props)
    id_, outs = rerun.create(check.inputs)

    assert id_ == seeds.AWS_MULTI and outs["status"] == "ENABLED"
    assert posts(stack) == [200]


def test_a_rerun_while_the_enable_is_still_running_waits_instead_of_posting_again(
    activation_stack_factory: StackFactory, provider_host_factory: Callable[..., ProviderHost]
) -> None:
    stack = activation_stack_factory(enable_seconds=1.0)
    props = activation_props(seeds.GCP_MULTI)
    stack.sim.enable_out_of_band(seeds.GCP_MULTI, props["region_specs"])  # the lost run's POST

    _, outs = stack.create(props)

    assert outs["status"] == "ENABLED"
    assert posts(stack) == []


def _capture(errors: list[BaseException], call: Callable[[], object]) -> None:
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - the test inspects it
        errors.append(exc)


def test_missing_api_key_fails_only_when_a_call_needs_it_and_says_how_to_set_it(
    activation_stack: ActivationStack, provider_host_factory: Callable[..., ProviderHost]
) -> None:
    host = provider_host_factory()
    host.configure({"cockroach:apiUrl": activation_stack.server.url})
    props = activation_props(seeds.AWS_SINGLE)

    check = host.check({}, props)
    assert check.failures == []
    assert host.diff(seeds.AWS_SINGLE, check.inputs, {**check.inputs, "rotation_trigger": "x"}).changes == "SOME"
    with pytest.raises(ProviderRpcError) as failure:
        host.create(check.inputs)

    assert "no CockroachDB Cloud API key: run `pulumi config set --secret cockroach:apiKey <key>` or set COCKROACH_API_KEY" in failure.value.last_line
    assert activation_stack.sim.requests == []


def test_the_environment_supplies_key_and_url_when_stack_config_does_not(
    activation_stack: ActivationStack, provider_host_factory: Callable[..., ProviderHost]
) -> None:
    host = provider_host_factory(env={"COCKROACH_API_KEY": SECRET_API_KEY, "COCKROACH_SERVER": activation_stack.server.url})
    host.configure({})

    _, outs = host.create(host.check({}, activation_props(seeds.AWS_SINGLE)).inputs)

    assert outs["status"] == "ENABLED"
    assert activation_stack.sim.requests[0].role == "CLUSTER_ADMIN"


def test_malformed_key_specs_get_an_error_naming_the_field_through_the_plugin_host(
    provider_host_factory: Callable[..., ProviderHost],
) -> None:
    """Diff with a key_spec given as a string (news) or a list (the stored state), and Check
    with malformed old inputs: each a message naming the field, not an AttributeError."""
    host = provider_host_factory()
    host.configure({})
    props = activation_props(seeds.AWS_SINGLE)
    bad = {**props, "region_specs": [{"region": "us-east-1", "key_spec": "arn:aws:kms:us-east-1:1:key/x"}]}
    stored = {**props, "region_specs": [{"region": "us-east-1", "key_spec": ["AWS_KMS", "uri"]}], "status": "ENABLED"}

    with pytest.raises(ProviderRpcError) as new_inputs:
        host.diff(seeds.AWS_SINGLE, props, bad)
    with pytest.raises(ProviderRpcError) as old_state:
        host.diff(seeds.AWS_SINGLE, stored, props)
    check = host.check(stored, props)

    assert "AttributeError" not in new_inputs.value.details + old_state.value.details
    assert new_inputs.value.last_line.endswith(
        "region_specs[0].key_spec: expected an object with type, uri and auth_principal, "
        "got 'arn:aws:kms:us-east-1:1:key/x'"
    )
    assert "region_specs[0].key_spec: expected an object with type, uri and auth_principal, got ['AWS_KMS', 'uri'] " \
        "(in the activation's stored state" in old_state.value.last_line
    assert [(prop, reason.split(" (in ")[0]) for prop, reason in check.failures] == [
        ("region_specs", "region_specs[0].key_spec: expected an object with type, uri and auth_principal, got ['AWS_KMS', 'uri']")
    ]


def test_check_through_the_plugin_host_refuses_a_region_with_a_trailing_newline_and_an_endless_wait(
    provider_host_factory: Callable[..., ProviderHost],
) -> None:
    host = provider_host_factory()
    host.configure({})
    props = activation_props(seeds.AWS_SINGLE)
    [region_spec] = props["region_specs"]
    news = {**props, "region_specs": [{**region_spec, "region": "us-east-1\n"}], "wait_timeout_seconds": float("inf")}

    check = host.check({}, news)

    assert ("region_specs", "region_specs[0].region: expected an AWS region name such as 'us-east-1', got 'us-east-1\\n'") in check.failures
    assert ("wait_timeout_seconds", "wait_timeout_seconds: expected a number of seconds greater than 0 and at most 604800, got inf") in check.failures
