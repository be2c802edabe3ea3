"""The activation's decisions without any API: check, diff, preflight, adoption, update plans,
wait progress and the error policy."""

from __future__ import annotations

from typing import Any

import pytest

from cmek_component.activation.inputs import (
    ActivationError,
    ActivationInputs,
    IrreversibleRevoke,
    check_problems,
    diff_inputs,
)
from cmek_component.activation.plan import (
    create_action,
    create_revoked_action,
    is_kms_access_message,
    live_outputs,
    live_region_specs,
    plan_update,
    preflight_problems,
    rotation_took_effect,
)
from cmek_component.activation.progress import cmek_progress
from cmek_component.cloud_api.models import Cluster, CmekInfo
from cmek_component.manifest.problems import SpecProblems
from cmek_component.manifest.region_specs import KeySpec, RegionSpec
from tests.support.digits import arabic_indic, full_width

CID = "8f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f"
ROLE = "arn:aws:iam::123456789012:role/crdb-cmek"
KEY_A = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
KEY_B = "arn:aws:kms:us-west-2:123456789012:key/66666666-7777-8888-9999-000000000000"
KEY_C = "arn:aws:kms:eu-west-1:123456789012:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
KEY_NEW = "arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012"


class Unknown:
    """Stands for pulumi.output.Unknown (this module is Pulumi-free)."""


def unknown(value: object) -> bool:
    return isinstance(value, Unknown)


def spec(region: str, uri: str, principal: str = ROLE, key_type: str = "AWS_KMS") -> dict[str, Any]:
    return {"region": region, "key_spec": {"type": key_type, "uri": uri, "auth_principal": principal}}


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"cluster_id": CID, "region_specs": [spec("us-east-1", KEY_A), spec("us-west-2", KEY_B)]}
    base.update(overrides)
    return base


def cluster(**overrides: Any) -> Cluster:
    data: dict[str, Any] = {
        "id": CID,
        "cloud_provider": "AWS",
        "plan": "ADVANCED",
        "state": "CREATED",
        "network_visibility": "PRIVATE",
        "regions": [{"name": "us-east-1", "node_count": 3}, {"name": "us-west-2", "node_count": 4}],
    }
    data.update(overrides)
    return Cluster.from_api(data)


def key_info(uri: str, status: str = "ENABLED", created: str = "2026-01-01T00:00:00Z", message: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "spec": {"type": "AWS_KMS", "uri": uri, "auth_principal": ROLE},
        "status": status,
        "created_at": created,
        "updated_at": created,
    }
    if message:
        out["user_message"] = message
    return out


def cmek(status: str = "ENABLED", regions: dict[str, tuple[str, list[dict[str, Any]]]] | None = None) -> CmekInfo:
    if regions is None:
        regions = {"us-east-1": ("ENABLED", [key_info(KEY_A)]), "us-west-2": ("ENABLED", [key_info(KEY_B)])}
    return CmekInfo.from_api(
        {"status": status, "region_infos": [{"region": r, "status": s, "key_infos": k} for r, (s, k) in regions.items()]}
    )


def messages(problems: list[Any]) -> list[str]:
    return [str(p) for p in problems]


# ---------------------------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------------------------


def test_valid_inputs_have_no_problems() -> None:
    assert check_problems({}, props()) == []


def test_check_names_field_rule_and_value() -> None:
    bad = props(
        cluster_id="",
        region_specs=[spec("us-east-1", "alias/foo"), spec("us-east-1", KEY_B, principal="arn:aws:iam::123456789012:user/bob")],
        revoke="yes",
        wait_timeout_seconds=0,
    )
    text = messages(check_problems({}, bad))
    assert "cluster_id: expected a CockroachDB Cloud cluster id: a UUID in canonical form, 8-4-4-4-12 lower-case hex digits as in the cluster's URL (such as 8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f), got ''" in text
    assert any(m.startswith("region_specs[0].key_spec.uri: expected a KMS key ARN") and m.endswith("got 'alias/foo'") for m in text)
    assert any(m.startswith("region_specs[1].region: regions must be unique") for m in text)
    assert any(m.startswith("region_specs[1].key_spec.auth_principal: expected an IAM role ARN") for m in text)
    assert "revoke: expected true or false, got 'yes'" in text
    assert "wait_timeout_seconds: expected a number of seconds greater than 0 and at most 604800, got 0" in text


