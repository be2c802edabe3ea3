"""``ClusterCmek`` on GCP under Pulumi mocks: the activation's region specs and dependencies,
rotation to new keys and in place, an added region, revoke, bring-your-own keys, Vault key
material, and validation before any GCP resource or activation.

Each ``run`` is a fresh program (new event loop, ``reset_options``, new mocks), so one test can
compare two runs as two ``pulumi up`` would. Every cluster fact is given, so no Cloud API call is
made (the client factory fails the test if it is ever used).
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

from cmek_component import ClusterCmek
from cmek_component.manifest.problems import SpecProblems
from tests.support.pulumi_fixtures import RecordedResource, Recorder, RecordingMonitor

CLUSTER_ID = "b23eaee4-e12c-4288-95db-3e81ee22d2ea"
CRDB_PROJECT = "crl-prod-abc"
PROJECT = "cust-proj"
REGIONS = ["us-east1", "us-west1", "europe-west1"]
RING = f"crdb-cmek-{CLUSTER_ID}"
EMAIL = "crdb-cmek-ee22d2ea@cust-proj.iam.gserviceaccount.com"
CRL_PRINCIPAL = "crl-kms-user-3e81ee22d2ea@crl-prod-abc.iam.gserviceaccount.com"

COMPONENT = "cockroach:cmek:ClusterCmek"
ACCOUNT = "gcp:serviceaccount/account:Account"
TOKEN_CREATOR = "gcp:serviceaccount/iAMMember:IAMMember"
KEY_RING = "gcp:kms/keyRing:KeyRing"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
ACTIVATION = "pulumi-python:dynamic/cockroach:CmekActivation"
GET_SECRET = "vault:generic/getSecret:getSecret"
VAULT_RING = f"projects/{PROJECT}/locations/global/keyRings/crdb-vault"
VAULT_SA_FILE = '{"type": "service_account", "private_key": "<service account private key (test placeholder)>"}'


def uri(location: str, key: str) -> str:
    return f"projects/{PROJECT}/locations/{location}/keyRings/{RING}/cryptoKeys/{key}"


def spec(region: str, key_uri: str, principal: str = EMAIL) -> dict[str, Any]:
    return {"region": region, "key_spec": {"type": "GCP_CLOUD_KMS", "uri": key_uri, "auth_principal": principal}}


def _activation_outputs(_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    regions = [
        {"region": s["region"], "status": "ENABLED", "key_uri": s["key_spec"]["uri"]} for s in inputs.get("region_specs") or []
    ]
    return {"status": "ENABLED", "regions": regions, "key_history": {}}


def _vault_read(args: dict[str, Any]) -> dict[str, Any]:
    """``vault read <mount>/kms/<entry>/key/<key>``: the key's name in the KMS is ``<key>-<timestamp>``."""
    key = args["path"].rsplit("/", 1)[1]
    return {"path": args["path"], "dataJson": json.dumps({"name": f"{key}-1700000000"}), "data": {}}


def no_cloud_api() -> Any:
    raise AssertionError("the component must not call the Cloud API when every fact is given")


class ThreadLoopMonitor(RecordingMonitor):
    """The shared recording monitor (it closes the event loops it makes for executor threads)."""


@dataclass
class Run:
    """What one program run registered, and the component's outputs (resolved)."""

    recorder: Recorder
    component_urn: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    def of(self, typ: str) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.by_type(typ)}

    def gcp(self) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.resources() if r.type.startswith("gcp:")}

    def activation(self) -> RecordedResource:
        return self.recorder.one(ACTIVATION, "prod-activation")

    def region_specs(self) -> list[dict[str, Any]]:
        return self.activation().inputs["region_specs"]

    def uris(self) -> dict[str, str]:
        return {s["region"]: s["key_spec"]["uri"] for s in self.region_specs()}


OUTPUT_NAMES = ("auth_principal", "key_uris", "service_account_email", "role_arn", "region_specs", "cmek_config_json", "status")


