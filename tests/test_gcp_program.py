"""GCP children under Pulumi mocks: every resource's inputs and options, rotation to new keys,
added regions, bring-your-own keys, validation before any resource.

``declare_gcp`` runs inside a small test ComponentResource (the parent), as ``ClusterCmek``
calls it. Each ``run`` is a fresh program (new event loop, ``reset_options``, new mocks), so
one test can compare two runs, as two ``pulumi up`` would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
import pytest
from pulumi.output import Unknown

from cmek_component.component.cloud_keys import ClusterFacts, DeclaredKeys
from cmek_component.gcp.resources import declare_gcp
from cmek_component.manifest.problems import SpecProblems
from tests.support.pulumi_fixtures import RecordedResource, Recorder, RecordingMonitor

CLUSTER_ID = "8a7b6c5d-1234-4321-abcd-0123456789ab"
CRDB_PROJECT = "crl-prod-abc"
PROJECT = "cust-proj"
RING = f"crdb-cmek-{CLUSTER_ID}"
EMAIL = "crdb-cmek-456789ab@cust-proj.iam.gserviceaccount.com"
CRL_PRINCIPAL = "crl-kms-user-0123456789ab@crl-prod-abc.iam.gserviceaccount.com"

ACCOUNT = "gcp:serviceaccount/account:Account"
TOKEN_CREATOR = "gcp:serviceaccount/iAMMember:IAMMember"
KEY_RING = "gcp:kms/keyRing:KeyRing"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
HOLDER = "test:index:Holder"


def uri(location: str, key: str, ring: str = RING) -> str:
    return f"projects/{PROJECT}/locations/{location}/keyRings/{ring}/cryptoKeys/{key}"


class IgnoreChangesMonitor(RecordingMonitor):
    """Also exposes ``ignoreChanges`` per URN (the base monitor records it with the options)."""

    @property
    def ignore_changes(self) -> dict[str, list[str]]:
        return {urn: options["ignore_changes"] for urn, options in self.options.items()}


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str, facts: ClusterFacts, args: dict[str, Any]) -> None:
        super().__init__(HOLDER, name)
        self.declared = declare_gcp(name, self, facts, args)  # type: ignore[arg-type]
        self.register_outputs({})


class PreviewRecorder(Recorder):
    """Answers like a preview of resources that do not exist yet: no id (so ``.id`` is unknown)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        _id, state = super().new_resource(args)
        return "", state


@dataclass
class Run:
    """What one program run registered and what ``declare_gcp`` returned (resolved)."""

    recorder: Recorder
    monitor: IgnoreChangesMonitor
    holder_urn: str = ""
    key_type: str = ""
    auth_principal: str = ""
    key_uris: dict[str, str] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of(self, typ: str) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.by_type(typ)}

    def gcp(self) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.resources() if r.type.startswith("gcp:")}

    def ignored(self, resource: RecordedResource) -> list[str]:
        return self.monitor.ignore_changes[resource.urn]


def _resolve(declared: DeclaredKeys, run: Run) -> pulumi.Output[Any]:
    """Resolves each part on its own, so a part that is unknown (preview) leaves the others."""
    run.key_type = declared.key_type
    urns = [d.urn for d in declared.dependencies]
    outputs = {k: pulumi.Output.from_input(v) for k, v in declared.outputs.items()}
    return pulumi.Output.all(
        declared.auth_principal.apply(lambda v: setattr(run, "auth_principal", v)),
        pulumi.Output.all(**declared.key_uris).apply(lambda v: setattr(run, "key_uris", v)),
        pulumi.Output.all(*urns).apply(lambda v: setattr(run, "dependencies", v)),
        pulumi.Output.all(**outputs).apply(lambda v: setattr(run, "outputs", v)),
    )