@pytest.mark.parametrize(
    ("region_spec", "field", "value"),
    [
        (spec("us-east-1\n", KEY_A), "region_specs[0].region", "us-east-1\n"),
        (spec("us-east-1", KEY_A + "\n"), "region_specs[0].key_spec.uri", KEY_A + "\n"),
        (spec("us-east-1", KEY_A, ROLE + "\n"), "region_specs[0].key_spec.auth_principal", ROLE + "\n"),
        (spec("us-east-1", KEY_A.replace("123456789012", full_width("123456789012"))), "region_specs[0].key_spec.uri",
         KEY_A.replace("123456789012", full_width("123456789012"))),
        (spec("us-east-1", KEY_A, ROLE.replace("123456789012", arabic_indic("123456789012"))), "region_specs[0].key_spec.auth_principal",
         ROLE.replace("123456789012", arabic_indic("123456789012"))),
    ],
    ids=["region-newline", "key-arn-newline", "role-arn-newline", "full-width-account", "arabic-indic-account"],
)
def test_check_matches_identifiers_whole_and_ascii_only(region_spec: dict[str, Any], field: str, value: str) -> None:
    found = [m for m in messages(check_problems({}, props(region_specs=[region_spec]))) if m.startswith(f"{field}: ")]

    assert len(found) == 1 and f"got {value!r}" in found[0], found


@pytest.mark.parametrize(
    "spelling",
    ["{" + CID + "}", "urn:uuid:" + CID, CID.replace("-", ""), CID + "\n"],
    ids=["braces", "urn", "32-hex-digits", "trailing-newline"],
)
def test_check_accepts_the_canonical_cluster_id_only(spelling: str) -> None:
    assert messages(check_problems({}, props(cluster_id=spelling))) == [
        "cluster_id: expected a CockroachDB Cloud cluster id: a UUID in canonical form, 8-4-4-4-12 lower-case hex "
        f"digits as in the cluster's URL (such as 8f1c2d3e-4b5a-4c6d-9e8f-0a1b2c3d4e5f), got {spelling!r}; did you mean {CID!r}?"
    ]


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("wait_timeout_seconds", float("nan"), "nan"),
        ("wait_timeout_seconds", float("inf"), "inf"),
        ("wait_timeout_seconds", 7 * 24 * 3600 + 1, "604801"),
        ("iam_propagation_timeout_seconds", float("-inf"), "-inf"),
        ("iam_propagation_timeout_seconds", 10**4999, "an integer of about 5000 digits"),
    ],
    ids=["nan", "infinity", "above-one-week", "minus-infinity", "5000-digits"],
)
def test_check_refuses_wait_limits_that_never_end(name: str, value: float, shown: str) -> None:
    limit = {"wait_timeout_seconds": 604800, "iam_propagation_timeout_seconds": 86400}[name]

    assert messages(check_problems({}, props(**{name: value}))) == [
        f"{name}: expected a number of seconds greater than 0 and at most {limit}, got {shown}"
    ]


def test_check_refuses_mixed_key_types_and_versioned_gcp_keys() -> None:
    gcp_key = "projects/acme-prod/locations/us-east1/keyRings/crdb/cryptoKeys/cmek/cryptoKeyVersions/1"
    sa = "crdb-cmek@acme-prod.iam.gserviceaccount.com"
    bad = props(region_specs=[spec("us-east-1", KEY_A), spec("us-east1", gcp_key, sa, "GCP_CLOUD_KMS")])
    text = messages(check_problems({}, bad))
    assert any("region_specs[1].key_spec.type: expected AWS_KMS like the other regions" in m for m in text)
    only_gcp = props(region_specs=[spec("us-east1", gcp_key, sa, "GCP_CLOUD_KMS")])
    assert any("drop the /cryptoKeyVersions/<n> suffix" in m for m in messages(check_problems({}, only_gcp)))


def test_check_lets_unknown_values_pass() -> None:
    preview = props(
        cluster_id=Unknown(),
        region_specs=[spec("us-east-1", Unknown()), {"region": "us-west-2", "key_spec": Unknown()}],
        rotation_trigger=Unknown(),
        new_region_nodes=Unknown(),
    )
    assert check_problems({}, preview, unknown) == []
    assert check_problems({}, props(region_specs=Unknown()), unknown) == []


