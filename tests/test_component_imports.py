"""An AWS stack never imports ``pulumi_gcp``, a GCP stack never imports ``pulumi_aws`` (neither
imports ``pulumi_vault`` unless it uses Vault), and ``import cmek_component`` imports no cloud SDK
(each checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = textwrap.dedent(
    """
    import asyncio, json, sys
    import pulumi, pulumi.runtime

    class Mocks(pulumi.runtime.Mocks):
        def __init__(self):
            self.types = []
        def new_resource(self, args):
            self.types.append(args.typ)
            state = dict(args.inputs)
            if args.typ == "aws:iam/role:Role":
                state["arn"] = "arn:aws:iam::111122223333:role/" + args.name
            if args.typ == "aws:kms/key:Key":
                state["keyId"] = "mrk-" + "0" * 32
                state["arn"] = "arn:aws:kms:%s:111122223333:key/mrk-%s" % (state["region"], "0" * 32)
            if args.typ == "aws:kms/replicaKey:ReplicaKey":
                state["keyId"] = "mrk-" + "0" * 32
                state["arn"] = "arn:aws:kms:%s:111122223333:key/mrk-%s" % (state["region"], "0" * 32)
            return args.name + "-id", state
        def call(self, args):
            return {"accountId": "111122223333", "arn": "arn:aws:iam::111122223333:user/me"}

    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.reset_options(project="cmek", stack="test")
    mocks = Mocks()
    pulumi.runtime.set_mocks(mocks, project="cmek", stack="test")
    pulumi.runtime.set_all_config({"gcp:project": "cust-proj"})

    from cmek_component import ClusterCmek

    CLOUD = sys.argv[1]
    facts = {
        "AWS": {"regions": ["us-east-1", "us-west-2"], "account_id": "123456789012",
                "organization_id": "52337060-d4a4-4ece-98df-052610c8ec9f"},
        "GCP": {"regions": ["us-east1", "us-west1"], "account_id": "crl-prod-abc"},
    }[CLOUD]

    @pulumi.runtime.test
    def program():
        cmek = ClusterCmek("prod", {"cluster_id": "b23eaee4-e12c-4288-95db-3e81ee22d2ea", "cloud": CLOUD, **facts},
                           client_factory=lambda: 1 / 0)
        return cmek.region_specs

    program()
    print(json.dumps({
        "types": sorted(set(mocks.types)),
        "pulumi_aws": "pulumi_aws" in sys.modules,
        "pulumi_gcp": "pulumi_gcp" in sys.modules,
        "pulumi_vault": "pulumi_vault" in sys.modules,
    }))
    """
)


def run_program(cloud: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", PROGRAM, cloud], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_an_aws_stack_never_imports_pulumi_gcp() -> None:
    seen = run_program("AWS")
    assert "aws:kms/key:Key" in seen["types"]  # the program really declared the AWS children
    assert "pulumi-python:dynamic/cockroach:CmekActivation" in seen["types"]
    assert seen["pulumi_aws"] is True
    assert seen["pulumi_gcp"] is False
    assert seen["pulumi_vault"] is False


def test_a_gcp_stack_never_imports_pulumi_aws() -> None:
    seen = run_program("GCP")
    assert "gcp:kms/cryptoKey:CryptoKey" in seen["types"]
    assert seen["pulumi_gcp"] is True
    assert seen["pulumi_aws"] is False
    assert seen["pulumi_vault"] is False


def test_importing_the_package_loads_no_cloud_sdk() -> None:
    code = (
        "import json, sys, cmek_component\n"
        "from cmek_component import ClusterCmekArgs, AwsKeyOptions, GcpKeyOptions, ActivationOptions\n"
        "print(json.dumps([m in sys.modules for m in ('pulumi_aws', 'pulumi_gcp', 'cmek_component.component.cluster_cmek')]))\n"
        "cmek_component.ClusterCmek\n"
        "print(json.dumps([m in sys.modules for m in ('pulumi_aws', 'pulumi_gcp', 'cmek_component.component.cluster_cmek')]))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    before, after = (json.loads(line) for line in completed.stdout.splitlines())
    assert before == [False, False, False]
    assert after == [False, False, True]