@pytest.fixture
def run() -> Iterator[Callable[..., Run]]:
    """``run(regions, gcp=..., config=..., preview=..., **args)``: one program run under fresh mocks."""
    loops: list[asyncio.AbstractEventLoop] = []
    monitors: list[IgnoreChangesMonitor] = []

    def execute(
        regions: list[str],
        gcp: dict[str, Any] | None = None,
        config: dict[str, str] | None = None,
        preview: bool = False,
        with_project: bool = True,
        unknown_ids: bool = False,
        **args: Any,
    ) -> Run:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        asyncio.set_event_loop(loop)
        pulumi.runtime.reset_options(project="cmek", stack="test")
        recorder = PreviewRecorder() if unknown_ids else Recorder()
        monitor = IgnoreChangesMonitor(recorder)
        monitors.append(monitor)
        recorder.monitor = monitor
        pulumi.runtime.set_mocks(recorder, project="cmek", stack="test", preview=preview, monitor=monitor)
        pulumi.runtime.set_all_config(config or {}, secret_keys=[])
        result = Run(recorder, monitor)
        facts = ClusterFacts(CLUSTER_ID, "GCP", regions, CRDB_PROJECT, "")
        options = {"project": PROJECT, **(gcp or {})} if with_project else dict(gcp or {})
        all_args = {"cluster_id": CLUSTER_ID, "gcp": options, **args}

        @pulumi.runtime.test
        def program() -> pulumi.Output[Any]:
            holder = Holder("prod", facts, all_args)
            result.holder_urn = "pending"
            return pulumi.Output.all(holder.urn, _resolve(holder.declared, result)).apply(
                lambda values: setattr(result, "holder_urn", values[0])
            )

        program()
        return result

    yield execute
    pulumi.runtime.set_all_config({}, secret_keys=[])
    for loop in loops:
        loop.close()
    for monitor in monitors:
        monitor.close_thread_loops()


def test_single_region_declares_identity_key_and_grants_with_exact_inputs(run: Callable[..., Run]) -> None:
    result = run(["us-east1"])

    assert set(result.gcp()) == {
        "prod-service-account",
        "prod-token-creator",
        "prod-key-ring-us-east1",
        "prod-crypto-key-us-east1",
        "prod-crypto-key-us-east1-encrypter-decrypter",
    }
    account = result.of(ACCOUNT)["prod-service-account"]
    assert account.inputs == {
        "project": PROJECT,
        "accountId": "crdb-cmek-456789ab",
        "displayName": f"CockroachDB CMEK {CLUSTER_ID}",
        "description": "CockroachDB Cloud uses this account (through Token Creator) to use the cluster's CMEK keys.",
        "disabled": False,
    }
    token_creator = result.of(TOKEN_CREATOR)["prod-token-creator"]
    assert token_creator.inputs == {
        "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/{EMAIL}",
        "role": "roles/iam.serviceAccountTokenCreator",
        "member": f"serviceAccount:{CRL_PRINCIPAL}",
    }
    assert token_creator.property_dependencies["serviceAccountId"] == [account.urn]
    ring = result.of(KEY_RING)["prod-key-ring-us-east1"]
    assert ring.inputs == {"project": PROJECT, "location": "us-east1", "name": RING}
    key = result.of(CRYPTO_KEY)["prod-crypto-key-us-east1"]
    assert key.inputs == {
        "keyRing": f"projects/{PROJECT}/locations/us-east1/keyRings/{RING}",
        "name": "crdb-cmek",
        "purpose": "ENCRYPT_DECRYPT",
        "versionTemplate": {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "SOFTWARE"},
        "deletionPolicy": "ABANDON",
    }
    assert key.property_dependencies["keyRing"] == [ring.urn]
    grant = result.of(KEY_GRANT)["prod-crypto-key-us-east1-encrypter-decrypter"]
    assert grant.inputs == {
        "cryptoKeyId": uri("us-east1", "crdb-cmek"),
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": f"serviceAccount:{EMAIL}",
    }
    assert grant.property_dependencies["cryptoKeyId"] == [key.urn]
    assert grant.property_dependencies["member"] == [account.urn]

    # Options: every child under the parent; identity, keys, rings and grants retained, nothing protected.
    for resource in result.gcp().values():
        assert resource.parent == result.holder_urn
        assert resource.protect is False
    assert (ring.retain_on_delete, key.retain_on_delete, grant.retain_on_delete) == (True, True, True)
    assert (account.retain_on_delete, token_creator.retain_on_delete) == (True, True)
    assert result.ignored(key) == ["versionTemplate"]

    # What the component hands to the activation.
    assert result.key_type == "GCP_CLOUD_KMS"
    assert result.auth_principal == EMAIL
    assert result.key_uris == {"us-east1": uri("us-east1", "crdb-cmek")}
    assert result.dependencies == [account.urn, token_creator.urn, grant.urn]
    assert result.outputs["service_account_email"] == EMAIL
    assert result.outputs["crl_principal"] == CRL_PRINCIPAL


