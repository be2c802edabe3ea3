"""The stack program (``__main__.py``) on GCP through the real CLI: the stand-in GCP provider on
its persistent store, the simulator for the Cloud API.

One stack's life: create, a no-op ``up``, ``destroy``, and an ``up`` after it (refused). Each step asserts the CLI's summary,
what the GCP store holds (GCP's rules: key rings and crypto keys are never deleted, retained
service accounts stay) and the mutating calls of the stand-ins and the simulator.
"""

from __future__ import annotations

import re
from pathlib import Path

from cmek_component.simulator import seeds

from .conftest import RunningSimulator, StandinBackends, counts, make_program_stack

CLUSTER = seeds.GCP_SINGLE
PROJECT = "customer-kms-project"
REGION = "us-east1"
CONFIG = {"gcp:project": PROJECT, "cmek:clusters": [{"cluster_id": CLUSTER, "name": "ledger"}]}


def test_a_gcp_stack_is_created_left_alone_and_destroyed_with_its_identity_and_keys_kept(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator, backends: StandinBackends
) -> None:
    stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, CONFIG)

    # Create: service account, its Token Creator grant, key ring, crypto key, the key's grant and
    # the activation (with the stack and the component: 8).
    created = stack.up().check()
    assert counts(created) == {"created": 8}
    store = backends.gcp()
    [account_name] = [name for name, obj in store.objects.items() if obj["kind"] == "serviceAccount"]
    account = store.objects[account_name]
    assert re.fullmatch(rf"[a-z][a-z0-9-]{{5,29}}@{PROJECT}\.iam\.gserviceaccount\.com", account["email"])
    [(role, crl_members)] = store.bindings(account_name).items()
    assert role == "roles/iam.serviceAccountTokenCreator"
    assert crl_members == [f"serviceAccount:crl-kms-user-{CLUSTER[-12:]}@{seeds.BY_ID[CLUSTER].account_id}"
                           ".iam.gserviceaccount.com"]
    [ring] = [name for name, obj in store.objects.items() if obj["kind"] == "keyRing"]
    assert ring.startswith(f"projects/{PROJECT}/locations/{REGION}/keyRings/")
    [key] = [name for name, obj in store.objects.items() if obj["kind"] == "cryptoKey"]
    assert key.startswith(ring + "/cryptoKeys/")
    assert [v["state"] for v in store.objects[key]["versions"]] == ["ENABLED"]
    assert store.bindings(key) == {"roles/cloudkms.cryptoKeyEncrypterDecrypter": [f"serviceAccount:{account['email']}"]}
    assert simulator.cmek(CLUSTER)["status"] == "ENABLED"
    assert simulator.current_keys(CLUSTER) == {REGION: (key, "ENABLED")}
    assert stack.outputs()["ledger"]["service_account_email"] == account["email"]

    # A second up with nothing changed, and a refresh: no change, no mutating call anywhere.
    before = stack.writes()
    unchanged = stack.up().check()
    assert counts(unchanged) == {"unchanged": 8}
    assert stack.writes() == before
    refreshed = stack.workspace.run("refresh", "--yes", "--skip-preview").check()
    assert counts(refreshed) == {"unchanged": 8}
    assert stack.writes() == before

    # Destroy: everything the component made for GCP is retained (GCP cannot delete key rings or
    # crypto keys; the identity and grants stay for the keys' sake), CMEK is left as it is.
    simulator_writes = len(simulator.mutating())
    destroyed = stack.destroy().check()
    assert counts(destroyed) == {"deleted": 8}
    after = backends.gcp()
    assert after.objects[account_name]["email"] == account["email"]
    assert ring in after.objects
    assert [v["state"] for v in after.objects[key]["versions"]] == ["ENABLED"]
    assert after.bindings(key) == store.bindings(key)
    assert len(backends.mutating_calls()) == before[0]
    assert len(simulator.mutating()) == simulator_writes
    assert simulator.cmek(CLUSTER)["status"] == "ENABLED"

    # `pulumi up` again over the same cluster: refused before anything is created (GCP would
    # answer the retained service account's name with 409), naming the key in use.
    writes = stack.writes()
    again = stack.up()
    assert again.returncode != 0
    assert f"cmek:clusters[0]: cluster '{CLUSTER}' already has CMEK ENABLED" in again.output
    assert f"keys {REGION}: '{key}'" in again.output and "409" not in again.output, again.output
    assert stack.writes() == writes


def test_cut_key_access_is_refused_while_the_service_account_is_created_and_works_on_an_existing_one(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator, backends: StandinBackends
) -> None:
    cutting = {**CONFIG, "cmek:clusters": [{"cluster_id": CLUSTER, "name": "ledger", "gcp": {"cut_key_access": True}}]}
    stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, cutting)

    # GCP ignores `disabled` on creation: refused, naming the key, before anything is declared.
    refused = stack.up()
    assert refused.returncode != 0
    assert "cmek:clusters[0].gcp.cut_key_access: true on a cluster whose service account this update creates" in refused.stdout
    assert stack.writes() == (0, 0, 0)
    assert backends.gcp().objects == {}

    # The runbook's order: create first, then cut access in place.
    stack.edit_config({**stack.config(), "cmek:clusters": CONFIG["cmek:clusters"]})
    stack.up().check()
    stack.edit_config({**stack.config(), "cmek:clusters": cutting["cmek:clusters"]})
    cut = stack.up().check()
    assert counts(cut).get("updated") == 1
    [account] = [obj for obj in backends.gcp().objects.values() if obj["kind"] == "serviceAccount"]
    assert account["disabled"] is True