@pytest.fixture
def run() -> Iterator[Callable[..., Run]]:
    """``run(gcp=..., regions=..., config=..., **args)``: one program run under fresh mocks."""
    loops: list[asyncio.AbstractEventLoop] = []
    monitors: list[ThreadLoopMonitor] = []
    recorders: list[Recorder] = []

    def execute(
        gcp: dict[str, Any] | None = None,
        regions: list[str] | None = None,
        config: dict[str, str] | None = None,
        secret_keys: list[str] | None = None,
        with_project: bool = True,
        **overrides: Any,
    ) -> Run:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        asyncio.set_event_loop(loop)
        pulumi.runtime.reset_options(project="cmek", stack="test")
        recorder = Recorder(outputs={ACTIVATION: _activation_outputs}, call_results={GET_SECRET: _vault_read})
        recorders.append(recorder)
        monitor = ThreadLoopMonitor(recorder)
        monitors.append(monitor)
        recorder.monitor = monitor
        pulumi.runtime.set_mocks(recorder, project="cmek", stack="test", monitor=monitor)
        pulumi.runtime.set_all_config(config or {}, secret_keys=secret_keys or [])
        options = {"project": PROJECT, **(gcp or {})} if with_project else dict(gcp or {})
        args: dict[str, Any] = {
            "cluster_id": CLUSTER_ID,
            "cloud": "GCP",
            "regions": list(regions or REGIONS),
            "account_id": CRDB_PROJECT,
            "gcp": options,
            **overrides,
        }
        result = Run(recorder)

        @pulumi.runtime.test
        def program() -> pulumi.Output[Any]:
            component = ClusterCmek("prod", args, client_factory=no_cloud_api)  # type: ignore[arg-type]
            outputs = {name: pulumi.Output.from_input(getattr(component, name)) for name in OUTPUT_NAMES}

            def keep(values: list[Any]) -> None:
                result.component_urn, result.outputs = values

            return pulumi.Output.all(component.urn, pulumi.Output.all(**outputs)).apply(keep)

        program()
        return result

    execute.recorders = recorders  # type: ignore[attr-defined]
    yield execute
    pulumi.runtime.set_all_config({}, secret_keys=[])
    for loop in loops:
        loop.close()
    for monitor in monitors:
        monitor.close_thread_loops()


def test_activation_gets_gcp_region_specs_and_waits_for_the_account_and_both_grants(run: Callable[..., Run]) -> None:
    result = run()

    assert result.region_specs() == [
        spec("europe-west1", uri("europe-west1", "crdb-cmek")),
        spec("us-east1", uri("us-east1", "crdb-cmek")),
        spec("us-west1", uri("us-west1", "crdb-cmek")),
    ]
    activation = result.activation()
    assert activation.inputs["cluster_id"] == CLUSTER_ID
    assert activation.inputs["new_region_nodes"] == {}
    assert activation.inputs["revoke"] is False
    assert activation.parent == result.component_urn
    token_creator = result.of(TOKEN_CREATOR)["prod-token-creator"]
    assert token_creator.inputs["member"] == f"serviceAccount:{CRL_PRINCIPAL}"
    grants = result.of(KEY_GRANT)
    assert set(grants) == {f"prod-crypto-key-{r}-encrypter-decrypter" for r in REGIONS}
    expected = {result.of(ACCOUNT)["prod-service-account"].urn, token_creator.urn, *(g.urn for g in grants.values())}
    assert expected <= set(activation.dependencies)
    for resource in result.gcp().values():
        assert resource.parent == result.component_urn

    assert result.outputs["auth_principal"] == EMAIL
    assert result.outputs["service_account_email"] == EMAIL
    assert result.outputs["role_arn"] is None
    assert result.outputs["key_uris"] == result.uris()
    assert result.outputs["region_specs"] == {"region_specs": result.region_specs()}
    assert json.loads(result.outputs["cmek_config_json"]) == {"region_specs": result.region_specs()}


