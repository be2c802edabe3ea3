"""The stand-in providers' pure parts, called directly: refusals, autonaming, replacements and
previews that never reach a backend."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CheckRequest, CreateRequest, DiffRequest

from cmek_component.plugin.property_values import property_map
from cmek_component.rehearsal.errors import RehearsalError
from cmek_component.rehearsal.standins.aws_plugin import AwsStandin
from cmek_component.rehearsal.standins.gcp_plugin import GcpStandin
from cmek_component.rehearsal.standins.install import install_standins

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


def test_a_refresh_reads_what_moto_holds_and_a_key_pending_deletion_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi.provider.experimental.provider import ReadRequest

    from cmek_component.rehearsal.standins.harness import standin_backends

    with standin_backends(tmp_path / "standins") as backends:
        for name, value in backends.env().items():
            monkeypatch.setenv(name, value)
        provider = AwsStandin()
        inputs = property_map({"multiRegion": True, "description": "cmek", "region": "eu-west-1"})
        created = asyncio.run(provider.create(CreateRequest(KEY_URN, inputs, 60, False)))
        key_id = str(created.resource_id)
        assert re.fullmatch(r"mrk-[0-9a-f]{32}", key_id)
        assert backends.mutating_calls("aws") == [("aws", "kms:CreateKey", "prod-key (eu-west-1)")]

        kms = backends.aws("kms", "eu-west-1")
        kms.disable_key(KeyId=key_id)  # drift made outside Pulumi
        read = asyncio.run(provider.read(ReadRequest(KEY_URN, key_id, created.properties, inputs)))
        assert read.resource_id == key_id and read.properties["isEnabled"].value is False

        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        gone = asyncio.run(provider.read(ReadRequest(KEY_URN, key_id, created.properties, inputs)))
        assert gone.resource_id == ""


def test_moto_restarts_with_the_same_keys_and_a_primary_stays_primary_after_replication(tmp_path: Path) -> None:
    from cmek_component.rehearsal.standins.harness import standin_backends

    with standin_backends(tmp_path / "standins") as backends:
        key_id = backends.aws("kms", "eu-west-1").create_key(MultiRegion=True)["KeyMetadata"]["KeyId"]
        backends.aws("kms", "eu-west-1").replicate_key(KeyId=key_id, ReplicaRegion="us-west-2", Description="replica")
        backends.aws("kms", "us-west-2").describe_key(KeyId=key_id)
    with standin_backends(tmp_path / "standins") as backends:
        primary = backends.aws("kms", "eu-west-1").describe_key(KeyId=key_id)["KeyMetadata"]
        replica = backends.aws("kms", "us-west-2").describe_key(KeyId=key_id)["KeyMetadata"]
        assert primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
        assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
        assert replica["Description"] == "replica"
        assert backends.moto_writes() == ["CreateKey", "ReplicateKey"]


def test_a_service_account_created_disabled_is_enabled_until_the_next_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the real provider: ``disabled`` is ignored on creation, so the next ``up`` shows the
    change and disables the account then."""
    monkeypatch.setenv("CMEK_STANDIN_GCP_STORE", str(tmp_path / "gcp-store.json"))
    urn = "urn:pulumi:dev::cmek::cockroach:cmek:ClusterCmek$gcp:serviceaccount/account:Account::sa"
    inputs = property_map({"accountId": "crdb-cmek-ledger", "project": "customer-kms-project", "disabled": True})
    created = asyncio.run(GcpStandin().create(CreateRequest(urn, inputs, 60, False)))
    assert created.resource_id == (
        "projects/customer-kms-project/serviceAccounts/crdb-cmek-ledger@customer-kms-project.iam.gserviceaccount.com"
    )
    assert created.properties["disabled"].value is False
    diff = asyncio.run(GcpStandin().diff(DiffRequest(urn, str(created.resource_id), created.properties, inputs, [])))
    assert diff.changes and diff.diffs == ["disabled"] and diff.replaces == []
    with pytest.raises(RehearsalError, match="Error 409: ALREADY_EXISTS"):
        asyncio.run(GcpStandin().create(CreateRequest(urn, inputs, 60, False)))


def test_a_service_account_is_disabled_and_enabled_by_their_own_calls_and_patched_only_for_its_names(
    tmp_path: Path,
) -> None:
    """As the real provider (``resourceGoogleServiceAccountUpdate``): ``disabled`` changes with
    ``serviceAccounts.disable`` / ``enable``, ``patch`` only for ``description`` / ``displayName``."""
    from cmek_component.rehearsal.standins.gcp_store import ACCOUNT, GcpStore

    store = GcpStore(tmp_path / "gcp-store.json")
    inputs = {"accountId": "crdb-cmek-ledger", "project": "customer-kms-project", "displayName": "ledger"}
    name = store.create(ACCOUNT, "sa", inputs).id
    store.calls.clear()

    disabled = store.update(ACCOUNT, name, inputs, {**inputs, "disabled": True}, ["disabled"])
    assert disabled.outputs["disabled"] is True and store.objects[name]["disabled"] is True
    assert [(c.operation, c.mutating) for c in store.calls] == [
        ("iam:serviceAccounts.get", False), ("iam:serviceAccounts.disable", True)]
    store.calls.clear()

    renamed = {**inputs, "disabled": False, "displayName": "ledger (restored)"}
    enabled = store.update(ACCOUNT, name, {**inputs, "disabled": True}, renamed, ["disabled", "displayName"])
    assert enabled.outputs["disabled"] is False and store.objects[name]["displayName"] == "ledger (restored)"
    assert [c.operation for c in store.calls if c.mutating] == ["iam:serviceAccounts.enable", "iam:serviceAccounts.patch"]
    assert store.calls[-1].body == {"updateMask": ["displayName"], "displayName": "ledger (restored)"}
