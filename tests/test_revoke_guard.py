"""The revoke-with-rotation rule of the program (``cmek_component.stack.revoke_guard``), as pure logic:
the configuration compared with the ``rotation_config`` the stack's last update exported."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, cast

import pytest

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.stack.revoke_guard import (
    ROTATION_KEYS,
    record_problem,
    revoke_with_rotation_problems,
    rotation_config,
)

CLUSTER = "2c7e4a90-8f1b-4d3c-9e6a-71b5c0d2e4f8"
KEY = "cmek:clusters[0]"


def _args(**fields: Any) -> ClusterCmekArgs:
    return cast(ClusterCmekArgs, {"cluster_id": CLUSTER, **fields})


def _as_exported(record: dict[str, Any]) -> dict[str, Any]:
    """What a stack output gives back: numbers as floats, null values dropped."""

    def plain(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | dict):
            return value
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return float(value)

    return {k: plain(v) for k, v in record.items() if v is not None}


def _fields(problems: list[Any]) -> list[str]:
    return [problem.field for problem in problems]


def test_the_record_holds_every_rotation_key_with_its_default() -> None:
    record = rotation_config(_args(gcp={"key_ring_name": "ring"}))

    assert set(record) == {"cluster_id", "revoke", "keys", *ROTATION_KEYS}
    assert record["keys"] == list(ROTATION_KEYS)
    assert record["key_generation"] == 1 and record["rotation_trigger"] == "" and record["revoke"] is False
    assert record["gcp.key_ring_name"] == "ring" and record["aws.key_mode"] == "multi-region"


def test_a_revoke_alone_passes_even_when_defaults_are_now_stated() -> None:
    last = _as_exported(rotation_config(_args()))

    problems = revoke_with_rotation_problems(
        KEY, _args(revoke=True, key_generation=1, rotation_trigger="", aws={"key_mode": "multi-region"}), last
    )

    assert problems == []


@pytest.mark.parametrize(
    ("before", "after", "field", "undo"),
    [
        ({"key_generation": 3}, {"key_generation": 4}, "key_generation", "set it back to 3"),
        ({}, {"aws": {"key_mode": "single"}}, "aws.key_mode", "set it back to 'multi-region'"),
        ({}, {"aws": {"primary_region": "us-west-2"}}, "aws.primary_region", "remove it"),
        ({"gcp": {"crypto_key_name": "a"}}, {"gcp": {"crypto_key_name": "b"}}, "gcp.crypto_key_name", "set it back to 'a'"),
        ({"vault": {"key_name": "k"}}, {"vault": {"key_name": "k2"}}, "vault.key_name", "set it back to 'k'"),
        ({"region_key_generations": {"us-east-1": 2}}, {}, "region_key_generations", "set it back to {'us-east-1': 2}"),
    ],
)
def test_each_changed_rotation_key_is_named_with_how_to_undo_it(
    before: dict[str, Any], after: dict[str, Any], field: str, undo: str
) -> None:
    last = _as_exported(rotation_config(_args(**before)))

    [problem] = revoke_with_rotation_problems(KEY, _args(revoke=True, **after), last)

    assert problem.field == f"{KEY}.{field}"
    assert f"; {undo} to revoke now, or set revoke to false and apply this change first" in problem.message
    assert ".0" not in problem.message  # numbers shown as configured, not as the output's floats


def test_every_changed_key_is_reported_at_once() -> None:
    last = _as_exported(rotation_config(_args()))

    problems = revoke_with_rotation_problems(KEY, _args(revoke=True, key_generation=2, rotation_trigger="x"), last)

    assert _fields(problems) == [f"{KEY}.key_generation", f"{KEY}.rotation_trigger"]


@pytest.mark.parametrize(
    ("args", "last"),
    [
        (_args(key_generation=2), rotation_config(_args())),  # no revoke: a rotation is fine
        (_args(revoke=True, key_generation=2), None),  # first update of this cluster
        (_args(revoke=True, key_generation=2), rotation_config(_args(revoke=True))),  # revoked already
        (_args(revoke=True, key_generation=2), {**rotation_config(_args()), "cluster_id": "another"}),
        (_args(revoke=True, key_generation=2), "not a record"),
    ],
    ids=["no-revoke", "no-last-update", "already-revoked", "other-cluster", "not-a-record"],
)
def test_nothing_is_compared_without_a_revoke_to_protect(args: ClusterCmekArgs, last: Any) -> None:
    assert revoke_with_rotation_problems(KEY, args, last) == []


def test_the_rule_is_pure_logic() -> None:
    """Importing it loads neither Pulumi nor an HTTP stack."""
    probe = (
        "import json, sys\n"
        "import cmek_component.stack.revoke_guard\n"
        "print(json.dumps([m in sys.modules for m in ('pulumi', 'requests', 'urllib3')]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == [False, False, False]


def test_the_other_clouds_options_are_not_compared_once_the_cloud_is_known() -> None:
    """Stack-wide ``cmek:aws`` defaults are merged into a cluster whose cloud comes from the API."""
    last = _as_exported(rotation_config(_args(aws={"key_mode": "per-region"})))
    args = _args(revoke=True, aws={"key_mode": "single"})

    assert revoke_with_rotation_problems(KEY, args, last, cloud="GCP") == []
    assert _fields(revoke_with_rotation_problems(KEY, args, last, cloud="AWS")) == [f"{KEY}.aws.key_mode"]
    assert _fields(revoke_with_rotation_problems(KEY, args, last)) == [f"{KEY}.aws.key_mode"]


def test_a_stack_wide_default_is_named_by_its_key_and_secret_values_are_hidden() -> None:
    last = _as_exported(rotation_config(_args(aws={"key_mode": "per-region"})))

    [problem] = revoke_with_rotation_problems(
        KEY, _args(revoke=True, aws={"key_mode": "single"}), last,
        stack_defaults={"aws.key_mode": "cmek:aws.key_mode"}, secret=True,
    )

    assert problem.field == "cmek:aws.key_mode"
    assert problem.message.startswith("cannot change in the update that sets revoke to true for cmek:clusters[0] ")
    assert "the last update applied [secret], got [secret]; restore its last value to revoke now" in problem.message
    assert "single" not in problem.message and "per-region" not in problem.message


def test_stating_a_computed_default_explicitly_counts_as_a_change() -> None:
    """Defaults computed elsewhere (``None`` here) cannot be told from a new value: stating one
    beside a revoke is refused, and the message says to remove it."""
    last = _as_exported(rotation_config(_args()))

    [problem] = revoke_with_rotation_problems(KEY, _args(revoke=True, gcp={"key_locations": {"us-east1": "us-east1"}}), last)

    assert problem.field == f"{KEY}.gcp.key_locations"
    assert "the last update applied {}, got {'us-east1': 'us-east1'}; remove it to revoke now" in problem.message


def test_the_key_mode_default_is_the_aws_plans_default() -> None:
    from cmek_component.aws.plan import DEFAULT_KEY_MODE

    assert ROTATION_KEYS["aws.key_mode"] == DEFAULT_KEY_MODE


def test_only_the_keys_an_older_record_holds_are_compared() -> None:
    """A record written before a key joined ROTATION_KEYS must not make that key look changed
    (the advice would be to remove a role name, which replaces the role)."""
    older = {k: v for k, v in rotation_config(_args()).items() if k != "aws.role_name"}
    older["keys"] = [k for k in older["keys"] if k != "aws.role_name"]
    without_list = {k: v for k, v in older.items() if k != "keys"}
    args = _args(revoke=True, aws={"role_name": "crdb-cmek-analytics"})

    assert revoke_with_rotation_problems(KEY, args, _as_exported(older)) == []
    assert revoke_with_rotation_problems(KEY, args, without_list) == []


def test_switching_the_key_source_to_vault_and_reordering_regions_count() -> None:
    last = _as_exported(rotation_config(_args(regions=["us-east-1", "us-west-2"]), "payments"))
    args = _args(revoke=True, regions=["us-west-2", "us-east-1"], vault={})

    problems = revoke_with_rotation_problems(KEY, args, last, name="payments")

    assert _fields(problems) == [f"{KEY}.regions", f"{KEY}.vault"]
    assert "the last update applied absent, got present; remove it to revoke now" in problems[1].message


def test_a_renamed_cluster_is_a_change() -> None:
    last = _as_exported(rotation_config(_args(), "analytics"))

    [problem] = revoke_with_rotation_problems(KEY, _args(revoke=True), last, name="analytics-eu")

    assert problem.field == f"{KEY}.name"
    assert "the last update applied 'analytics', got 'analytics-eu'; set it back to 'analytics'" in problem.message


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"keys": [{"path": "key_generation"}]}, "keys is [{'path': 'key_generation'}]"),
        ({"keys": "key_generation"}, "keys is 'key_generation'"),
        ({"cluster_id": ["x"]}, "cluster_id is ['x']"),
        ({"revoke": "no"}, "revoke is 'no'"),
        ({"key_generation": {"a": []}}, "key_generation is {'a': []}"),
        ({"region_key_generations": [1]}, "region_key_generations is [1]"),
    ],
    ids=["unhashable-keys", "keys-as-text", "cluster-id-list", "revoke-text", "generation-object", "generations-list"],
)
def test_a_malformed_record_is_not_compared_and_says_why(change: dict[str, Any], reason: str) -> None:
    last = {**_as_exported(rotation_config(_args())), **change}

    assert record_problem(last) == reason
    assert revoke_with_rotation_problems(KEY, _args(revoke=True, key_generation=3), last) == []


def test_a_well_formed_record_read_back_has_no_problem() -> None:
    assert record_problem(_as_exported(rotation_config(_args(key_generation=2, aws={"byo_keys": {"us-east-1": "arn"}}), "payments"))) is None