def test_check_validates_new_region_nodes() -> None:
    text = messages(check_problems({}, props(new_region_nodes={"us-west-2": 2, "eu-west-1": 3})))
    assert "new_region_nodes['us-west-2']: expected a node count of at least 3, got 2" in text
    assert any(m.startswith("new_region_nodes['eu-west-1']: a region being added needs its key in region_specs") for m in text)


def test_check_refuses_revoke_with_other_changes() -> None:
    olds = props(revoke=False)
    news = props(revoke=True, region_specs=[spec("us-east-1", KEY_NEW), spec("us-west-2", KEY_B)])
    text = messages(check_problems(olds, news))
    assert any(m.startswith("revoke: cannot be combined with a change of region_specs") for m in text)
    assert check_problems(olds, props()) == []


def test_check_refuses_un_revoking() -> None:
    text = messages(check_problems(props(revoke=True), props(revoke=False)))
    assert len(text) == 1 and "only be re-enabled by CockroachDB support" in text[0]


def test_region_order_does_not_count_as_a_change_for_revoke() -> None:
    olds = props()
    news = props(revoke=True, region_specs=list(reversed(props()["region_specs"])))
    assert check_problems(olds, news) == []


def test_from_props_applies_defaults_and_accepts_float_numbers() -> None:
    inputs = ActivationInputs.from_props(props(new_region_nodes={}, wait_timeout_seconds=30.0))
    assert inputs.revoke is False and inputs.rotation_trigger == ""
    assert inputs.iam_propagation_timeout_seconds == 600 and inputs.wait_timeout_seconds == 30
    with pytest.raises(SpecProblems, match="cluster_id"):
        ActivationInputs.from_props(props(cluster_id="not-a-uuid"))


# ---------------------------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------------------------


def test_identical_inputs_in_another_region_order_do_not_change() -> None:
    olds = {**props(), "status": "ENABLED", "regions": [], "key_history": {}, "__provider": "x"}
    news = props(region_specs=list(reversed(props()["region_specs"])))
    diff = diff_inputs(olds, news)
    assert not diff.changes and diff.replaces == ()


@pytest.mark.parametrize(
    ("change", "changed", "replaces"),
    [
        ({"cluster_id": "00000000-0000-4000-8000-000000000000"}, ("cluster_id",), ("cluster_id",)),
        ({"region_specs": [spec("us-east-1", KEY_NEW), spec("us-west-2", KEY_B)]}, ("region_specs",), ()),
        ({"rotation_trigger": "2026-q3"}, ("rotation_trigger",), ()),
        ({"revoke": True}, ("revoke",), ()),
        ({"rotation_trigger": Unknown()}, ("rotation_trigger",), ()),
        ({"cluster_id": Unknown()}, ("cluster_id",), ("cluster_id",)),
        ({"region_specs": [spec("us-east-1", Unknown()), spec("us-west-2", KEY_B)]}, ("region_specs",), ()),
    ],
)
def test_diff_finds_each_change(change: dict[str, Any], changed: tuple[str, ...], replaces: tuple[str, ...]) -> None:
    diff = diff_inputs(props(), props(**change), unknown)
    assert diff.changed == changed and diff.replaces == replaces


def test_adding_a_region_is_an_update() -> None:
    news = props(
        region_specs=[*props()["region_specs"], spec("eu-west-1", KEY_C)], new_region_nodes={"eu-west-1": 3}
    )
    diff = diff_inputs(props(), news)
    assert diff.changed == ("region_specs", "new_region_nodes") and diff.replaces == ()


def test_diff_refuses_un_revoking_with_the_reason() -> None:
    with pytest.raises(IrreversibleRevoke, match="only be re-enabled by CockroachDB support"):
        diff_inputs(props(revoke=True), props(revoke=False))


@pytest.mark.parametrize("key_spec", ["arn:aws:kms:us-east-1:123456789012:key/x", ["AWS_KMS", "uri", "principal"]], ids=["string", "list"])
def test_diff_names_a_key_spec_that_is_not_an_object(key_spec: object) -> None:
    news = props(region_specs=[{"region": "us-east-1", "key_spec": key_spec}])

    with pytest.raises(SpecProblems) as caught:
        diff_inputs(props(), news)

    assert messages(caught.value.problems) == [
        f"region_specs[0].key_spec: expected an object with type, uri and auth_principal, got {key_spec!r}"
    ]


