"""The stack program (``__main__.py``) on GCP through the real CLI: the operations after create.

One stack's life on the simulator's one-region GCP cluster (``seeds.GCP_SINGLE``, ``us-east1``),
in the runbooks' order: a rotation to key generation 2, an in-place rotation
(``rotation_trigger``), adding a region (``add_regions``), then dropping ``add_regions`` once the
cluster has it, the revoke runbook (``gcp.cut_key_access`` first, then ``revoke``), a no-op
``up`` and ``refresh`` once revoked, the recover runbook's step 1 (``cut_key_access`` back to
``false``), and ``destroy`` after the revoke. Each step is previewed first (the preview's counts,
and no mutating call anywhere), then applied; each asserts the CLI's summary, what the GCP store
holds, the simulator's CMEK state and the exact mutating calls of the stand-ins and the simulator.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from cmek_component.simulator import seeds

from .conftest import (
    Marks,
    ProgramStack,
    RunningSimulator,
    StandinBackends,
    Writes,
    counts,
    make_program_stack,
)

CLUSTER = seeds.GCP_SINGLE
PROJECT = "customer-kms-project"
REGION = "us-east1"
ADDED = "us-west1"
NAME = "ledger"
CONFIG: dict[str, Any] = {"gcp:project": PROJECT, "cmek:clusters": [{"cluster_id": CLUSTER, "name": NAME}]}
RING = f"crdb-cmek-{CLUSTER}"
ACCOUNT = f"projects/{PROJECT}/serviceAccounts/crdb-cmek-{CLUSTER[-8:]}@{PROJECT}.iam.gserviceaccount.com"
CMEK_PATH = f"/api/v1/clusters/{CLUSTER}/cmek"
CLUSTER_PATH = f"/api/v1/clusters/{CLUSTER}"
ENCRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def ring(region: str) -> str:
    return f"projects/{PROJECT}/locations/{region}/keyRings/{RING}"


def crypto_key(region: str, generation: int = 1) -> str:
    return f"{ring(region)}/cryptoKeys/crdb-cmek" + (f"-g{generation}" if generation > 1 else "")


def set_cluster(stack: ProgramStack, cluster: dict[str, Any]) -> None:
    stack.edit_config({**stack.config(), "cmek:clusters": [copy.deepcopy(cluster)]})


def previewed(stack: ProgramStack) -> Any:
    """``pulumi preview --diff`` (its ``CliResult``); asserts that it made no mutating call anywhere."""
    mark = Marks(stack)
    preview = stack.preview("--diff").check()
    assert mark.since() == Writes([], [], []), preview.stdout[-3000:]
    return preview


def spec(uri: str, email: str, region: str) -> dict[str, Any]:
    return {"region": region, "key_spec": {"type": "GCP_CLOUD_KMS", "uri": uri, "auth_principal": email}}


def bodies(simulator: RunningSimulator, method: str, path: str) -> list[Any]:
    return [r["body"] for r in simulator.recorded() if r["method"] == method and r["path"] == path]


def test_a_gcp_stack_is_rotated_rewrapped_extended_cut_off_revoked_and_destroyed_with_its_keys_kept(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator, backends: StandinBackends
) -> None:
    stack = make_program_stack(tmp_path, pulumi_cli, simulator, backends, CONFIG)
    cluster: dict[str, Any] = copy.deepcopy(CONFIG["cmek:clusters"][0])

    # Create: service account, Token Creator grant, key ring, crypto key, its grant, activation
    # (with the stack and the component: 8).
    assert counts(stack.up().check()) == {"created": 8}
    email = backends.gcp().objects[ACCOUNT]["email"]
    member = f"serviceAccount:{email}"
    assert simulator.current_keys(CLUSTER) == {REGION: (crypto_key(REGION), "ENABLED")}

    # Rotation to generation 2: a new crypto key (-g2) and its grant, one PUT cmek to it; the
    # generation-1 key stays, enabled and granted.
    cluster["key_generation"] = 2
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to create": 2, "to update": 1, "unchanged": 7}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"created": 2, "updated": 1, "unchanged": 7}
    g2 = crypto_key(REGION, 2)
    assert mark.since() == Writes(
        [("gcp", "kms:cryptoKeys.create", g2), ("gcp", "kms:cryptoKeys.setIamPolicy", g2)], [], [("PUT", CMEK_PATH)]
    )
    assert bodies(simulator, "PUT", CMEK_PATH) == [{"region_specs": [spec(g2, email, REGION)]}]
    store = backends.gcp()
    for key in (crypto_key(REGION), g2):
        assert [v["state"] for v in store.objects[key]["versions"]] == ["ENABLED"]
        assert store.bindings(key) == {ENCRYPTER: [member]}
    assert simulator.current_keys(CLUSTER) == {REGION: (g2, "ENABLED")}

    # In-place rotation: a new rotation_trigger; only the activation changes, one PUT cmek with
    # the unchanged spec, no GCP call.
    cluster["rotation_trigger"] = "2026-12-01"
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to update": 1, "unchanged": 9}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 9}
    assert mark.since() == Writes([], [], [("PUT", CMEK_PATH)])
    assert bodies(simulator, "PUT", CMEK_PATH)[-1] == {"region_specs": [spec(g2, email, REGION)]}
    assert simulator.current_keys(CLUSTER) == {REGION: (g2, "ENABLED")}

    # Add a region: its key ring and, since every generation stays declared, its crypto keys of
    # generations 1 and 2 with their grants; one PATCH cluster adds the region with the g2 key.
    cluster["add_regions"] = {ADDED: 3}
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to create": 5, "to update": 1, "unchanged": 9}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"created": 5, "updated": 1, "unchanged": 9}
    added_g1, added_g2 = crypto_key(ADDED), crypto_key(ADDED, 2)
    writes = mark.since()
    assert sorted(writes.standins) == sorted([
        ("gcp", "kms:keyRings.create", ring(ADDED)),
        ("gcp", "kms:cryptoKeys.create", added_g1), ("gcp", "kms:cryptoKeys.setIamPolicy", added_g1),
        ("gcp", "kms:cryptoKeys.create", added_g2), ("gcp", "kms:cryptoKeys.setIamPolicy", added_g2),
    ])
    assert writes.simulator == [("PATCH", CLUSTER_PATH)]
    [patch] = bodies(simulator, "PATCH", CLUSTER_PATH)
    assert patch["dedicated"]["cmek_region_specs"] == [spec(added_g2, email, ADDED)]
    assert patch["dedicated"]["region_nodes"] == {REGION: 3, ADDED: 3}
    assert simulator.current_keys(CLUSTER) == {REGION: (g2, "ENABLED"), ADDED: (added_g2, "ENABLED")}
    live = simulator.api("GET", f"clusters/{CLUSTER}")
    assert live["state"] == "CREATED"
    assert {r["name"]: r["node_count"] for r in live["regions"]} == {REGION: 3, ADDED: 3}
    assert backends.gcp().bindings(added_g2) == {ENCRYPTER: [member]}

    # The region is the cluster's now: dropping add_regions changes only the activation's
    # new_region_nodes, with no call anywhere.
    del cluster["add_regions"]
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to update": 1, "unchanged": 14}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 14}
    assert mark.since() == Writes([], [], [])

    # Revoke runbook, step 1: cut_key_access disables the service account (only it changes);
    # keys, key rings and grants stay.
    cluster["gcp"] = {"cut_key_access": True}
    set_cluster(stack, cluster)
    preview = previewed(stack)
    assert counts(preview) == {"to update": 1, "unchanged": 14}
    assert re.search(r"~ disabled\s*:\s*false => true", preview.stdout), preview.stdout[-3000:]
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 14}
    assert mark.since() == Writes([("gcp", "iam:serviceAccounts.disable", ACCOUNT)], [], [])
    store = backends.gcp()
    assert store.objects[ACCOUNT]["disabled"] is True
    assert store.bindings(g2) == {ENCRYPTER: [member]}
    assert simulator.cmek(CLUSTER)["status"] == "ENABLED"

    # Step 2: revoke. Only the activation changes; one PATCH cmek, then REVOKED everywhere.
    cluster["revoke"] = True
    set_cluster(stack, cluster)
    preview = previewed(stack)
    assert counts(preview) == {"to update": 1, "unchanged": 14}
    assert re.search(r"~ revoke\s*:\s*false => true", preview.stdout), preview.stdout[-3000:]
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 14}
    assert mark.since() == Writes([], [], [("PATCH", CMEK_PATH)])
    assert bodies(simulator, "PATCH", CMEK_PATH) == [{"action": "REVOKE"}]
    assert simulator.cmek(CLUSTER)["status"] == "REVOKED"
    assert {region: status for region, (_, status) in simulator.current_keys(CLUSTER).items()} == {
        REGION: "REVOKED", ADDED: "REVOKED"}
    assert stack.outputs()[NAME]["status"] == "REVOKED"

    # Once revoked, an up and a refresh with nothing changed change nothing and call nothing.
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"unchanged": 15}
    assert counts(stack.workspace.run("refresh", "--yes", "--skip-preview").check()) == {"unchanged": 15}
    assert mark.since() == Writes([], [], [])

    # Recover, step 1: cut_key_access back to false enables the service account again; the
    # activation does not change (revoke stays true), CMEK stays REVOKED.
    cluster["gcp"] = {"cut_key_access": False}
    set_cluster(stack, cluster)
    assert counts(previewed(stack)) == {"to update": 1, "unchanged": 14}
    mark = Marks(stack)
    assert counts(stack.up().check()) == {"updated": 1, "unchanged": 14}
    assert mark.since() == Writes([("gcp", "iam:serviceAccounts.enable", ACCOUNT)], [], [])
    assert backends.gcp().objects[ACCOUNT]["disabled"] is False
    assert simulator.cmek(CLUSTER)["status"] == "REVOKED"

    # Destroy after the revoke: everything is retained (the account, both key rings, the four
    # crypto keys with their versions enabled, every grant), no call anywhere.
    before = backends.gcp().objects
    mark = Marks(stack)
    destroyed = stack.destroy().check()
    assert counts(destroyed) == {"deleted": 15}
    assert f"CMEK stays revoked on cluster {CLUSTER} (status REVOKED)" in destroyed.stdout
    assert "CMEK stays enabled" not in destroyed.stdout
    assert mark.since() == Writes([], [], [])
    after = backends.gcp()
    assert after.objects == before
    assert after.objects[ACCOUNT]["email"] == email
    for key in (crypto_key(REGION), g2, added_g1, added_g2):
        assert [v["state"] for v in after.objects[key]["versions"]] == ["ENABLED"]
        assert after.bindings(key) == {ENCRYPTER: [member]}
    assert simulator.cmek(CLUSTER)["status"] == "REVOKED"