def test_rotation_to_new_keys_rotates_every_region_and_keeps_the_old_keys(run: Callable[..., Run]) -> None:
    first = run()
    second = run(key_generation=2)

    assert second.uris() == {r: uri(r, "crdb-cmek-g2") for r in REGIONS}
    for name, resource in first.gcp().items():
        assert second.gcp()[name].inputs == resource.inputs
        assert second.gcp()[name].retain_on_delete == resource.retain_on_delete
    assert all(k.retain_on_delete for k in second.of(CRYPTO_KEY).values())
    new_grants = {g.urn for n, g in second.of(KEY_GRANT).items() if n.endswith("-g2-encrypter-decrypter")}
    assert len(new_grants) == 3 and new_grants <= set(second.activation().dependencies)


def test_region_key_generations_rotate_only_that_region(run: Callable[..., Run]) -> None:
    first = run()
    second = run(region_key_generations={"us-west1": 2})

    assert second.uris() == {**first.uris(), "us-west1": uri("us-west1", "crdb-cmek-g2")}
    assert set(second.of(CRYPTO_KEY)) - set(first.of(CRYPTO_KEY)) == {"prod-crypto-key-us-west1-g2"}


def test_rotation_in_place_changes_only_the_trigger(run: Callable[..., Run]) -> None:
    first = run(gcp={"rotation_period": "7776000s"})
    second = run(gcp={"rotation_period": "7776000s"}, rotation_trigger="2026-07")

    assert second.activation().inputs["rotation_trigger"] == "2026-07"
    assert second.region_specs() == first.region_specs()
    assert {n: r.inputs for n, r in second.gcp().items()} == {n: r.inputs for n, r in first.gcp().items()}
    assert all(k.inputs["rotationPeriod"] == "7776000s" for k in second.of(CRYPTO_KEY).values())


def test_adding_a_region_creates_its_key_and_extends_the_activation(run: Callable[..., Run]) -> None:
    first = run()
    second = run(add_regions={"asia-east1": 3})

    added = set(second.gcp()) - set(first.gcp())
    assert added == {
        "prod-key-ring-asia-east1",
        "prod-crypto-key-asia-east1",
        "prod-crypto-key-asia-east1-encrypter-decrypter",
    }
    for name, resource in first.gcp().items():
        assert second.gcp()[name].inputs == resource.inputs
    activation = second.activation()
    assert activation.inputs["new_region_nodes"] == {"asia-east1": 3}
    assert second.uris() == {**first.uris(), "asia-east1": uri("asia-east1", "crdb-cmek")}
    assert second.of(KEY_GRANT)["prod-crypto-key-asia-east1-encrypter-decrypter"].urn in activation.dependencies


def test_revoke_is_an_explicit_flag_and_keeps_keys_and_grants(run: Callable[..., Run]) -> None:
    granted = run()
    revoked = run(revoke=True)

    assert revoked.activation().inputs["revoke"] is True
    assert granted.activation().inputs["revoke"] is False
    assert {n: r.inputs for n, r in revoked.gcp().items()} == {n: r.inputs for n, r in granted.gcp().items()}
    assert revoked.region_specs() == granted.region_specs()


def test_cut_key_access_disables_the_service_account_and_changes_nothing_else(run: Callable[..., Run]) -> None:
    granted = run()
    cut = run(gcp={"cut_key_access": True}, revoke=True)

    accounts = [name for name, r in cut.gcp().items() if r.type == ACCOUNT]
    assert [cut.gcp()[n].inputs["disabled"] for n in accounts] == [True]
    assert [granted.gcp()[n].inputs["disabled"] for n in accounts] == [False]
    # Keys, key rings and grants stay exactly as they were; the activation waits for the account.
    others = {n: r.inputs for n, r in cut.gcp().items() if r.type != ACCOUNT}
    assert others == {n: r.inputs for n, r in granted.gcp().items() if r.type != ACCOUNT}
    assert cut.gcp()[accounts[0]].urn in cut.activation().dependencies
    assert cut.activation().inputs["revoke"] is True