def test_diff_and_check_name_a_malformed_key_spec_in_the_stored_state() -> None:
    olds = {**props(region_specs=[spec("us-east-1", KEY_A), {"region": "us-west-2", "key_spec": "broken"}]), "status": "ENABLED"}
    expected = (
        "region_specs[1].key_spec: expected an object with type, uri and auth_principal, got 'broken' "
        "(in the activation's stored state: remove the activation from the state"
    )

    with pytest.raises(SpecProblems) as caught:
        diff_inputs(olds, props())
    assert [m[: len(expected)] for m in messages(caught.value.problems)] == [expected]
    assert [m[: len(expected)] for m in messages(check_problems(olds, props()))] == [expected]


# ---------------------------------------------------------------------------------------------
# preflight and adoption
# ---------------------------------------------------------------------------------------------


def test_preflight_accepts_a_matching_cluster() -> None:
    assert preflight_problems(cluster(), ActivationInputs.from_props(props()), creating=True) == []


def test_preflight_explains_every_problem() -> None:
    inputs = ActivationInputs.from_props(props(region_specs=[spec("us-east-1", KEY_A), spec("eu-west-1", KEY_C)]))
    found = preflight_problems(
        cluster(plan="STANDARD", network_visibility="PUBLIC", cloud_provider="GCP", state="DELETED"), inputs, creating=True
    )
    assert f"cluster {CID}: CMEK requires an ADVANCED plan, got 'STANDARD'" in found
    assert any(p.startswith(f"cluster {CID}: CMEK requires a cluster created with private network visibility") for p in found)
    assert f"cluster {CID}: expected state CREATED, got 'DELETED'" in found
    assert f"region_specs[0].key_spec.type: cluster {CID} runs on GCP, which needs GCP_CLOUD_KMS, got 'AWS_KMS'" in found
    assert "region_specs: missing a spec for cluster region 'us-west-2'" in found
    assert any(p.startswith(f"region_specs[1].region: cluster {CID} has no region 'eu-west-1'") for p in found)


def test_preflight_waits_out_a_locked_cluster_rather_than_failing() -> None:
    assert preflight_problems(cluster(state="LOCKED"), ActivationInputs.from_props(props()), creating=True) == []


def test_create_enables_when_there_is_no_cmek() -> None:
    assert create_action(None, ActivationInputs.from_props(props())) == "enable"


def test_create_adopts_the_same_keys_enabled_or_still_enabling() -> None:
    inputs = ActivationInputs.from_props(props(region_specs=list(reversed(props()["region_specs"]))))
    assert create_action(cmek(), inputs) == "adopt"
    enabling = cmek("ENABLING", {"us-east-1": ("ENABLING", [key_info(KEY_A, "ENABLING")]), "us-west-2": ("ENABLING", [key_info(KEY_B, "ENABLING")])})
    assert create_action(enabling, inputs) == "adopt"


def test_create_refuses_to_overwrite_other_keys() -> None:
    inputs = ActivationInputs.from_props(props(region_specs=[spec("us-east-1", KEY_NEW), spec("us-west-2", KEY_B)]))
    with pytest.raises(ActivationError, match=r"already ENABLED with other keys \(region 'us-east-1' uses '.*5555'"):
        create_action(cmek(), inputs)


def test_create_refuses_a_revoked_cluster() -> None:
    with pytest.raises(ActivationError, match="only be re-enabled by CockroachDB support"):
        create_action(cmek("REVOKED"), ActivationInputs.from_props(props()))


def _all(status: str) -> CmekInfo:
    return cmek(status, {"us-east-1": (status, [key_info(KEY_A, status)]), "us-west-2": (status, [key_info(KEY_B, status)])})


@pytest.mark.parametrize(
    ("live", "action"),
    [
        (_all("REVOKED"), "adopt"),
        (_all("REVOKING"), "adopt"),
        (cmek(), "revoke"),
        (cmek("REVOKE_FAILED"), "revoke"),  # the revoke failed: send it again
        (cmek("ROTATE_FAILED"), "revoke"),  # a failed rotation does not stand in the way
        (_all("ENABLING"), "await-enabled"),
    ],
    ids=["revoked", "revoking", "enabled", "revoke-failed", "rotate-failed", "enabling"],
)
def test_creating_with_revoke_adopts_or_revokes_the_declared_keys(live: CmekInfo, action: str) -> None:
    assert create_revoked_action(live, ActivationInputs.from_props(props(revoke=True))) == action