def test_no_project_level_iam_anywhere(run: Callable[..., Run]) -> None:
    result = run(["us-east1", "us-west1"], {"key_locations": {"us-west1": "global"}})

    types = {r.type for r in result.gcp().values()}
    assert types == {ACCOUNT, TOKEN_CREATOR, KEY_RING, CRYPTO_KEY, KEY_GRANT}
    for grant in result.of(KEY_GRANT).values():
        assert "/cryptoKeys/" in grant.inputs["cryptoKeyId"]
        assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def test_regions_sharing_global_share_one_ring_and_get_a_key_each(run: Callable[..., Run]) -> None:
    result = run(
        ["us-east1", "us-west1", "europe-west1"],
        {"key_locations": {"us-east1": "global", "us-west1": "global"}},
    )

    assert {n: r.inputs["location"] for n, r in result.of(KEY_RING).items()} == {
        "prod-key-ring-global": "global",
        "prod-key-ring-europe-west1": "europe-west1",
    }
    keys = {n: (r.inputs["keyRing"], r.inputs["name"]) for n, r in result.of(CRYPTO_KEY).items()}
    global_ring = f"projects/{PROJECT}/locations/global/keyRings/{RING}"
    assert keys == {
        "prod-crypto-key-us-east1": (global_ring, "crdb-cmek-us-east1"),
        "prod-crypto-key-us-west1": (global_ring, "crdb-cmek-us-west1"),
        "prod-crypto-key-europe-west1": (f"projects/{PROJECT}/locations/europe-west1/keyRings/{RING}", "crdb-cmek"),
    }
    ring_urn = result.of(KEY_RING)["prod-key-ring-global"].urn
    for name in ("prod-crypto-key-us-east1", "prod-crypto-key-us-west1"):
        assert result.of(CRYPTO_KEY)[name].property_dependencies["keyRing"] == [ring_urn]
    assert result.key_uris == {
        "europe-west1": uri("europe-west1", "crdb-cmek"),
        "us-east1": uri("global", "crdb-cmek-us-east1"),
        "us-west1": uri("global", "crdb-cmek-us-west1"),
    }
    assert len(result.dependencies) == 2 + 3  # account, token creator, one grant per key


def test_hsm_rotation_period_protect_and_no_retain(run: Callable[..., Run]) -> None:
    result = run(
        ["us-east1"],
        {"protection_level": "HSM", "rotation_period": "7776000s", "protect": True, "retain_on_delete": False},
    )

    key = result.of(CRYPTO_KEY)["prod-crypto-key-us-east1"]
    assert key.inputs["versionTemplate"] == {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "HSM"}
    assert key.inputs["rotationPeriod"] == "7776000s"
    assert key.inputs["deletionPolicy"] == "DELETE"
    ring = result.of(KEY_RING)["prod-key-ring-us-east1"]
    grant = result.of(KEY_GRANT)["prod-crypto-key-us-east1-encrypter-decrypter"]
    assert (ring.protect, key.protect, grant.protect) == (True, True, False)
    assert (ring.retain_on_delete, key.retain_on_delete, grant.retain_on_delete) == (False, False, False)
    assert result.of(ACCOUNT)["prod-service-account"].protect is False


def test_custom_identity_and_names(run: Callable[..., Run]) -> None:
    result = run(
        ["us-east1"],
        {"service_account_id": "crdb-sa", "display_name": "CRDB", "key_ring_name": "ring-a", "crypto_key_name": "key-a"},
    )

    assert result.of(ACCOUNT)["prod-service-account"].inputs["accountId"] == "crdb-sa"
    assert result.of(ACCOUNT)["prod-service-account"].inputs["displayName"] == "CRDB"
    assert result.auth_principal == "crdb-sa@cust-proj.iam.gserviceaccount.com"
    assert result.key_uris == {"us-east1": uri("us-east1", "key-a", ring="ring-a")}
    grant = result.of(KEY_GRANT)["prod-crypto-key-us-east1-encrypter-decrypter"]
    assert grant.inputs["member"] == "serviceAccount:crdb-sa@cust-proj.iam.gserviceaccount.com"


