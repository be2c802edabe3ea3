"""CmekActivation through the real CLI: enable, no-op, preview, rotate, add region, drift, revoke,
destroy. Each test asserts what a user sees: the CLI's summary, ``pulumi stack output``, the
simulator's request record and the cluster's CMEK state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cmek_component.simulator import seeds

from .conftest import EngineStack, make_stack, single_region, start_simulator, wait_until


def test_up_enables_cmek_once_and_a_second_up_changes_nothing(engine_stack: EngineStack) -> None:
    engine_stack.set_activations([single_region()])
    first = engine_stack.up().check()
    assert first.summary() == {"created": 2}  # the stack and the activation
    assert engine_stack.simulator.mutating() == [("POST", f"/api/v1/clusters/{seeds.AWS_SINGLE}/cmek")]
    assert engine_stack.simulator.cmek(seeds.AWS_SINGLE)["status"] == "ENABLED"
    outputs = engine_stack.outputs()
    assert outputs["single_status"] == "ENABLED"
    assert [r["status"] for r in outputs["single_regions"]] == ["ENABLED"]

    second = engine_stack.up().check()
    assert second.summary() == {"unchanged": 2}
    assert len(engine_stack.simulator.mutating()) == 1


def test_preview_of_a_rotation_shows_the_update_and_mutates_nothing(engine_stack: EngineStack) -> None:
    engine_stack.set_activations([single_region()])
    engine_stack.up().check()
    before = engine_stack.simulator.recorded()

    engine_stack.set_activations([single_region(generation=2)])
    preview = engine_stack.workspace.run("preview", "--diff").check()
    assert preview.summary() == {"to update": 1, "unchanged": 1}
    assert seeds.aws_key_arn("us-east-1", 2) in preview.stdout
    plain = engine_stack.workspace.run("preview").check()
    assert plain.summary() == {"to update": 1, "unchanged": 1}

    after = engine_stack.simulator.recorded()
    new = after[len(before):]
    assert [r for r in new if r["method"] != "GET"] == []
    assert engine_stack.simulator.current_keys(seeds.AWS_SINGLE) == {
        "us-east-1": (seeds.aws_key_arn("us-east-1", 1), "ENABLED")
    }


def multi_region(generations: dict[str, int] | None = None, **extra: Any) -> dict[str, Any]:
    """An activation of the seeded three-region AWS cluster (generation 1 unless named)."""
    generations = generations or {}
    specs = [
        {"region": region, "key_spec": seeds.key_spec("AWS", region, generations.get(region, 1))}
        for region, _ in seeds.BY_ID[seeds.AWS_MULTI].regions
    ]
    return {"name": "multi", "cluster_id": seeds.AWS_MULTI, "region_specs": specs, **extra}


def test_rotation_in_place_rotation_and_a_new_region(engine_stack: EngineStack) -> None:
    sim = engine_stack.simulator
    cluster = f"/api/v1/clusters/{seeds.AWS_MULTI}"
    engine_stack.set_activations([multi_region()])
    engine_stack.up().check()

    # A new key in one region: one PUT, naming that region only.
    engine_stack.set_activations([multi_region({"us-west-2": 2})])
    rotated = engine_stack.up().check()
    assert rotated.summary() == {"updated": 1, "unchanged": 1}
    puts = [r for r in sim.recorded() if r["method"] == "PUT"]
    assert [(r["path"], [spec["region"] for spec in r["body"]["region_specs"]]) for r in puts] == [
        (f"{cluster}/cmek", ["us-west-2"])
    ]
    assert sim.current_keys(seeds.AWS_MULTI)["us-west-2"] == (seeds.aws_key_arn("us-west-2", 2), "ENABLED")

    # rotation_trigger: every region re-wrapped with its unchanged key.
    engine_stack.set_activations([multi_region({"us-west-2": 2}, rotation_trigger="2026-q4")])
    engine_stack.up().check()
    puts = [r for r in sim.recorded() if r["method"] == "PUT"]
    assert len(puts) == 2
    assert sorted(spec["key_spec"]["uri"] for spec in puts[1]["body"]["region_specs"]) == sorted(
        [seeds.aws_key_arn("eu-west-1"), seeds.aws_key_arn("us-east-1"), seeds.aws_key_arn("us-west-2", 2)]
    )

    # A new region: PATCH cluster with its node count and its CMEK spec.
    added = multi_region({"us-west-2": 2}, rotation_trigger="2026-q4", new_region_nodes={"ap-south-1": 3})
    added["region_specs"].append({"region": "ap-south-1", "key_spec": seeds.key_spec("AWS", "ap-south-1")})
    engine_stack.set_activations([added])
    engine_stack.up().check()
    patches = [r for r in sim.recorded() if r["method"] == "PATCH"]
    assert [r["path"] for r in patches] == [cluster]
    assert patches[0]["body"]["dedicated"]["cmek_region_specs"] == [
        {"region": "ap-south-1", "key_spec": seeds.key_spec("AWS", "ap-south-1")}
    ]
    assert sim.current_keys(seeds.AWS_MULTI)["ap-south-1"] == (seeds.aws_key_arn("ap-south-1"), "ENABLED")
    assert engine_stack.outputs()["multi_status"] == "ENABLED"


def test_refresh_shows_an_out_of_band_rotation_and_up_restores_the_declared_key(
    engine_stack: EngineStack,
) -> None:
    sim = engine_stack.simulator
    engine_stack.set_activations([single_region()])
    engine_stack.up().check()
    # Someone rotates the key by hand (curl, the console).
    sim.api("PUT", f"clusters/{seeds.AWS_SINGLE}/cmek",
            {"region_specs": seeds.region_specs(seeds.AWS_SINGLE, generation=7)})
    wait_until(lambda: sim.current_keys(seeds.AWS_SINGLE)["us-east-1"][1] == "ENABLED", 30, "the rotation")

    refreshed = engine_stack.workspace.run("refresh", "--yes", "--skip-preview").check()
    assert refreshed.summary().get("updated") == 1
    drift = engine_stack.workspace.run("preview", "--diff").check()
    assert drift.summary() == {"to update": 1, "unchanged": 1}
    assert seeds.aws_key_arn("us-east-1", 7) in drift.stdout

    engine_stack.up().check()
    assert sim.current_keys(seeds.AWS_SINGLE)["us-east-1"] == (seeds.aws_key_arn("us-east-1", 1), "ENABLED")

    # A refresh with nothing drifted leaves the next preview empty.
    calm = engine_stack.workspace.run("refresh", "--yes", "--skip-preview").check()
    assert "updated" not in calm.summary()
    assert engine_stack.workspace.run("preview").check().summary() == {"unchanged": 2}


def test_revoke_then_destroy_leaves_cmek_as_it_was_and_says_so(engine_stack: EngineStack) -> None:
    sim = engine_stack.simulator
    engine_stack.set_activations([single_region()])
    engine_stack.up().check()
    engine_stack.set_activations([single_region(revoke=True)])
    engine_stack.up().check()
    assert sim.cmek(seeds.AWS_SINGLE)["status"] == "REVOKED"
    assert engine_stack.outputs()["single_status"] == "REVOKED"
    calls = len(sim.recorded())

    destroyed = engine_stack.workspace.run("destroy", "--yes", "--skip-preview").check()
    assert destroyed.summary() == {"deleted": 2}
    assert len(sim.recorded()) == calls  # not even a GET
    assert sim.cmek(seeds.AWS_SINGLE)["status"] == "REVOKED"
    # The warning stands under the activation it concerns, not under the stack.
    diagnostics = destroyed.diagnostics()
    warning = diagnostics["pulumi-python:dynamic/cockroach:CmekActivation (single)"]
    assert f"CMEK stays revoked on cluster {seeds.AWS_SINGLE} (status REVOKED)" in warning
    assert "CMEK stays enabled" not in destroyed.stdout
    assert not any("CMEK stays revoked" in text for heading, text in diagnostics.items() if "Stack" in heading)


def test_progress_lines_stand_under_the_activation(tmp_path: Path, pulumi_cli: Path) -> None:
    with start_simulator(tmp_path, "--enable-seconds", "35") as sim:
        stack = make_stack(tmp_path, pulumi_cli, sim)
        stack.set_activations([single_region()])
        created = stack.up().check()
    diagnostics = created.diagnostics()
    assert "waiting for CMEK ENABLED" in diagnostics["pulumi-python:dynamic/cockroach:CmekActivation (single)"]
    assert all("waiting for CMEK" not in text for heading, text in diagnostics.items() if "Stack" in heading)
