"""Runs the stack program (``__main__.py``) once under Pulumi mocks, in this process.

The benchmarks start this script in a subprocess and measure the subprocess (wall time, peak
RSS, CPU time); it is also usable by hand::

    venv/bin/python benchmarks/program_child.py --cloud aws --clusters 1 --regions 3
    venv/bin/python benchmarks/program_child.py --cloud gcp --clusters 10 --regions 6

What it does, as the Pulumi language host would for ``pulumi preview``:

- builds the stack configuration in memory (``cmek:clusters`` with ``--clusters`` entries, each
  with ``cloud``, ``regions``, ``account_id`` and, on AWS, ``organization_id`` given, so the
  program reads no cluster fact from the Cloud API; a reader that raises on one guarantees it,
  and answers the GET cmek of a cluster new to the stack at once);
- installs ``pulumi.runtime.set_mocks`` (preview mode) with mocks that answer every resource
  with plausible ids, ARNs and e-mails and answer ``aws.get_caller_identity``;
- runs ``__main__.py`` with ``runpy`` and waits until every registration has been answered;
- prints one JSON line: the number of resources registered and of invokes answered, and the
  time spent in Python's cyclic garbage collector (all generations, and full collections).

``--no-gc`` turns the garbage collector off (a diagnostic for the scale benchmark);
``--phases`` prints the split import floor / package imports / program run instead.

Cluster ids are UUIDs (``uuid5`` of the run's index, so two runs declare the same resources).
AWS clusters use the component's default key mode (``multi-region``: one key in the first
region, a replica in each other region); GCP clusters one key ring and crypto key per region.
"""

from __future__ import annotations

import argparse
import gc
import json
import runpy
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "__main__.py"

AWS_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "us-east-2", "eu-central-1", "ap-southeast-1")
GCP_REGIONS = ("us-east1", "us-west1", "europe-west1", "us-central1", "europe-west4", "asia-southeast1")
CUSTOMER_AWS_ACCOUNT = "111122223333"
CUSTOMER_GCP_PROJECT = "acme-kms-bench"
ORGANIZATION_ID = "7d2c9a4e-1b3f-4e8a-9c6d-5f0e2b1a8c7d"
_IDS = uuid.UUID("c3a7e0d2-52f1-4d0e-9a43-6f1b8e2d7c90")


def cluster_id(index: int) -> str:
    """The benchmark's ``index``-th cluster id: a UUID, stable across runs."""
    return str(uuid.uuid5(_IDS, f"cluster-{index}"))


def stack_config(cloud: str, clusters: int, regions: int) -> dict[str, Any]:
    """The stack configuration (``project:key`` -> value) for ``clusters`` clusters of ``regions`` regions."""
    if cloud == "aws":
        names = list(AWS_REGIONS[:regions])
        entries = [
            {
                "name": f"c{index:04d}",
                "cluster_id": cluster_id(index),
                "cloud": "AWS",
                "regions": names,
                "account_id": f"5480{index:08d}",
                "organization_id": ORGANIZATION_ID,
            }
            for index in range(clusters)
        ]
        return {"aws:region": names[0], "cmek:clusters": entries, "cockroach:apiKey": "bench-placeholder-key"}
    names = list(GCP_REGIONS[:regions])
    entries = [
        {
            "name": f"c{index:04d}",
            "cluster_id": cluster_id(index),
            "cloud": "GCP",
            "regions": names,
            "account_id": f"crl-prod-{index:04d}",
        }
        for index in range(clusters)
    ]
    return {"gcp:project": CUSTOMER_GCP_PROJECT, "cmek:clusters": entries, "cockroach:apiKey": "bench-placeholder-key"}