def test_rotation_to_new_keys_keeps_every_old_key_unchanged(run: Callable[..., Run]) -> None:
    first = run(["us-east1", "us-west1"])
    second = run(["us-east1", "us-west1"], key_generation=2)

    before = {n: (r.type, r.inputs, r.retain_on_delete) for n, r in first.gcp().items()}
    after = {n: (r.type, r.inputs, r.retain_on_delete) for n, r in second.gcp().items()}
    assert before.items() < after.items()  # nothing renamed, nothing changed, nothing dropped
    assert set(after) - set(before) == {
        "prod-crypto-key-us-east1-g2",
        "prod-crypto-key-us-east1-g2-encrypter-decrypter",
        "prod-crypto-key-us-west1-g2",
        "prod-crypto-key-us-west1-g2-encrypter-decrypter",
    }
    assert second.of(CRYPTO_KEY)["prod-crypto-key-us-west1-g2"].inputs["name"] == "crdb-cmek-g2"
    assert all(r.retain_on_delete for r in second.of(CRYPTO_KEY).values())
    assert second.key_uris == {"us-east1": uri("us-east1", "crdb-cmek-g2"), "us-west1": uri("us-west1", "crdb-cmek-g2")}
    assert len(second.dependencies) == 2 + 4


def test_region_key_generations_rotate_only_that_region(run: Callable[..., Run]) -> None:
    first = run(["us-east1", "us-west1"])
    second = run(["us-east1", "us-west1"], region_key_generations={"us-west1": 2})

    assert second.key_uris["us-east1"] == first.key_uris["us-east1"]
    assert second.key_uris["us-west1"] == uri("us-west1", "crdb-cmek-g2")
    assert set(second.of(CRYPTO_KEY)) - set(first.of(CRYPTO_KEY)) == {"prod-crypto-key-us-west1-g2"}


def test_adding_a_region_adds_its_ring_key_and_grant_only(run: Callable[..., Run]) -> None:
    first = run(["us-east1"])
    second = run(["us-east1", "europe-west1"], add_regions={"europe-west1": 3})

    before = {n: r.inputs for n, r in first.gcp().items()}
    after = {n: r.inputs for n, r in second.gcp().items()}
    assert before.items() < after.items()
    assert set(after) - set(before) == {
        "prod-key-ring-europe-west1",
        "prod-crypto-key-europe-west1",
        "prod-crypto-key-europe-west1-encrypter-decrypter",
    }
    assert second.key_uris == {"us-east1": uri("us-east1", "crdb-cmek"), "europe-west1": uri("europe-west1", "crdb-cmek")}


def test_bring_your_own_key_gets_a_key_level_grant(run: Callable[..., Run]) -> None:
    byo = "projects/keys-proj/locations/us/keyRings/shared/cryptoKeys/crdb"
    result = run(["us-east1", "us-west1"], {"byo_keys": {"us-east1": byo}})

    assert set(result.of(CRYPTO_KEY)) == {"prod-crypto-key-us-west1"}
    assert set(result.of(KEY_RING)) == {"prod-key-ring-us-west1"}
    grant = result.of(KEY_GRANT)["prod-byo-key-us-east1-encrypter-decrypter"]
    assert grant.inputs == {
        "cryptoKeyId": byo,
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": f"serviceAccount:{EMAIL}",
    }
    assert grant.retain_on_delete is True
    assert result.key_uris == {"us-east1": byo, "us-west1": uri("us-west1", "crdb-cmek")}
    assert grant.urn in result.dependencies


def test_bring_your_own_key_without_grant(run: Callable[..., Run]) -> None:
    byo = "projects/keys-proj/locations/us/keyRings/shared/cryptoKeys/crdb"
    result = run(["us-east1"], {"byo_keys": {"us-east1": byo}, "grant_byo_keys": False})

    assert set(result.gcp()) == {"prod-service-account", "prod-token-creator"}
    assert result.key_uris == {"us-east1": byo}
    assert result.dependencies == [
        result.of(ACCOUNT)["prod-service-account"].urn,
        result.of(TOKEN_CREATOR)["prod-token-creator"].urn,
    ]


