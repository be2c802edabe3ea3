"""``ClusterCmek`` on GCP from a YAML program, through the plugin, on the real CLI with the
stand-in GCP provider and the simulator: the same children and outcome as the Python library's
GCP stack (``test_program_gcp.py``), and a revoke through the plugin's custom resource.

Create (service account, Token Creator grant, key ring, crypto key, the key's grant, the
activation: ENABLED); ``revoke: true`` (one ``PATCH cmek``, REVOKED); destroy (identity, ring
and key kept, no Cloud API call).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from cmek_component.pulumi_cli.workspace import REPO, Workspace
from cmek_component.rehearsal.standins.harness import StandinBackends
from cmek_component.rehearsal.standins.install import install_standins
from cmek_component.simulator import seeds

from .conftest import CANARY_KEY, RunningSimulator, counts, files_containing

CLUSTER = seeds.GCP_SINGLE
PROJECT = "customer-kms-project"
REGION = "us-east1"


def gcp_project(tmp_path: Path) -> Path:
    """A YAML program of one GCP ClusterCmek (``revoke`` from config) through this checkout's plugin."""
    directory = tmp_path / "program"
    directory.mkdir()
    program: dict[str, Any] = {
        "name": "cmek-yaml-gcp", "runtime": "yaml", "packages": {"cockroach-cmek": str(REPO / "provider")},
        "config": {"revoke": {"type": "boolean", "default": False}},
        "resources": {"ledger": {"type": "cockroach-cmek:index:ClusterCmek", "properties": {
            "clusterId": CLUSTER, "revoke": "${revoke}", "gcp": {"project": PROJECT}}}},
        "outputs": {"status": "${ledger.status}", "serviceAccountEmail": "${ledger.serviceAccountEmail}",
                    "keyUris": "${ledger.keyUris}"},
    }
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    return directory


def test_a_gcp_cluster_through_the_plugin_is_created_revoked_and_destroyed_keeping_its_keys(
    tmp_path: Path, pulumi_cli: Path, simulator: RunningSimulator, backends: StandinBackends
) -> None:
    workspace = Workspace(gcp_project(tmp_path), tmp_path / "state", stack="dev", cli=pulumi_cli, env=backends.env())
    install_standins(workspace.home)
    workspace.init_stack(config={"cockroach-cmek:apiUrl": simulator.url, "gcp:project": PROJECT},
                         secrets={"cockroach-cmek:apiKey": CANARY_KEY})

    created = workspace.run("up", "--yes", "--skip-preview").check()
    assert counts(created) == {"created": 8}, created.stdout[-3000:]
    store = backends.gcp()
    [account_name] = [name for name, obj in store.objects.items() if obj["kind"] == "serviceAccount"]
    email = store.objects[account_name]["email"]
    assert re.fullmatch(rf"[a-z][a-z0-9-]{{5,29}}@{PROJECT}\.iam\.gserviceaccount\.com", email)
    [key] = [name for name, obj in store.objects.items() if obj["kind"] == "cryptoKey"]
    assert store.bindings(key) == {"roles/cloudkms.cryptoKeyEncrypterDecrypter": [f"serviceAccount:{email}"]}
    assert simulator.current_keys(CLUSTER) == {REGION: (key, "ENABLED")}
    outputs = json.loads(workspace.run("stack", "output", "--json").check().stdout)
    assert outputs == {"status": "ENABLED", "serviceAccountEmail": email, "keyUris": {REGION: key}}
    assert [method for method, _ in simulator.mutating()] == ["POST"]

    # Revoke, through the plugin's custom resource: one PATCH, REVOKED; nothing else changes.
    workspace.run("config", "set", "revoke", "true").check()
    writes = len(backends.mutating_calls())
    preview = workspace.run("preview").check()
    assert counts(preview) == {"to update": 1, "unchanged": 7}
    assert [method for method, _ in simulator.mutating()] == ["POST"]
    revoked = workspace.run("up", "--yes", "--skip-preview").check()
    assert counts(revoked) == {"updated": 1, "unchanged": 7}
    assert [method for method, _ in simulator.mutating()] == ["POST", "PATCH"]
    assert simulator.cmek(CLUSTER)["status"] == "REVOKED"
    assert len(backends.mutating_calls()) == writes

    # Destroy: identity, ring, key and grants kept, no Cloud API call, CMEK stays revoked.
    destroyed = workspace.run("destroy", "--yes", "--skip-preview").check()
    assert counts(destroyed) == {"deleted": 8}
    after = backends.gcp()
    assert after.objects[account_name]["email"] == email and key in after.objects
    assert after.bindings(key) == store.bindings(key)
    assert [method for method, _ in simulator.mutating()] == ["POST", "PATCH"]
    assert simulator.cmek(CLUSTER)["status"] == "REVOKED"
    assert files_containing(tmp_path, CANARY_KEY) == []
    assert CANARY_KEY not in created.output + revoked.output + destroyed.output