@pytest.mark.parametrize("status", ["DISABLED", "DISABLING", "DISABLE_FAILED", "ENABLE_FAILED"])
def test_creating_with_revoke_finds_nothing_to_revoke_without_enabled_cmek(status: str) -> None:
    """A configuration disabled by support (or never enabled) is refused at once, not waited on."""
    with pytest.raises(ActivationError, match=f"revoke is true but the cluster has CMEK {status}: there is nothing to revoke"):
        create_revoked_action(cmek(status), ActivationInputs.from_props(props(revoke=True)))
    with pytest.raises(ActivationError, match="has no CMEK configuration: there is nothing to revoke"):
        create_revoked_action(None, ActivationInputs.from_props(props(revoke=True)))


def test_creating_with_revoke_refuses_keys_it_does_not_declare() -> None:
    inputs = ActivationInputs.from_props(props(revoke=True, region_specs=[spec("us-east-1", KEY_NEW), spec("us-west-2", KEY_B)]))
    with pytest.raises(ActivationError, match=r"revoke is true but CMEK is ENABLED with other keys \(region 'us-east-1' uses"):
        create_revoked_action(cmek(), inputs)


# ---------------------------------------------------------------------------------------------
# update plans
# ---------------------------------------------------------------------------------------------


def test_add_region_patches_the_complete_region_nodes() -> None:
    old = ActivationInputs.from_props(props())
    new = ActivationInputs.from_props(
        props(region_specs=[*props()["region_specs"], spec("eu-west-1", KEY_C)], new_region_nodes={"eu-west-1": 5})
    )
    plan = plan_update(old, new, cluster(), cmek())
    assert plan.calls == ["PATCH cluster"]
    assert [s.region for s in plan.add] == ["eu-west-1"]
    assert dict(plan.region_nodes) == {"us-east-1": 3, "us-west-2": 4, "eu-west-1": 5}


def test_add_region_is_skipped_when_a_crashed_run_already_added_it() -> None:
    old = ActivationInputs.from_props(props())
    new = ActivationInputs.from_props(
        props(region_specs=[*props()["region_specs"], spec("eu-west-1", KEY_C)], new_region_nodes={"eu-west-1": 3})
    )
    grown = cluster(regions=[{"name": r, "node_count": 3} for r in ("us-east-1", "us-west-2", "eu-west-1")])
    live = cmek("ENABLING", {"us-east-1": ("ENABLED", [key_info(KEY_A)]), "us-west-2": ("ENABLED", [key_info(KEY_B)]), "eu-west-1": ("ENABLING", [key_info(KEY_C, "ENABLING")])})
    assert plan_update(old, new, grown, live).calls == []


def test_a_region_the_cluster_lacks_needs_a_node_count() -> None:
    old = ActivationInputs.from_props(props())
    new = ActivationInputs.from_props(props(region_specs=[*props()["region_specs"], spec("eu-west-1", KEY_C)]))
    with pytest.raises(ActivationError, match=r"has no region 'eu-west-1'.*give its node count in new_region_nodes"):
        plan_update(old, new, cluster(), cmek())


def test_rotation_puts_only_the_changed_regions() -> None:
    old = ActivationInputs.from_props(props())
    new = ActivationInputs.from_props(props(region_specs=[spec("us-east-1", KEY_NEW), spec("us-west-2", KEY_B)]))
    plan = plan_update(old, new, cluster(), cmek())
    assert plan.calls == ["PUT cmek"]
    assert [(s.region, s.key_spec.uri) for s in plan.rotate] == [("us-east-1", KEY_NEW)]