def run_program(cloud: str, clusters: int, regions: int, *, empty: bool = False) -> dict[str, int]:
    """Runs ``__main__.py`` under mocks; returns counts of what was registered.

    ``empty``: the same mocks and the cloud SDK import, but no program (the harness's own cost).
    """
    import asyncio
    import importlib

    import pulumi
    import pulumi.runtime

    importlib.import_module("pulumi_aws" if cloud == "aws" else "pulumi_gcp")

    counts = {"resources": 0, "invokes": 0}

    class BenchMocks(pulumi.runtime.Mocks):
        """Answers like the clouds would, from names and inputs: no network."""

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            counts["resources"] += 1
            state = dict(args.inputs)
            region = str(args.inputs.get("region") or "us-east-1")
            key_id = str(uuid.uuid5(_IDS, args.name))
            if args.typ.startswith("aws:kms/"):
                state.update(arn=f"arn:aws:kms:{region}:{CUSTOMER_AWS_ACCOUNT}:key/{key_id}", keyId=key_id)
            elif args.typ.startswith("aws:iam/role"):
                state.update(arn=f"arn:aws:iam::{CUSTOMER_AWS_ACCOUNT}:role/{args.inputs.get('name') or args.name}")
            elif args.typ.startswith("aws:"):
                state.setdefault("arn", f"arn:aws:iam::{CUSTOMER_AWS_ACCOUNT}:policy/{args.name}")
            elif args.typ == "gcp:serviceaccount/account:Account":
                account = args.inputs.get("accountId") or "crdb-cmek"
                state.update(email=f"{account}@{CUSTOMER_GCP_PROJECT}.iam.gserviceaccount.com")
            return f"{args.name}-id", state

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
            counts["invokes"] += 1
            if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
                identity = {
                    "accountId": CUSTOMER_AWS_ACCOUNT,
                    "arn": f"arn:aws:iam::{CUSTOMER_AWS_ACCOUNT}:user/deployer",
                    "userId": "AIDAEXAMPLE",
                }
                return identity, []
            if args.token == "aws:index/getPartition:getPartition":
                return {"partition": "aws", "dnsSuffix": "amazonaws.com"}, []
            return {}, []

    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(BenchMocks(), project="cmek", stack="bench", preview=True)
    config = stack_config(cloud, clusters, regions)
    pulumi.runtime.set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()},
        secret_keys=["cockroach:apiKey"],
    )

    @pulumi.runtime.test
    def program() -> None:
        if empty:
            return
        from cmek_component.component import cluster_facts

        class FactsGiven:
            """The benchmark gives every cluster fact: reading one fails the run. Under mocks the
            state is empty, so every cluster is new to the stack and the program asks whether
            its CMEK is already on (one ``GET cmek`` each): answered at once, "never enabled"."""

            def get_cluster(self, cluster_id: str) -> Any:
                raise RuntimeError("the program read a cluster; the benchmark gives every cluster fact")

            def get_organization(self) -> Any:
                raise RuntimeError("the program read the organization; the benchmark gives every cluster fact")

            def get_cmek(self, cluster_id: str) -> None:
                return None

        cluster_facts.default_client_factory = FactsGiven
        runpy.run_path(str(PROGRAM), run_name="__main__")

    program()
    return counts


SDK_SUBMODULES = {
    "aws": (("pulumi_aws.iam", "Role"), ("pulumi_aws.kms", "Key")),
    "gcp": (("pulumi_gcp.kms", "CryptoKey"), ("pulumi_gcp.serviceaccount", "Account")),
}
"""The cloud SDK's submodules the component declares resources from, with a class of each:
``import pulumi_aws`` registers them lazily, they load on first attribute use."""


def timed_phases(cloud: str, clusters: int, regions: int) -> dict[str, float]:
    """Seconds per phase of one run (``--phases``), imported in this order: the floor (pulumi and
    the cloud SDK), the SDK submodules the component uses, the package's modules, then the
    program run. (The HTTP client, ``requests``, is not imported by a program: the activation
    loads it only when its provider calls the Cloud API.)"""
    import importlib

    def imported(*modules: str) -> float:
        start = time.perf_counter()
        for module in modules:
            importlib.import_module(module)
        return time.perf_counter() - start

    def loaded(submodules: tuple[tuple[str, str], ...]) -> float:
        start = time.perf_counter()
        for module, name in submodules:
            getattr(importlib.import_module(module), name)
        return time.perf_counter() - start

    phases = {
        "floor_imports": imported("pulumi", "pulumi_aws" if cloud == "aws" else "pulumi_gcp"),
        "sdk_submodules": loaded(SDK_SUBMODULES[cloud]),
        "package_imports": imported(
            "cmek_component.stack.config", "cmek_component.component.cluster_cmek", "cmek_component.activation.dynamic", f"cmek_component.{cloud}"
        ),
    }
    start = time.perf_counter()
    run_program(cloud, clusters, regions)
    phases["program_run"] = time.perf_counter() - start
    return phases


class GcTimer:
    """Time spent in the cyclic garbage collector, per generation (through ``gc.callbacks``)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.collections = [0, 0, 0]
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            generation = int(info["generation"])
            self.seconds[generation] += time.perf_counter() - self._started
            self.collections[generation] += 1

    def figures(self) -> dict[str, float]:
        return {
            "gc_seconds": sum(self.seconds),
            "gc_full_seconds": self.seconds[2],
            "gc_full_collections": self.collections[2],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cloud", choices=("aws", "gcp"), default="aws")
    parser.add_argument("--clusters", type=int, default=1)
    parser.add_argument("--regions", type=int, default=3, choices=range(1, 7))
    parser.add_argument("--phases", action="store_true", help="print seconds per phase instead of counts")
    parser.add_argument("--empty", action="store_true", help="the mocks harness alone: no program")
    parser.add_argument("--no-gc", action="store_true", help="diagnostic: cyclic garbage collector off")
    args = parser.parse_args(argv)
    if args.no_gc:
        gc.disable()
    if args.phases:
        print(json.dumps(timed_phases(args.cloud, args.clusters, args.regions)))
        return 0
    timer = GcTimer()
    counts = run_program(args.cloud, args.clusters, args.regions, empty=args.empty)
    print(json.dumps({**counts, **timer.figures()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
