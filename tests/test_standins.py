"""The stand-in providers' pure parts, called directly: refusals, autonaming, replacements and
previews that never reach a backend."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CheckRequest, CreateRequest, DiffRequest

from cmek_component.rehearsal.errors import RehearsalError
from cmek_component.rehearsal.standins.aws_plugin import AwsStandin
from cmek_component.rehearsal.standins.gcp_plugin import GcpStandin
from cmek_component.rehearsal.standins.install import install_standins
from cmek_component.rehearsal.standins.values import property_map

ROLE_URN = "urn:pulumi:dev::cmek::cockroach:cmek:ClusterCmek$aws:iam/role:Role::prod-role"
KEY_URN = "urn:pulumi:dev::cmek::cockroach:cmek:ClusterCmek$aws:kms/key:Key::prod-key"


def test_a_type_the_component_does_not_use_is_refused_by_name() -> None:
    with pytest.raises(RehearsalError, match=r"does not serve the resource type aws:s3/bucket:Bucket"):
        asyncio.run(AwsStandin().check(CheckRequest("urn:pulumi:dev::cmek::aws:s3/bucket:Bucket::b", {}, {}, b"")))
    with pytest.raises(RehearsalError, match=r"does not serve the invoke gcp:compute/getZones:getZones"):
        from pulumi.provider.experimental.provider import InvokeRequest

        asyncio.run(GcpStandin().invoke(InvokeRequest("gcp:compute/getZones:getZones", {})))


def test_a_role_without_a_name_is_autonamed_once_and_keeps_its_name() -> None:
    first = asyncio.run(AwsStandin().check(CheckRequest(ROLE_URN, {}, {}, b"seed-1")))
    assert first.inputs is not None
    name = first.inputs["name"].value
    assert isinstance(name, str) and re.fullmatch(r"prod-role-[0-9a-f]{7}", name)
    again = asyncio.run(AwsStandin().check(CheckRequest(ROLE_URN, {"name": PropertyValue(name)}, {}, b"seed-2")))
    assert again.inputs is not None and again.inputs["name"].value == name


def test_changing_multi_region_replaces_the_key_and_a_description_updates_it() -> None:
    state = property_map({"multiRegion": True, "description": "a", "arn": "arn:aws:kms:eu-west-1:1:key/k"})
    replaced = asyncio.run(AwsStandin().diff(DiffRequest(KEY_URN, "k", state, property_map(
        {"multiRegion": False, "description": "a"}), [])))
    assert replaced.changes and replaced.replaces == ["multiRegion"]
    updated = asyncio.run(AwsStandin().diff(DiffRequest(KEY_URN, "k", state, property_map(
        {"multiRegion": True, "description": "b"}), [])))
    assert updated.changes and updated.replaces == [] and updated.diffs == ["description"]
    same = asyncio.run(AwsStandin().diff(DiffRequest(KEY_URN, "k", state, property_map(
        {"multiRegion": True, "description": "a"}), [])))
    assert same.changes is False


def test_a_preview_create_plans_outputs_without_a_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CMEK_STANDIN_AWS_URL", raising=False)  # any backend call would fail
    planned = asyncio.run(AwsStandin().create(CreateRequest(KEY_URN, property_map({"multiRegion": True}), 60, True)))
    assert planned.properties["multiRegion"].value is True
    assert planned.properties["arn"].value == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # unknown
    with pytest.raises(RehearsalError, match="CMEK_STANDIN_AWS_URL is not set"):
        asyncio.run(AwsStandin().create(CreateRequest(KEY_URN, property_map({"multiRegion": True}), 60, False)))


def test_plugins_are_installed_under_the_versions_the_sdks_ask_for(tmp_path: Path) -> None:
    installed = install_standins(tmp_path / "home")
    assert sorted(path.name for path in installed.values()) == [
        "resource-aws-v7.51.1", "resource-gcp-v10.2.0", "resource-vault-v7.14.0"
    ]
    script = installed["aws"] / "pulumi-resource-aws"
    assert script.stat().st_mode & 0o111 and "aws_plugin" in script.read_text()
    with pytest.raises(ValueError, match="private PULUMI_HOME"):
        install_standins(Path.home() / ".pulumi")