def test_rotation_is_skipped_when_the_new_key_is_already_enabled() -> None:
    old = ActivationInputs.from_props(props())
    new = ActivationInputs.from_props(props(region_specs=[spec("us-east-1", KEY_NEW), spec("us-west-2", KEY_B)]))
    rotated = cmek(regions={"us-east-1": ("ENABLED", [key_info(KEY_A, "DISABLED"), key_info(KEY_NEW, created="2026-02-01T00:00:00Z")]), "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    assert plan_update(old, new, cluster(), rotated).calls == []


def test_a_new_rotation_trigger_puts_every_region() -> None:
    old = ActivationInputs.from_props(props())
    new = ActivationInputs.from_props(props(rotation_trigger="2026-q3"))
    plan = plan_update(old, new, cluster(), cmek())
    assert sorted((s.region, s.key_spec.uri) for s in plan.rotate) == [("us-east-1", KEY_A), ("us-west-2", KEY_B)]


def test_revoke_plans_only_the_revoke() -> None:
    old = ActivationInputs.from_props(props())
    plan = plan_update(old, ActivationInputs.from_props(props(revoke=True)), cluster(), cmek())
    assert plan.calls == ["PATCH cmek"]
    assert plan_update(old, ActivationInputs.from_props(props(revoke=True)), cluster(), cmek("REVOKING")).calls == []
    # A failed revoke is sent again rather than waited on forever.
    assert plan_update(old, ActivationInputs.from_props(props(revoke=True)), cluster(), cmek("REVOKE_FAILED")).calls == ["PATCH cmek"]


def test_update_refuses_a_revoked_cluster_and_missing_cmek() -> None:
    old = ActivationInputs.from_props(props())
    with pytest.raises(ActivationError, match="only CockroachDB support can re-enable it"):
        plan_update(old, ActivationInputs.from_props(props(rotation_trigger="x")), cluster(), cmek("REVOKED"))
    with pytest.raises(ActivationError, match="CMEK is not enabled"):
        plan_update(old, old, cluster(), None)


# ---------------------------------------------------------------------------------------------
# waiting and outputs
# ---------------------------------------------------------------------------------------------

EXPECTED: dict[str, KeySpec | None] = {
    "us-east-1": KeySpec("AWS_KMS", KEY_A, ROLE),
    "us-west-2": KeySpec("AWS_KMS", KEY_B, ROLE),
}


def test_progress_is_done_only_when_the_cluster_and_every_region_are_enabled() -> None:
    assert cmek_progress(cmek(), "ENABLED", EXPECTED).done
    half = cmek("ENABLING", {"us-east-1": ("ENABLED", [key_info(KEY_A)]), "us-west-2": ("ENABLING", [key_info(KEY_B, "ENABLING")])})
    progress = cmek_progress(half, "ENABLED", EXPECTED)
    assert not progress.done and progress.summary == "cluster ENABLING, us-east-1 ENABLED, us-west-2 ENABLING"


def test_an_empty_region_list_is_never_success() -> None:
    progress = cmek_progress(cmek("ENABLED", {}), "ENABLED", EXPECTED)
    assert not progress.done and progress.failure is None


def test_a_region_still_on_its_old_key_is_not_done() -> None:
    expected = {**EXPECTED, "us-east-1": KeySpec("AWS_KMS", KEY_NEW, ROLE)}
    assert not cmek_progress(cmek(), "ENABLED", expected).done


def test_a_failed_region_fails_with_its_user_message() -> None:
    failed = cmek("ENABLE_FAILED", {"us-east-1": ("ENABLE_FAILED", [key_info(KEY_A, "ENABLE_FAILED", message="key is disabled in KMS")]), "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    assert cmek_progress(failed, "ENABLED", EXPECTED).failure == "CMEK ENABLE_FAILED in region us-east-1: key is disabled in KMS"


def test_a_failure_message_from_the_server_loses_its_terminal_control_characters() -> None:
    hostile = "\x1b[2J\x1b[31mkey is\r\ndisabled\x00 in KMS\x07\x1b]0;pwned\x07\u202e"
    failed = cmek("ENABLE_FAILED", {"us-east-1": ("ENABLE_FAILED\x1b[0m", [key_info(KEY_A, "ENABLE_FAILED", message=hostile)]), "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    assert cmek_progress(failed, "ENABLED", EXPECTED).failure == "CMEK ENABLE_FAILED in region us-east-1: key is disabled in KMS"


def _spec(region: str, uri: str) -> RegionSpec:
    return RegionSpec(region, KeySpec("AWS_KMS", uri, ROLE))


def test_a_rotation_took_effect_when_every_rotated_region_shows_the_new_key_rotating_or_enabled() -> None:
    before = cmek()
    rotating = cmek("ROTATING", {"us-east-1": ("ROTATING", [key_info(KEY_A, "DISABLING"), key_info(KEY_NEW, "ENABLING", created="2026-02-01T00:00:00Z")]),
                                 "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    done = cmek(regions={"us-east-1": ("ENABLED", [key_info(KEY_A, "DISABLED"), key_info(KEY_NEW, created="2026-02-01T00:00:00Z")]),
                         "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    failed = cmek("ROTATE_FAILED", {"us-east-1": ("ROTATE_FAILED", [key_info(KEY_A), key_info(KEY_NEW, "ROTATE_FAILED", created="2026-02-01T00:00:00Z")]),
                                    "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    rotate = [_spec("us-east-1", KEY_NEW)]
    assert rotation_took_effect(before, rotating, rotate)
    assert rotation_took_effect(before, done, rotate)
    assert not rotation_took_effect(before, before, rotate), "nothing happened yet"
    assert not rotation_took_effect(before, failed, rotate)
    assert not rotation_took_effect(before, None, rotate)
    assert not rotation_took_effect(before, done, [*rotate, _spec("us-west-2", KEY_C)]), "every rotated region counts"


def test_a_rewrap_with_the_same_key_took_effect_only_when_the_region_changed() -> None:
    before = cmek()
    rewrap = [_spec("us-east-1", KEY_A)]
    assert not rotation_took_effect(before, cmek(), rewrap), "same key, same state: no trace of the PUT"
    rotating = cmek("ROTATING", {"us-east-1": ("ROTATING", [key_info(KEY_A)]), "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    assert rotation_took_effect(before, rotating, rewrap)
    refreshed = cmek(regions={"us-east-1": ("ENABLED", [key_info(KEY_A, created="2026-03-01T00:00:00Z")]), "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    assert rotation_took_effect(before, refreshed, rewrap)


def test_outputs_show_current_key_and_history() -> None:
    rotated = cmek(regions={"us-east-1": ("ENABLED", [key_info(KEY_A, "DISABLED"), key_info(KEY_NEW, created="2026-02-01T00:00:00Z")]), "us-west-2": ("ENABLED", [key_info(KEY_B)])})
    out = live_outputs(rotated)
    assert out["status"] == "ENABLED"
    assert out["regions"][0] == {
        "region": "us-east-1", "status": "ENABLED", "key_uri": KEY_NEW, "key_status": "ENABLED",
        "user_message": None, "created_at": "2026-02-01T00:00:00Z", "updated_at": "2026-02-01T00:00:00Z",
    }
    assert [(k["uri"], k["status"]) for k in out["key_history"]["us-east-1"]] == [(KEY_A, "DISABLED"), (KEY_NEW, "ENABLED")]
    inputs = ActivationInputs.from_props(props())
    assert [(s.region, s.key_spec.uri) for s in live_region_specs(rotated, inputs.region_specs)] == [("us-east-1", KEY_NEW), ("us-west-2", KEY_B)]


@pytest.mark.parametrize(
    ("message", "retried"),
    [
        ("invalid argument: insufficient permissions to access the KMS key", True),
        ("permission denied: unable to assume role arn:aws:iam::123456789012:role/crdb-cmek", True),
        ("failed precondition: service account crdb@p.iam.gserviceaccount.com lacks permission cloudkms.cryptoKeyVersions.useToEncrypt", True),
        ("invalid argument: key type AWS_KMS does not match cluster cloud GCP", False),
        ("invalid argument: missing region_spec for region eu-west-1", False),
        ("unauthenticated: invalid API key", False),
        ("permission denied: the API key's role CLUSTER_DEVELOPER cannot modify CMEK", False),
        # About the API key's own (Cloud) service account: fails at once, never waits 10 minutes.
        ("permission denied: the service account does not have the required role on this cluster", False),
        ("unauthenticated: service account token expired", False),
        ("permission denied: access to this cluster is not allowed for your key", False),
        ("permission denied: could not impersonate crdb-cmek@cust.iam.gserviceaccount.com", True),
        ("invalid argument: access denied when calling kms:GenerateDataKey on the key", True),
    ],
)
def test_only_kms_access_failures_count_as_iam_propagation(message: str, retried: bool) -> None:
    assert is_kms_access_message(message) is retried
