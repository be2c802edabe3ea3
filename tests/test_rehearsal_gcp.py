"""A GCP stack rehearsed end to end: the service account, key rings, crypto keys and grants are
validated by GCP's rules and get ids of GCP's formats; CMEK is enabled with exactly those names.
GCP's permanence shows: after a destroy the key rings remain, so the same names cannot be
created again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_rehearsal import Step, run_rehearsal

CLUSTER = "76ca373f-796f-4665-8685-4b0276fa3a66"
PROJECT = "customer-kms-project"
REGIONS = ("europe-west1", "us-east1", "us-west1")
RING = f"crdb-cmek-{CLUSTER}"
SERVICE_ACCOUNT = f"crdb-cmek-76fa3a66@{PROJECT}.iam.gserviceaccount.com"
SA_NAME = f"projects/{PROJECT}/serviceAccounts/{SERVICE_ACCOUNT}"
CRL_PRINCIPAL = "crl-kms-user-4b0276fa3a66@crl-prod-9kd.iam.gserviceaccount.com"


def key_uri(region: str) -> str:
    return f"projects/{PROJECT}/locations/{region}/keyRings/{RING}/cryptoKeys/crdb-cmek"


@pytest.fixture
def gcp_stack(tmp_path: Path) -> Path:
    stack = tmp_path / "Pulumi.gcp-rehearsal.yaml"
    stack.write_text(f"config:\n  gcp:project: {PROJECT}\n  cmek:clusters:\n    - cluster_id: {CLUSTER}\n")
    return stack


def mutating(step: Step, cloud: str) -> list[tuple[str, str]]:
    return [(c["operation"], c["target"]) for c in step.report["calls"] if c["cloud"] == cloud and c["mutating"]]


def test_gcp_stack_create_no_op_destroy_and_the_names_stay_taken(gcp_stack: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    create = run_rehearsal(state, tmp_path / "create.json", "--show-policies", stack=gcp_stack)
    assert create.returncode == 0, create.output
    assert sorted(mutating(create, "gcp")) == sorted([
        ("iam:serviceAccounts.create", SA_NAME),
        ("iam:serviceAccounts.setIamPolicy", SA_NAME),
        *(("kms:keyRings.create", f"projects/{PROJECT}/locations/{r}/keyRings/{RING}") for r in REGIONS),
        *(("kms:cryptoKeys.create", key_uri(r)) for r in REGIONS),
        *(("kms:cryptoKeys.setIamPolicy", key_uri(r)) for r in REGIONS),
    ])
    assert mutating(create, "aws") == []
    post = [c for c in create.report["calls"] if c["cloud"] == "cockroach" and c["mutating"]]
    assert [c["operation"] for c in post] == [f"POST /api/v1/clusters/{CLUSTER}/cmek"]
    assert post[0]["body"] == {"region_specs": [
        {"region": r, "key_spec": {"type": "GCP_CLOUD_KMS", "uri": key_uri(r), "auth_principal": SERVICE_ACCOUNT}}
        for r in REGIONS
    ]}
    # The grants the policies output shows are the ones the stand-in holds.
    assert f'"serviceAccount:{CRL_PRINCIPAL}"' in create.output
    assert f'"serviceAccount:{SERVICE_ACCOUNT}"' in create.output
    assert create.report["cmek"][CLUSTER]["status"] == "ENABLED"

    again = run_rehearsal(state, tmp_path / "again.json", stack=gcp_stack)
    assert again.returncode == 0, again.output
    assert [c for c in again.report["calls"] if c["mutating"]] == []
    assert again.after == again.before

    destroy = run_rehearsal(state, tmp_path / "destroy.json", "--destroy", stack=gcp_stack)
    assert destroy.returncode == 0, destroy.output
    ops = {s["name"]: s["op"] for s in destroy.report["applied"]}
    assert {ops[f"cluster-76ca373f-key-ring-{r}"] for r in REGIONS} == {"retain"}
    assert {ops[f"cluster-76ca373f-crypto-key-{r}"] for r in REGIONS} == {"retain"}
    # The identity CockroachDB Cloud uses stays too: CMEK is still enabled on the cluster.
    assert ops["cluster-76ca373f-service-account"] == "retain"
    assert ops["cluster-76ca373f-token-creator"] == "retain"
    assert mutating(destroy, "gcp") == []
    assert json.loads(destroy.after["state.json"])["resources"] == []

    # GCP never deletes key rings: creating the stack again finds the names taken.
    recreate = run_rehearsal(state, tmp_path / "recreate.json", stack=gcp_stack)
    assert recreate.returncode == 1
    assert "ALREADY_EXISTS: key ring" in recreate.output and "can never be reused" in recreate.output