def test_project_from_gcp_config(run: Callable[..., Run]) -> None:
    result = run(["us-east1"], config={"gcp:project": "cfg-proj"}, with_project=False)

    assert result.of(ACCOUNT)["prod-service-account"].inputs["project"] == "cfg-proj"
    assert result.auth_principal == "crdb-cmek-456789ab@cfg-proj.iam.gserviceaccount.com"
    assert result.key_uris["us-east1"].startswith("projects/cfg-proj/locations/us-east1/")


def test_missing_project_fails_before_any_gcp_resource(run: Callable[..., Run]) -> None:
    recorded: list[Run] = []
    with pytest.raises(SpecProblems, match=r"^gcp\.project: expected the GCP project"):
        recorded.append(run(["us-east1"], with_project=False))
    assert recorded == []


@pytest.mark.parametrize(
    ("regions", "gcp", "message"),
    [
        (
            ["us-east1"],
            {"service_account_id": "Crdb_SA"},
            "gcp.service_account_id: expected 6-30 characters of lower-case letters, digits and hyphens, "
            "starting with a letter, got 'Crdb_SA'",
        ),
        (
            ["us-east-1"],
            {},
            "regions[0]: expected a GCP region name such as 'us-east1', got 'us-east-1'; did you mean 'us-east1'?",
        ),
    ],
)
def test_invalid_arguments_declare_no_gcp_resource(
    regions: list[str], gcp: dict[str, Any], message: str
) -> None:
    """The error comes from inside the program; the recorder shows only the parent was registered."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        pulumi.runtime.reset_options(project="cmek", stack="test")
        recorder = Recorder()
        monitor = IgnoreChangesMonitor(recorder)
        recorder.monitor = monitor
        pulumi.runtime.set_mocks(recorder, project="cmek", stack="test", monitor=monitor)
        facts = ClusterFacts(CLUSTER_ID, "GCP", regions, CRDB_PROJECT, "")
        args = {"cluster_id": CLUSTER_ID, "gcp": {"project": PROJECT, **gcp}}

        @pulumi.runtime.test
        def program() -> None:
            Holder("prod", facts, args)

        with pytest.raises(SpecProblems) as caught:
            program()
        assert str(caught.value) == message
        assert [r.type for r in recorder.resources()] == [HOLDER]
    finally:
        loop.close()
        monitor.close_thread_loops()


def test_outputs_are_plain_json(run: Callable[..., Run]) -> None:
    result = run(["us-east1", "us-west1"], {"key_locations": {"us-west1": "global"}}, key_generation=2)

    assert json.loads(json.dumps(result.outputs)) == {
        "gcp_project": PROJECT,
        "service_account_email": EMAIL,
        "crl_principal": CRL_PRINCIPAL,
        "key_rings": {
            "global": f"projects/{PROJECT}/locations/global/keyRings/{RING}",
            "us-east1": f"projects/{PROJECT}/locations/us-east1/keyRings/{RING}",
        },
        "crypto_keys": {
            "us-east1": [uri("us-east1", "crdb-cmek"), uri("us-east1", "crdb-cmek-g2")],
            "us-west1": [uri("global", "crdb-cmek-us-west1"), uri("global", "crdb-cmek-us-west1-g2")],
        },
        "byo_keys": {},
    }


def test_a_preview_knows_the_key_uris_and_principal_before_any_resource_exists(run: Callable[..., Run]) -> None:
    result = run(["us-east1", "us-west1"], {"key_locations": {"us-west1": "global"}}, preview=True, unknown_ids=True)

    # What the activation receives is known, so a PR preview shows the exact region specs ...
    assert result.auth_principal == EMAIL
    assert result.key_uris == {"us-east1": uri("us-east1", "crdb-cmek"), "us-west1": uri("global", "crdb-cmek-us-west1")}
    # ... while each grant still waits for its key and the service account (unknown until they exist).
    grant = result.of(KEY_GRANT)["prod-crypto-key-us-east1-encrypter-decrypter"]
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert isinstance(grant.inputs["cryptoKeyId"], Unknown) and isinstance(grant.inputs["member"], Unknown)
    key = result.of(CRYPTO_KEY)["prod-crypto-key-us-east1"]
    assert grant.property_dependencies["cryptoKeyId"] == [key.urn]
    assert isinstance(key.inputs["keyRing"], Unknown)
