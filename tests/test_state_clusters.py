"""What the stack's state holds decides renames and refusals (cmek_component.stack.state_clusters)."""

from __future__ import annotations

from typing import Any

from cmek_component.manifest.problems import masked_values
from cmek_component.stack.state_clusters import (
    StateClusters,
    already_enabled_problem,
    plan_renames,
    state_clusters,
)

STACK = "urn:pulumi:local::cmek::pulumi:pulumi:Stack"
COMPONENT = "cockroach:cmek:ClusterCmek"
ACTIVATION = "pulumi-python:dynamic/cockroach:CmekActivation"
CLUSTER_ID = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"


def urn(types: str, name: str) -> str:
    return f"urn:pulumi:local::cmek::{types}::{name}"


def listing(name: str = "payments", cluster_id: str = CLUSTER_ID) -> dict[str, Any]:
    """The engine's resource list of a stack with one cluster, as readStackResourceOutputs gives it."""
    return {
        STACK: {"type": "pulumi:pulumi:Stack", "outputs": {}},
        urn(f"{COMPONENT}", name): {"type": COMPONENT, "outputs": {}},
        urn(f"{COMPONENT}$aws:iam/role:Role", f"{name}-role"): {
            "type": "aws:iam/role:Role", "outputs": {"arn": "arn:aws:iam::1:role/x"}},
        urn(f"{COMPONENT}${ACTIVATION}", f"{name}-activation"): {
            "type": ACTIVATION, "outputs": {"cluster_id": cluster_id.upper(), "status": "ENABLED"}},
    }


def test_the_state_gives_the_component_names_and_the_cluster_each_activation_manages() -> None:
    found = state_clusters(listing())
    assert found.components == {"payments"}
    assert found.by_cluster_id == {CLUSTER_ID: "payments"}
    assert found.holds("payments", "00000000-0000-0000-0000-000000000000")
    assert found.holds("renamed", CLUSTER_ID.upper())
    assert not found.holds("other", "00000000-0000-0000-0000-000000000000")


def test_an_interrupted_first_update_still_holds_the_cluster_by_its_component() -> None:
    interrupted = {k: v for k, v in listing().items() if v["type"] != ACTIVATION}  # activation pending
    assert state_clusters(interrupted).holds("payments", CLUSTER_ID)


def test_resources_of_other_shapes_are_ignored() -> None:
    odd = {
        "not-a-urn": {"type": COMPONENT},
        urn(f"my:index:Wrapper${COMPONENT}", "nested"): {"type": COMPONENT},
        urn(f"{COMPONENT}${ACTIVATION}", "payments-activation"): {"outputs": {"cluster_id": 7}},
        urn(f"{COMPONENT}${ACTIVATION}", "payments-other"): {"outputs": {"cluster_id": "x"}},
    }
    assert state_clusters(odd) == StateClusters()
    assert state_clusters({}) == StateClusters()


def test_a_cluster_whose_activation_is_under_another_name_is_renamed() -> None:
    plan = plan_renames([("cmek:clusters[0]", "billing", CLUSTER_ID)], state_clusters(listing()))
    assert [(r.key, r.old, r.new) for r in plan.renames.values()] == [("cmek:clusters[0]", "payments", "billing")]
    assert plan.refused == []


def test_no_rename_when_the_name_is_unchanged_or_the_new_name_is_already_in_the_state() -> None:
    state = state_clusters({**listing(), **listing("billing", "11111111-1111-1111-1111-111111111111")})
    assert plan_renames([("cmek:clusters[0]", "payments", CLUSTER_ID)], state).renames == {}
    assert plan_renames([("cmek:clusters[0]", "billing", CLUSTER_ID)], state).renames == {}
    assert plan_renames([("cmek:clusters[0]", "new", "22222222-2222-2222-2222-222222222222")], state).renames == {}


def test_a_rename_onto_a_name_another_cluster_keeps_is_refused_with_two_updates_to_do() -> None:
    plan = plan_renames([("cmek:clusters[0]", "billing", CLUSTER_ID)], state_clusters(listing()),
                        other_names=["payments"])
    assert plan.renames == {}
    [(where, message)] = plan.refused
    assert where == "cmek:clusters[0].name"
    assert "'payments'" in message and "rename in two updates" in message and message.endswith("got 'billing'")


def test_secret_configuration_keeps_names_out_of_the_refusal() -> None:
    with masked_values(True):
        plan = plan_renames([("cmek:clusters[0]", "billing", CLUSTER_ID)], state_clusters(listing()),
                            other_names=["payments"])
    [(_, message)] = plan.refused
    assert "payments" not in message and "billing" not in message and "[secret]" in message


def test_the_already_enabled_refusal_names_the_keys_in_use_and_the_ways_out() -> None:
    message = already_enabled_problem(
        CLUSTER_ID, "ENABLED", "arn:aws:iam::123456789012:role/old-role",
        {"us-east-1": "arn:aws:kms:us-east-1:123456789012:key/mrk-1", "eu-west-1": "arn:aws:kms:eu-west-1:123456789012:key/mrk-1"},
    )
    assert message.startswith(f"cluster '{CLUSTER_ID}' already has CMEK ENABLED")
    assert message.index("eu-west-1") < message.index("us-east-1")
    assert "'arn:aws:iam::123456789012:role/old-role'" in message
    assert "Nothing was created" in message and "pulumi state move" in message
    assert "A cluster whose CMEK is already on" in message
    with masked_values(True):
        hidden = already_enabled_problem(CLUSTER_ID, "ENABLED", "arn:aws:iam::1:role/r", {"us-east-1": "arn:k"})
    assert CLUSTER_ID not in hidden and "arn:" not in hidden


def test_the_keys_in_use_are_shown_whole_however_long() -> None:
    uri = "projects/customer-kms-project/locations/us-east1/keyRings/" + "r" * 100 + "/cryptoKeys/crdb-cmek"
    message = already_enabled_problem(CLUSTER_ID, "ENABLED", "sa@p.iam.gserviceaccount.com\n", {"us-east1": uri})
    assert f"us-east1: '{uri}'" in message
    assert "'sa@p.iam.gserviceaccount.com\\n'" in message  # a control character is escaped, not printed


def test_the_decisions_import_neither_pulumi_nor_the_network() -> None:
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, cmek_component.stack.state_clusters; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert not {"pulumi", "pulumi_aws", "pulumi_gcp", "requests", "boto3", "grpc"} & set(loaded)
