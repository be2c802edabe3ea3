"""The activation provider in simulated time: the same provider class, run in this process
against the simulator's ManualClock, so minutes-long waits (IAM propagation, locked clusters,
a 10-minute enable) are exact and take milliseconds."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest

from cmek_component.activation.inputs import ActivationError
from cmek_component.activation.waiting import POLL_SCHEDULE, poll_times
from cmek_component.cloud_api.client import CloudApiClient
from cmek_component.cloud_api.models import CmekInfo
from cmek_component.manifest.region_specs import RegionSpec
from cmek_component.simulator import (
    DEVELOPER_API_KEY,
    SEED_API_KEY,
    SimulatorServer,
    SimulatorSettings,
    format_timestamp,
    seeds,
)
from tests.support.activation_harness import SimulatedActivation, measure_simulated_enable

SimFactory = Callable[..., SimulatorServer]


def settings(**overrides: Any) -> SimulatorSettings:
    values: dict[str, Any] = {"rate_limit_per_second": None}
    values.update(overrides)
    return SimulatorSettings(**values)


def props(cluster_id: str, generation: int = 1, **extra: Any) -> dict[str, Any]:
    return {"cluster_id": cluster_id, "region_specs": seeds.region_specs(cluster_id, generation), **extra}


def statuses(server: SimulatorServer, method: str) -> list[int | None]:
    return [r.status for r in server.simulator.requests if r.method == method]


def test_an_api_validation_error_fails_in_under_a_second_of_simulated_time(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(min_nodes_per_region=5))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_SINGLE)
    id_, outs = activation.create(base)
    news = {**base, "region_specs": [*base["region_specs"], {"region": "us-west-2", "key_spec": seeds.key_spec("AWS", "us-west-2")}],
            "new_region_nodes": {"us-west-2": 3}}
    started = activation.now()

    with pytest.raises(ActivationError, match=r"could not add regions us-west-2: invalid argument: .*5") as failure:
        activation.update(id_, outs, news)

    assert activation.now() - started < 1.0
    assert statuses(server, "PATCH") == [400]
    assert "IAM" not in str(failure.value)


def test_an_api_key_without_the_cmek_role_fails_at_once_with_a_hint(sim_factory: SimFactory) -> None:
    server = sim_factory(settings())
    activation = SimulatedActivation(server, DEVELOPER_API_KEY)
    started = activation.now()

    with pytest.raises(ActivationError, match=r"permission denied.*needs CLUSTER_ADMIN or CLUSTER_OPERATOR_WRITER"):
        activation.create(props(seeds.AWS_SINGLE))

    assert activation.now() - started < 1.0
    assert server.simulator.mutating_requests() == []


def test_iam_propagation_inside_the_window_succeeds(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(iam_propagation_seconds=300, enable_seconds=30))
    activation = SimulatedActivation(server, SEED_API_KEY)
    started = activation.now()

    _, outs = activation.create(props(seeds.GCP_MULTI))

    assert outs["status"] == "ENABLED"
    posts = statuses(server, "POST")
    assert posts[-1] == 200 and set(posts[:-1]) == {400}
    assert 300 <= activation.now() - started <= 300 + POLL_SCHEDULE.cap + 30 + POLL_SCHEDULE.cap
    assert any("retrying for up to 600 s while cloud IAM changes propagate" in line for _, line in activation.infos)


def test_iam_propagation_beyond_the_default_window_fails_after_ten_minutes(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(iam_propagation_seconds=3600))
    activation = SimulatedActivation(server, SEED_API_KEY)
    started = activation.now()

    with pytest.raises(ActivationError) as failure:
        activation.create(props(seeds.AWS_MULTI))

    message = str(failure.value)
    assert message.startswith("could not enable CMEK: KMS access still failing after the IAM-propagation window of 600 s: ")
    assert "insufficient permissions to access the KMS key" in message
    assert 600 <= activation.now() - started < 601
    assert set(statuses(server, "POST")) == {400}
    refused = [at for at, line in activation.infos if "KMS access still refused" in line or "cannot use the key yet" in line]
    assert max(b - a for a, b in pairwise([started, *refused, activation.now()])) <= 30


def test_long_waits_report_per_region_progress_at_least_every_30_seconds(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(enable_seconds=600))
    activation = SimulatedActivation(server, SEED_API_KEY)
    started = activation.now()

    activation.create(props(seeds.AWS_MULTI))

    waits = [(at, line) for at, line in activation.infos if line.startswith("waiting for CMEK ENABLED")]
    assert len(waits) >= 19
    times = [started] + [at for at, _ in waits] + [activation.now()]
    assert max(b - a for a, b in pairwise(times)) <= 30
    assert "cluster ENABLING, eu-west-1 ENABLING, us-east-1 ENABLING, us-west-2 ENABLING" in waits[0][1]


def test_ten_minute_enable_benchmark_against_terraforms_schedule(sim_factory: SimFactory) -> None:
    server = sim_factory(SimulatorSettings(enable_seconds=600))  # the API's 10 requests/s limit is on
    measured = measure_simulated_enable(server, seeds.AWS_MULTI, seeds.region_specs(seeds.AWS_MULTI), SEED_API_KEY)
    print(measured.summary())

    assert measured.seconds_after_enabled <= POLL_SCHEDULE.cap
    assert measured.cmek_polls == len(poll_times(POLL_SCHEDULE, 600)) - 1  # the POST's answer is the first look
    assert measured.get_requests == measured.cmek_polls + 2  # plus the preflight GET cluster and GET cmek
    assert (measured.terraform_polls, measured.terraform_seconds_after_enabled) == (65, 5.5)
    assert all(r.status != 429 for r in server.simulator.requests)


def test_a_locked_cluster_is_waited_for_then_enabled(sim_factory: SimFactory) -> None:
    server = sim_factory(settings())
    server.simulator.lock_cluster(seeds.AWS_SINGLE, seconds=120)
    activation = SimulatedActivation(server, SEED_API_KEY)
    started = activation.now()
    unlocked_at = format_timestamp(started + 120)

    _, outs = activation.create(props(seeds.AWS_SINGLE))

    assert outs["status"] == "ENABLED"
    assert statuses(server, "POST") == [200]
    post = next(r for r in server.simulator.requests if r.method == "POST")
    assert post.at >= unlocked_at


def test_a_cluster_that_stays_locked_fails_at_the_wait_limit(sim_factory: SimFactory) -> None:
    server = sim_factory(settings())
    activation = SimulatedActivation(server, SEED_API_KEY)

    with pytest.raises(ActivationError, match=r"to be CREATED: still state LOCKED, operation CRDB_EDIT_CLUSTER_RUNNING after 45 s"):
        activation.create(props(seeds.LOCKED, wait_timeout_seconds=45))

    assert server.simulator.mutating_requests() == []


def test_a_rotation_waits_out_another_cmek_operation_holding_the_lock(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(rotate_seconds=90))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_MULTI)
    id_, outs = activation.create(base)
    server.simulator.rotate_out_of_band(seeds.AWS_MULTI, seeds.region_specs(seeds.AWS_MULTI, 3, regions=["eu-west-1"]))
    started = activation.now()

    outs = activation.update(id_, outs, {**base, "rotation_trigger": "after-audit"})

    puts = statuses(server, "PUT")
    assert puts[-1] == 200 and set(puts[:-1]) == {409}
    assert activation.now() - started >= 90
    assert outs["status"] == "ENABLED"
    assert {r["region"]: r["key_uri"] for r in outs["regions"]} == {s["region"]: s["key_spec"]["uri"] for s in base["region_specs"]}


def test_rate_limited_posts_are_retried_after_retry_after(sim_factory: SimFactory) -> None:
    server = sim_factory(settings())
    server.simulator.inject_fault("POST", "/cmek", "429", count=5, retry_after=7)
    activation = SimulatedActivation(server, SEED_API_KEY)
    started = activation.now()

    _, outs = activation.create(props(seeds.GCP_SINGLE))

    assert outs["status"] == "ENABLED"
    assert statuses(server, "POST") == [429] * 5 + [200]
    assert activation.now() - started >= 5 * 7


def test_a_rotation_refused_while_iam_propagates_is_retried_like_an_enable(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(iam_propagation_seconds=120))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_SINGLE)
    id_, outs = activation.create(base)  # waits out the first key's propagation
    started = activation.now()
    rotated = props(seeds.AWS_SINGLE, generation=2)

    outs = activation.update(id_, outs, rotated)

    puts = statuses(server, "PUT")
    assert puts[-1] == 200 and set(puts[:-1]) == {400}
    assert activation.now() - started >= 120
    assert outs["regions"][0]["key_uri"] == seeds.aws_key_arn("us-east-1", 2)


def test_an_update_rerun_after_its_patch_was_sent_does_not_add_the_region_twice(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(add_region_seconds=60))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_SINGLE)
    id_, outs = activation.create(base)
    new_spec = {"region": "us-west-2", "key_spec": seeds.key_spec("AWS", "us-west-2")}
    news = {**base, "region_specs": [*base["region_specs"], new_spec], "new_region_nodes": {"us-west-2": 3}}
    lost_run = CloudApiClient(SEED_API_KEY, server.url)  # the crashed run's PATCH reached the API
    lost_run.add_regions(seeds.AWS_SINGLE, {"us-east-1": 3, "us-west-2": 3}, [RegionSpec.from_api(new_spec)])

    outs = activation.update(id_, outs, news)

    assert statuses(server, "PATCH") == [200]
    assert {r["region"]: r["status"] for r in outs["regions"]} == {"us-east-1": "ENABLED", "us-west-2": "ENABLED"}


def test_an_update_rerun_after_its_put_was_sent_does_not_rotate_twice(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(rotate_seconds=60))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_MULTI)
    id_, outs = activation.create(base)
    rotated = props(seeds.AWS_MULTI, generation=2)
    server.simulator.rotate_out_of_band(seeds.AWS_MULTI, rotated["region_specs"])  # the crashed run's PUT

    outs = activation.update(id_, outs, rotated)

    assert statuses(server, "PUT") == []
    assert outs["status"] == "ENABLED"
    assert {r["region"]: r["key_uri"] for r in outs["regions"]} == {s["region"]: s["key_spec"]["uri"] for s in rotated["region_specs"]}


def test_a_post_refused_because_another_run_enabled_the_same_keys_meanwhile_adopts_them(sim_factory: SimFactory) -> None:
    base = props(seeds.AWS_MULTI)
    holder: list[SimulatorServer] = []

    def other_run_enables_first(_seconds: float) -> None:  # runs while the simulator holds our POST
        holder[0].simulator.enable_out_of_band(seeds.AWS_MULTI, base["region_specs"])

    server = sim_factory(settings(), sleep=other_run_enables_first)
    holder.append(server)
    server.simulator.inject_fault("POST", "/cmek", "slow", seconds=1)
    activation = SimulatedActivation(server, SEED_API_KEY)

    _, outs = activation.create(base)

    assert statuses(server, "POST") == [400]  # "already enabled": not an error when the keys are ours
    assert outs["status"] == "ENABLED"


def test_a_key_file_with_a_trailing_crlf_works_and_a_line_break_inside_the_key_is_refused_unechoed(
    sim_factory: SimFactory,
) -> None:
    server = sim_factory(settings())
    _, outs = SimulatedActivation(server, SEED_API_KEY + "\r\n").create(props(seeds.AWS_SINGLE))
    assert outs["status"] == "ENABLED"

    broken = SEED_API_KEY[:4] + "\r\n" + SEED_API_KEY[4:]
    before = len(server.simulator.requests)
    with pytest.raises(ActivationError) as refused:
        SimulatedActivation(server, broken).create(props(seeds.GCP_SINGLE))
    message = str(refused.value)
    assert "the CockroachDB Cloud API key contains a line break (U+000D) at position 5" in message
    for text in (message, repr(refused.value), repr(refused.value.__context__)):
        assert SEED_API_KEY[4:] not in text and repr(broken)[1:-1] not in text
    assert len(server.simulator.requests) == before, "refused before any request"


def put_records(server: SimulatorServer) -> list[Any]:
    return [r for r in server.simulator.requests if r.method == "PUT"]


def test_a_rotation_whose_answer_was_lost_is_not_sent_again(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(rotate_seconds=120))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_MULTI)
    id_, outs = activation.create(base)
    server.simulator.inject_fault("PUT", "/cmek", "drop", after_processing=True)
    rotated = props(seeds.AWS_MULTI, generation=2)
    started = activation.now()

    outs = activation.update(id_, outs, rotated)

    assert [(r.status, r.fault) for r in put_records(server)] == [(200, "drop")], "one PUT, applied, answer lost"
    assert outs["status"] == "ENABLED"
    assert {r["region"]: r["key_uri"] for r in outs["regions"]} == {s["region"]: s["key_spec"]["uri"] for s in rotated["region_specs"]}
    assert all(len(history) == 2 for history in outs["key_history"].values()), "each region re-wrapped once"
    assert activation.now() - started < 2 * 120
    assert any("the rotation already took effect" in line for _, line in activation.infos)


@pytest.mark.parametrize("same_uri_rotation", ["new_key_info", "in_place"])
def test_a_rewrap_whose_answer_was_lost_is_not_sent_again(sim_factory: SimFactory, same_uri_rotation: str) -> None:
    server = sim_factory(settings(rotate_seconds=60, same_uri_rotation=same_uri_rotation))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_SINGLE)
    id_, outs = activation.create(base)
    server.simulator.inject_fault("PUT", "/cmek", "drop", after_processing=True)

    outs = activation.update(id_, outs, {**base, "rotation_trigger": "after-audit"})

    assert len(put_records(server)) == 1
    assert outs["status"] == "ENABLED"


def test_a_rotation_whose_answer_was_lost_before_it_applied_is_sent_again(sim_factory: SimFactory) -> None:
    server = sim_factory(settings(rotate_seconds=60))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_SINGLE)
    id_, outs = activation.create(base)
    server.simulator.inject_fault("PUT", "/cmek", "drop")  # dropped before it took effect
    rotated = props(seeds.AWS_SINGLE, generation=2)

    outs = activation.update(id_, outs, rotated)

    assert [r.status for r in put_records(server)] == [None, 200]
    assert outs["regions"][0]["key_uri"] == seeds.aws_key_arn("us-east-1", 2)


def test_a_rotation_refused_by_the_lock_of_the_same_rotation_is_not_resent(sim_factory: SimFactory) -> None:
    rotated = props(seeds.AWS_MULTI, generation=2)
    holder: list[SimulatorServer] = []

    def another_run_rotates_first(_seconds: float) -> None:  # runs while the simulator holds our PUT
        holder[0].simulator.rotate_out_of_band(seeds.AWS_MULTI, rotated["region_specs"])

    server = sim_factory(settings(rotate_seconds=90), sleep=another_run_rotates_first)
    holder.append(server)
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_MULTI)
    id_, outs = activation.create(base)
    server.simulator.inject_fault("PUT", "/cmek", "slow", seconds=1)

    outs = activation.update(id_, outs, rotated)

    assert [r.status for r in put_records(server)] == [409], "refused by the other run's lock, then not resent"
    assert outs["status"] == "ENABLED"
    assert {r["region"]: r["key_uri"] for r in outs["regions"]} == {s["region"]: s["key_spec"]["uri"] for s in rotated["region_specs"]}
    assert all(len(history) == 2 for history in outs["key_history"].values())


def _answer_without_regions(monkeypatch: pytest.MonkeyPatch, keep: tuple[str, ...] = ()) -> None:
    """GET cmek answers ENABLED but lists only the regions in ``keep`` (none by default)."""
    real = CloudApiClient.get_cmek

    def partial(self: CloudApiClient, cluster_id: str) -> CmekInfo | None:
        info = real(self, cluster_id)
        assert info is not None
        return dataclasses.replace(info, region_infos=[r for r in info.region_infos if r.region in keep])

    monkeypatch.setattr(CloudApiClient, "get_cmek", partial)


@pytest.mark.parametrize("keep", [(), ("us-east-1",)], ids=["no-region", "one-of-three"])
def test_a_refresh_whose_answer_lists_no_regions_keeps_the_declared_specs(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch, keep: tuple[str, ...]
) -> None:
    server = sim_factory(settings(rotate_seconds=30))
    activation = SimulatedActivation(server, SEED_API_KEY)
    base = props(seeds.AWS_MULTI)
    id_, outs = activation.create(base)
    with monkeypatch.context() as patched:
        _answer_without_regions(patched, keep)
        read = activation.read(id_, outs)

    assert read.inputs["region_specs"] == base["region_specs"]
    assert read.outs["region_specs"] == base["region_specs"]
    rotated = props(seeds.AWS_MULTI, generation=2)
    outs = activation.update(id_, read.outs, rotated)  # the stored state is still a valid one
    assert outs["status"] == "ENABLED"
    assert {r["region"]: r["key_uri"] for r in outs["regions"]} == {s["region"]: s["key_spec"]["uri"] for s in rotated["region_specs"]}


def test_reading_by_id_an_answer_with_no_regions_says_so_and_what_to_do(
    sim_factory: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = sim_factory(settings())
    activation = SimulatedActivation(server, SEED_API_KEY)
    activation.create(props(seeds.GCP_SINGLE))
    _answer_without_regions(monkeypatch)

    with pytest.raises(ActivationError) as failure:
        activation.read(seeds.GCP_SINGLE, {})

    assert str(failure.value) == (
        f"cluster {seeds.GCP_SINGLE}: GET cmek reports CMEK ENABLED but lists no region with a key, so there are "
        "no key specs to read; declare region_specs (one per cluster region) or run the import or refresh again "
        "once GET /api/v1/clusters/{id}/cmek lists the regions"
    )