def test_bring_your_own_key_for_one_region(run: Callable[..., Run]) -> None:
    byo = "projects/keys-proj/locations/us/keyRings/shared/cryptoKeys/crdb"
    result = run(gcp={"byo_keys": {"us-east1": byo}})

    assert result.uris()["us-east1"] == byo
    assert "prod-crypto-key-us-east1" not in result.of(CRYPTO_KEY)
    grant = result.of(KEY_GRANT)["prod-byo-key-us-east1-encrypter-decrypter"]
    assert grant.inputs["cryptoKeyId"] == byo
    assert grant.urn in result.activation().dependencies


def test_shared_global_location(run: Callable[..., Run]) -> None:
    result = run(gcp={"key_locations": {r: "global" for r in REGIONS}})

    assert set(result.of(KEY_RING)) == {"prod-key-ring-global"}
    assert result.uris() == {r: uri("global", f"crdb-cmek-{r}") for r in REGIONS}


def test_project_from_stack_config(run: Callable[..., Run]) -> None:
    result = run(config={"gcp:project": "cfg-proj"}, with_project=False)

    assert result.outputs["auth_principal"] == "crdb-cmek-ee22d2ea@cfg-proj.iam.gserviceaccount.com"
    assert all(u.startswith("projects/cfg-proj/") for u in result.uris().values())


def test_vault_key_material_on_gcp_replaces_the_crypto_keys(run: Callable[..., Run]) -> None:
    result = run(
        vault={"key_collection": VAULT_RING},
        config={"cmek-vault:gcpServiceAccountFile": VAULT_SA_FILE},
        secret_keys=["cmek-vault:gcpServiceAccountFile"],
    )

    assert result.of(KEY_RING) == {} and result.of(CRYPTO_KEY) == {}
    vault_uri = f"{VAULT_RING}/cryptoKeys/crdb-cmek-vault-global-1700000000"
    assert result.region_specs() == [spec(r, vault_uri) for r in sorted(REGIONS)]
    grant = result.of(KEY_GRANT)["prod-vault-grant-global"]
    assert grant.inputs["member"] == f"serviceAccount:{EMAIL}"
    assert grant.property_dependencies["member"] == [result.of(ACCOUNT)["prod-service-account"].urn]
    assert grant.urn in result.activation().dependencies
    assert result.of(TOKEN_CREATOR)["prod-token-creator"].urn in result.activation().dependencies


def test_gcp_key_options_are_refused_with_vault(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems) as caught:
        run(gcp={"key_ring_name": "ring"}, vault={"key_collection": VAULT_RING})
    assert str(caught.value) == "gcp.key_ring_name: has no effect with vault (Vault makes the keys), got 'ring'"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"gcp": {"project": PROJECT, "service_account_id": "Crdb_SA"}},
            "gcp.service_account_id: expected 6-30 characters of lower-case letters, digits and hyphens, "
            "starting with a letter, got 'Crdb_SA'",
        ),
        (
            {"regions": ["us-east1", "europe-west1"], "gcp": {"project": PROJECT, "key_locations": {"us-east1": "us-east-4"}}},
            "gcp.key_locations.us-east1: expected a Cloud KMS location: 'global', a region such as 'us-east1', or a "
            "multi-region or dual-region location such as 'us', 'europe' or 'nam4', got 'us-east-4'; "
            "did you mean 'us-east4'?",
        ),
        (
            {"regions": ["us-east-1"]},
            "regions[0]: expected a GCP region name such as 'us-east1', got 'us-east-1'; did you mean 'us-east1'?",
        ),
    ],
)
def test_invalid_arguments_declare_no_gcp_resource_and_no_activation(
    run: Callable[..., Run], overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecProblems) as caught:
        run(**overrides)
    assert str(caught.value) == message
    (recorder,) = run.recorders  # type: ignore[attr-defined]
    assert [r.type for r in recorder.resources()] == []


def test_missing_project_names_the_setting(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems, match=r"^gcp\.project: expected the GCP project .*pulumi config set gcp:project"):
        run(with_project=False)
