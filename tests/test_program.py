"""The stack program (``__main__.py``) under Pulumi mocks, with each example stack's config.

The program is run as the Pulumi language host runs it (``runpy.run_path`` with
``run_name="__main__"``) after ``set_mocks`` and ``set_all_config``; the config comes from the
``config:`` section of ``stacks/Pulumi.<stack>.yaml``, with the test's own placeholder for each
``secure:`` value. The Cloud API client factory is replaced by one that fails the test: the
example stacks give every cluster fact, so the program must not need the Cloud API.
"""

from __future__ import annotations

import asyncio
import copy
import json
import runpy
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pulumi.runtime
import pytest
import yaml

from cmek_component.component import cluster_cmek as component
from cmek_component.component import cluster_facts
from tests.support.pulumi_fixtures import RecordedResource, Recorder

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "__main__.py"
STACKS = ROOT / "stacks"
API_KEY_PLACEHOLDER = "test-placeholder-cockroach-api-key"

CLUSTER_CMEK = "cockroach:cmek:ClusterCmek"
ACTIVATION = "pulumi-python:dynamic/cockroach:CmekActivation"
ROLE = "aws:iam/role:Role"
KEY = "aws:kms/key:Key"
REPLICA = "aws:kms/replicaKey:ReplicaKey"
SERVICE_ACCOUNT = "gcp:serviceaccount/account:Account"
KEY_RING = "gcp:kms/keyRing:KeyRing"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
CUSTOMER_ACCOUNT = "111122223333"
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
THIS_STACK = "organization/cmek/test"


class EngineRpcError(grpc.RpcError):
    """What the engine's monitor raises for a failed invoke: a gRPC error with a status code
    and details (``grpc.Call``'s two methods the SDK reads)."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


def _note_secret(item: pulumi.Output[Any], where: tuple[str, str], found: set[tuple[str, str]]) -> pulumi.Output[None]:
    async def note() -> None:
        if await item.is_secret():
            found.add(where)

    return pulumi.Output.from_input(asyncio.ensure_future(note()))


def stack_config(stack: str) -> tuple[dict[str, Any], list[str]]:
    """The ``config:`` of ``stacks/Pulumi.<stack>.yaml``; ``secure:`` values become the test's
    plain placeholder and are listed as secret keys, as the CLI would pass them decrypted."""
    document = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())
    values: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, value in document["config"].items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            values[key] = API_KEY_PLACEHOLDER
            secret_keys.append(key)
        else:
            values[key] = value
    return values, secret_keys


def with_api_key(config: dict[str, Any], secret_keys: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``config`` with the API key set the way `pulumi config set --secret cockroach:apiKey` does."""
    return {**config, "cockroach:apiKey": API_KEY_PLACEHOLDER}, [*secret_keys, "cockroach:apiKey"]


def _key_arn(region: str, name: str) -> str:
    return f"arn:aws:kms:{region}:{CUSTOMER_ACCOUNT}:key/{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _activation_outputs(_name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    regions = [
        {"region": spec["region"], "status": "ENABLED", "key_uri": spec["key_spec"]["uri"]}
        for spec in inputs.get("region_specs") or []
    ]
    return {"status": "ENABLED", "regions": regions}


def make_recorder() -> Recorder:
    """Mocks answering like AWS and the activation would: ARNs from names and regions."""
    return Recorder(
        outputs={
            ROLE: lambda name, inputs: {"arn": f"arn:aws:iam::{CUSTOMER_ACCOUNT}:role/{inputs.get('name') or name}"},
            KEY: lambda name, inputs: {"arn": _key_arn(inputs.get("region") or "us-east-1", name), "keyId": name},
            REPLICA: lambda name, inputs: {"arn": _key_arn(inputs["region"], name), "keyId": name},
            ACTIVATION: _activation_outputs,
        },
        call_results={
            "aws:index/getCallerIdentity:getCallerIdentity": lambda _args: {
                "accountId": CUSTOMER_ACCOUNT,
                "arn": f"arn:aws:iam::{CUSTOMER_ACCOUNT}:user/deployer",
                "userId": "AIDAEXAMPLE",
            }
        },
    )


@dataclass
class ProgramRun:
    """What one run of the program declared and exported."""

    recorder: Recorder
    outputs: dict[str, Any]

    def clusters(self) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.by_type(CLUSTER_CMEK)}

    def children(self, cluster: str) -> list[RecordedResource]:
        """Every resource under the named ``ClusterCmek``, at any depth."""
        resources = self.recorder.resources()
        inside = {self.clusters()[cluster].urn}
        found: list[RecordedResource] = []
        grew = True
        while grew:
            grew = False
            for resource in resources:
                if resource.parent in inside and resource.urn not in inside:
                    inside.add(resource.urn)
                    found.append(resource)
                    grew = True
        return found

    def of(self, cluster: str, typ: str) -> list[RecordedResource]:
        return [r for r in self.children(cluster) if r.type == typ]

    def activation(self, cluster: str) -> dict[str, Any]:
        [activation] = self.of(cluster, ACTIVATION)
        return activation.inputs


class ProgramRunner:
    """``runner(config, secret_keys)`` runs ``__main__.py`` once under the test's mocks;
    ``runner.recorder`` keeps what was registered even when the program fails.

    Like a stack, the runner keeps the outputs of its last successful run and answers the
    engine's ``pulumi:pulumi:readStackOutputs`` invoke for this stack with them
    (``stack_reads`` records every name asked for). Only names in ``readable_names`` can be
    read; another name fails the invoke the way the engine does (a gRPC error)."""

    def __init__(self, install: Callable[..., Recorder]) -> None:
        self.install = install
        self.recorder: Recorder | None = None
        self.last_outputs: dict[str, Any] = {}
        self.stack_reads: list[str] = []
        self.readable_names: set[str] = {THIS_STACK}
        self.secret_outputs: set[tuple[str, str]] = set()

    def _read_stack_outputs(self, args: dict[str, Any]) -> Any:
        self.stack_reads.append(args["name"])
        if args["name"] not in self.readable_names:
            raise EngineRpcError(f"stack '{args['name']}' not found")
        return {"name": args["name"], "outputs": self.last_outputs, "secretOutputNames": []}

    def __call__(self, config: dict[str, Any], secret_keys: list[str]) -> ProgramRun:
        recorder = make_recorder()
        recorder.call_results[READ_STACK_OUTPUTS] = self._read_stack_outputs
        recorder = self.recorder = self.install(recorder=recorder, config=config, secret_keys=secret_keys)
        exported: dict[str, Any] = {}

        secret: set[tuple[str, str]] = set()

        @pulumi.runtime.test
        def program() -> pulumi.Output[None]:
            runpy.run_path(str(PROGRAM), run_name="__main__")
            outputs = pulumi.runtime.get_root_resource().outputs  # type: ignore[union-attr]
            checks = []
            for name, value in outputs.items():
                if isinstance(value, pulumi.Output):
                    checks.append(_note_secret(value, (name, ""), secret))
                for key, item in value.items() if isinstance(value, dict) else ():
                    if isinstance(item, pulumi.Output):
                        checks.append(_note_secret(item, (name, key), secret))
            return pulumi.Output.all(pulumi.Output.from_input(outputs).apply(exported.update), *checks).apply(lambda _: None)

        program()
        self.secret_outputs = secret
        self.last_outputs = copy.deepcopy(exported)
        return ProgramRun(recorder, exported)


@pytest.fixture
def run_program(pulumi_mocks: Callable[..., Recorder], monkeypatch: pytest.MonkeyPatch) -> Iterator[ProgramRunner]:
    """Runs the program; the only Cloud API read it may make is ``GET cmek`` of a cluster new
    to the stack (every cluster is, under mocks), answered "never enabled"; any other fails the test."""
    monkeypatch.setattr(cluster_facts, "default_client_factory", CmekOnlyReader)
    yield ProgramRunner(pulumi_mocks)


class CmekOnlyReader:
    """A Cloud API reader for stacks that give every cluster fact."""

    def get_cluster(self, cluster_id: str) -> Any:
        raise AssertionError("the program asked for a cluster; the stack gives every cluster fact")

    def get_organization(self) -> Any:
        raise AssertionError("the program asked for the organization; the stack gives every cluster fact")

    def get_cmek(self, cluster_id: str) -> None:
        return None


def _regions(document: dict[str, Any]) -> list[str]:
    return [spec["region"] for spec in document["region_specs"]]


def _assert_exports_match_activation(run: ProgramRun, name: str, cluster_id: str, key_type: str) -> dict[str, Any]:
    exported = run.outputs[name]
    activation = run.activation(name)
    assert exported["cluster_id"] == activation["cluster_id"] == cluster_id
    assert json.loads(exported["cmek_config_json"]) == exported["region_specs"] == {"region_specs": activation["region_specs"]}
    assert {spec["key_spec"]["type"] for spec in activation["region_specs"]} == {key_type}
    assert {spec["key_spec"]["auth_principal"] for spec in activation["region_specs"]} == {exported["auth_principal"]}
    assert exported["key_uris"] == {spec["region"]: spec["key_spec"]["uri"] for spec in activation["region_specs"]}
    assert exported["status"] == "ENABLED"
    assert exported["region_statuses"] == {region: "ENABLED" for region in _regions(exported["region_specs"])}
    return exported


def _everything(run: ProgramRun) -> str:
    return json.dumps([r.inputs for r in run.recorder.resources()], default=str) + json.dumps(run.outputs, default=str)


# ---------------------------------------------------------------------------------------------
# Example stacks
# ---------------------------------------------------------------------------------------------


def test_aws_example_stack_declares_one_cluster_cmek_per_cluster(run_program: ProgramRunner) -> None:
    config, secret_keys = with_api_key(*stack_config("aws-example"))
    clusters = {c["name"]: c for c in config["cmek:clusters"]}

    run = run_program(config, secret_keys)

    assert sorted(run.clusters()) == ["analytics", "payments"]
    # payments: one multi-region key (material in us-east-1), a replica in each other region.
    [primary] = run.of("payments", KEY)
    assert primary.inputs["multiRegion"] is True
    assert sorted(r.inputs["region"] for r in run.of("payments", REPLICA)) == ["eu-west-1", "us-west-2"]
    assert primary.protect and all(r.protect for r in run.of("payments", REPLICA))
    assert primary.inputs["tags"] == {"owner": "platform-data", "cost-center": "4711", "service": "payments"}
    # analytics: one per-region key, its own named role, the stack-wide tags.
    [analytics_key] = run.of("analytics", KEY)
    assert run.of("analytics", REPLICA) == []
    assert analytics_key.inputs["tags"] == {"owner": "platform-data", "cost-center": "4711"}
    assert [r.inputs["name"] for r in run.of("analytics", ROLE)] == ["crdb-cmek-analytics"]
    for name in ("payments", "analytics"):
        assert len(run.of(name, ROLE)) == 1
        assert len(run.of(name, ACTIVATION)) == 1
        assert not [r for r in run.children(name) if r.type.startswith("gcp:")]
        exported = _assert_exports_match_activation(run, name, clusters[name]["cluster_id"], "AWS_KMS")
        assert sorted(_regions(exported["region_specs"])) == sorted(clusters[name]["regions"])
        assert exported["role_arn"] == exported["auth_principal"]
        assert exported["service_account_email"] is None
    assert run.activation("payments")["wait_timeout_seconds"] == 7200
    assert run.outputs["clusters"] == {name: c["cluster_id"] for name, c in clusters.items()}
    assert set(run.outputs) == {"payments", "analytics", "clusters"}
    assert API_KEY_PLACEHOLDER not in _everything(run)


def test_gcp_example_stack_declares_one_cluster_cmek_per_cluster(run_program: ProgramRunner) -> None:
    config, secret_keys = with_api_key(*stack_config("gcp-example"))
    clusters = {c["name"]: c for c in config["cmek:clusters"]}

    run = run_program(config, secret_keys)

    assert sorted(run.clusters()) == ["ledger", "reporting"]
    ledger = _assert_exports_match_activation(run, "ledger", clusters["ledger"]["cluster_id"], "GCP_CLOUD_KMS")
    assert ledger["auth_principal"] == ledger["service_account_email"] == "crdb-cmek-ledger@acme-kms-prod.iam.gserviceaccount.com"
    assert ledger["role_arn"] is None
    assert sorted(_regions(ledger["region_specs"])) == ["europe-west1", "us-east1", "us-west1"]
    for spec in ledger["region_specs"]["region_specs"]:
        assert spec["key_spec"]["uri"].startswith(f"projects/acme-kms-prod/locations/{spec['region']}/keyRings/crdb-cmek-ledger-2024/cryptoKeys/")
    assert sorted(r.inputs["location"] for r in run.of("ledger", KEY_RING)) == ["europe-west1", "us-east1", "us-west1"]
    assert len(run.of("ledger", CRYPTO_KEY)) == 3
    assert all(r.protect for r in run.of("ledger", CRYPTO_KEY) + run.of("ledger", KEY_RING))
    reporting = _assert_exports_match_activation(run, "reporting", clusters["reporting"]["cluster_id"], "GCP_CLOUD_KMS")
    assert _regions(reporting["region_specs"]) == ["us-central1"]
    [ring] = run.of("reporting", KEY_RING)
    [crypto_key] = run.of("reporting", CRYPTO_KEY)
    assert ring.inputs["location"] == "us"
    assert crypto_key.inputs["versionTemplate"]["protectionLevel"] == "HSM"
    assert crypto_key.inputs["rotationPeriod"] == "7776000s"  # the stack-wide default
    for name in ("ledger", "reporting"):
        assert len(run.of(name, SERVICE_ACCOUNT)) == 1
        assert len(run.of(name, ACTIVATION)) == 1
        assert not [r for r in run.children(name) if r.type.startswith("aws:")]
    assert run.outputs["clusters"] == {name: c["cluster_id"] for name, c in clusters.items()}
    assert API_KEY_PLACEHOLDER not in _everything(run)


def test_one_stack_with_aws_and_gcp_clusters(run_program: ProgramRunner) -> None:
    aws_config, secret_keys = stack_config("aws-example")
    gcp_config, _ = stack_config("gcp-example")
    config = {**aws_config, **gcp_config, "cmek:clusters": aws_config["cmek:clusters"] + gcp_config["cmek:clusters"]}

    run = run_program(config, secret_keys)

    assert sorted(run.clusters()) == ["analytics", "ledger", "payments", "reporting"]
    assert len(run.recorder.by_type(ACTIVATION)) == 4
    assert {r.inputs["cluster_id"] for r in run.recorder.by_type(ACTIVATION)} == {
        c["cluster_id"] for c in config["cmek:clusters"]
    }
    assert sorted(run.outputs) == ["analytics", "clusters", "ledger", "payments", "reporting"]
    assert run.outputs["ledger"]["role_arn"] is None and run.outputs["payments"]["service_account_email"] is None


def test_cluster_names_default_to_the_cluster_id_prefix(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    for cluster in config["cmek:clusters"]:
        del cluster["name"]

    run = run_program(config, secret_keys)

    assert sorted(run.clusters()) == ["cluster-2c7e4a90", "cluster-9b3f6c1e"]
    assert run.outputs["clusters"] == {
        "cluster-9b3f6c1e": "9b3f6c1e-5d2a-4f8e-a7c4-2e61d0b8f3a9",
        "cluster-2c7e4a90": "2c7e4a90-8f1b-4d3c-9e6a-71b5c0d2e4f8",
    }
    assert [r.name for r in run.of("cluster-9b3f6c1e", ACTIVATION)] == ["cluster-9b3f6c1e-activation"]


# ---------------------------------------------------------------------------------------------
# Malformed configuration: an error naming the key, and no resource declared
# ---------------------------------------------------------------------------------------------


def _broken(change: Callable[[dict[str, Any]], None]) -> tuple[dict[str, Any], list[str]]:
    config, secret_keys = stack_config("aws-example")
    config = copy.deepcopy(config)
    change(config)
    return config, secret_keys


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        target: Any = config
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def _delete(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(config: dict[str, Any]) -> None:
        target: Any = config
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


def _revoke_while_adding_a_region(config: dict[str, Any]) -> None:
    config["cmek:clusters"][1]["revoke"] = True
    config["cmek:clusters"][1]["add_regions"] = {"us-west-2": 3}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _set(["cmek:clusters", 1, "key_generation"], "two"),
            "cmek:clusters[1].key_generation: expected an integer from 1 to 100, got 'two'",
        ),
        (
            _set(["cmek:clusters", 1, "regions"], "us-east-1"),
            "cmek:clusters[1].regions: expected a list of strings, got 'us-east-1'",
        ),
        (
            _set(["cmek:clusters", 1, "aws", "key_mod"], "single"),
            "cmek:clusters[1].aws.key_mod: unknown key; did you mean 'key_mode'?",
        ),
        (_set(["cmek:clustres"], []), "cmek:clustres: unknown key; did you mean 'clusters'?"),
        (_delete(["cmek:clusters", 1, "cluster_id"]), "cmek:clusters[1].cluster_id: required key is missing (string)"),
        (
            _revoke_while_adding_a_region,
            "cmek:clusters[1].revoke: true cannot be combined with add_regions: a revoke must be the "
            "only change of its update; remove add_regions or set revoke to false",
        ),
        (
            _set(["cmek:clusters", 1, "aws", "alias"], "alias/aws/rds"),
            "cmek:clusters[1].aws.alias: expected 'alias/<name>' with at most 256 characters of "
            "a-zA-Z0-9:/_-, not starting with 'alias/aws/' (reserved for AWS managed keys), got 'alias/aws/rds'",
        ),
    ],
    ids=["wrong-type", "wrong-shape", "unknown-key", "unknown-top-level-key", "missing-cluster-id", "revoke-with-added-region", "bad-value"],
)
def test_malformed_config_names_the_key_before_any_resource_is_declared(
    run_program: ProgramRunner, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    config, secret_keys = _broken(change)

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    assert str(caught.value).splitlines()[1:] == [f"  {expected}"]
    assert run_program.recorder is not None and run_program.recorder.resources() == []


def test_a_plain_text_api_key_is_refused_before_any_resource_is_declared(
    run_program: ProgramRunner,
) -> None:
    config, _ = with_api_key(*stack_config("aws-example"))

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, [])  # cockroach:apiKey not marked secret

    assert str(caught.value).splitlines()[1:] == [
        "  cockroach:apiKey: must be a secret (it would be stored in plain text in the stack file); "
        "run `pulumi config set --secret cockroach:apiKey <key>`"
    ]
    assert API_KEY_PLACEHOLDER not in str(caught.value)
    assert run_program.recorder is not None and run_program.recorder.resources() == []


def test_a_rule_of_the_clouds_plan_is_checked_for_every_cluster_before_any_resource(
    run_program: ProgramRunner,
) -> None:
    """An alias or key mode with bring-your-own keys is refused by the AWS plan, not the schema:
    the program runs that plan for every cluster first, so the second cluster's error declares
    nothing, not even the first cluster's resources."""
    byo = {"us-east-1": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    config, secret_keys = _broken(_set(["cmek:clusters", 1, "aws", "byo_keys"], byo))

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    lines = str(caught.value).splitlines()[1:]
    assert sorted(line.split(": ", 1)[0] for line in lines) == ["  cmek:clusters[1].aws.alias", "  cmek:clusters[1].aws.key_mode"]
    assert all("byo_keys" in line for line in lines)
    assert run_program.recorder is not None and run_program.recorder.resources() == []


# ---------------------------------------------------------------------------------------------
# The local stack (the rehearsal's embedded default): cluster facts from the simulator
# ---------------------------------------------------------------------------------------------


def test_local_stack_reads_the_cluster_facts_and_whether_cmek_is_on_from_the_cloud_api_once(
    pulumi_mocks: Callable[..., Recorder], simulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cmek_component.simulator import SEED_API_KEY, seeds

    config, secret_keys = stack_config("local")
    assert not any(key.startswith("cockroach:") for key in config)  # the rehearsal provides both
    config["cockroach:apiUrl"] = simulator.url
    monkeypatch.setenv("COCKROACH_API_KEY", SEED_API_KEY)

    run = ProgramRunner(pulumi_mocks)(config, secret_keys)

    assert list(run.clusters()) == ["cluster-b23eaee4"]
    activation = run.activation("cluster-b23eaee4")
    assert activation["cluster_id"] == seeds.AWS_MULTI
    assert sorted(spec["region"] for spec in activation["region_specs"]) == ["eu-west-1", "us-east-1", "us-west-2"]
    [role] = run.of("cluster-b23eaee4", ROLE)
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert json.dumps(trust).count(f"arn:aws:iam::{seeds.BY_ID[seeds.AWS_MULTI].account_id}:root") == 1
    assert seeds.ORGANIZATION_ID in json.dumps(trust)
    calls = [(r.method, r.path) for r in simulator.simulator.requests]
    assert sorted(calls) == [
        ("GET", "/api/v1/clusters/" + seeds.AWS_MULTI),
        ("GET", f"/api/v1/clusters/{seeds.AWS_MULTI}/cmek"),  # new to the stack: is CMEK on already?
        ("GET", "/api/v1/organization"),
    ]


# ---------------------------------------------------------------------------------------------
# Operations through configuration (what docs/operations.md, "Reviewing a preview", describes)
# ---------------------------------------------------------------------------------------------


def test_rotation_and_an_added_region_keep_the_old_keys_and_reach_the_activation(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    before = run_program(copy.deepcopy(config), secret_keys)
    config["cmek:clusters"][0]["key_generation"] = 2
    config["cmek:clusters"][0]["add_regions"] = {"ap-southeast-1": 3}

    after = run_program(config, secret_keys)

    old = {r.name for r in before.children("payments")}
    new = {r.name: r for r in after.children("payments")}
    assert old <= set(new)  # nothing of generation 1 leaves the program
    assert {"payments-key-g2", "payments-replica-us-west-2-g2", "payments-replica-eu-west-1-g2", "payments-replica-ap-southeast-1-g2"} <= set(new)
    activation = after.activation("payments")
    assert activation["new_region_nodes"] == {"ap-southeast-1": 3}
    uris = {spec["region"]: spec["key_spec"]["uri"] for spec in activation["region_specs"]}
    assert sorted(uris) == ["ap-southeast-1", "eu-west-1", "us-east-1", "us-west-2"]
    assert uris["us-east-1"] == _key_arn("us-east-1", "payments-key-g2")
    assert uris["eu-west-1"] == _key_arn("eu-west-1", "payments-replica-eu-west-1-g2")
    assert before.activation("analytics") == after.activation("analytics")  # the other cluster is untouched


def test_revoke_changes_only_the_activations_revoke_input(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    before = run_program(copy.deepcopy(config), secret_keys)
    config["cmek:clusters"][1]["revoke"] = True

    after = run_program(config, secret_keys)

    old = {r.name: r.inputs for r in before.recorder.resources()}
    new = {r.name: r.inputs for r in after.recorder.resources()}
    changed = sorted(name for name in new if new[name] != old.get(name))
    assert changed == ["analytics-activation"]
    assert {k for k in new["analytics-activation"] if new["analytics-activation"][k] != old["analytics-activation"].get(k)} == {"revoke"}


# ---------------------------------------------------------------------------------------------
# Revoke with a rotation: refused by key against the stack's last outputs, before any resource
# ---------------------------------------------------------------------------------------------

CHANGE_FIRST = "to revoke now, or set revoke to false and apply this change first"


def _revoke_with(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def both(config: dict[str, Any]) -> None:
        config["cmek:clusters"][1]["revoke"] = True
        change(config)

    return both


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _set(["cmek:clusters", 1, "key_generation"], 2),
            "cmek:clusters[1].key_generation: cannot change in the update that sets revoke to true "
            "(a revoke must be the only change of its update): the last update applied 1, got 2; set it "
            f"back to 1 {CHANGE_FIRST}",
        ),
        (
            _set(["cmek:clusters", 1, "rotation_trigger"], "2026-11-28"),
            "cmek:clusters[1].rotation_trigger: cannot change in the update that sets revoke to true "
            "(a revoke must be the only change of its update): the last update applied '', got "
            f"'2026-11-28'; set it back to '' {CHANGE_FIRST}",
        ),
        (
            _set(["cmek:clusters", 1, "region_key_generations"], {"us-east-1": 2}),
            "cmek:clusters[1].region_key_generations: cannot change in the update that sets revoke to "
            "true (a revoke must be the only change of its update): the last update applied {}, got "
            f"{{'us-east-1': 2}}; remove it {CHANGE_FIRST}",
        ),
        (
            _set(
                ["cmek:clusters", 1, "aws", "byo_keys"],
                {"us-east-1": "arn:aws:kms:us-east-1:548012347811:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
            ),
            "cmek:clusters[1].aws.byo_keys: cannot change in the update that sets revoke to true",
        ),
        (
            _set(["cmek:clusters", 1, "aws", "role_name"], "crdb-cmek-analytics-2"),
            "cmek:clusters[1].aws.role_name: cannot change in the update that sets revoke to true "
            "(a revoke must be the only change of its update): the last update applied "
            f"'crdb-cmek-analytics', got 'crdb-cmek-analytics-2'; set it back to 'crdb-cmek-analytics' {CHANGE_FIRST}",
        ),
    ],
    ids=["key-generation", "rotation-trigger", "region-key-generation", "byo-keys", "role-name"],
)
def test_revoke_with_a_rotation_names_the_key_before_any_resource_is_declared(
    run_program: ProgramRunner, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    """The last update exported each cluster's rotation_config; an update that revokes and
    also rotates is refused by the program, not by the activation later."""
    config, secret_keys = stack_config("aws-example")
    run_program(copy.deepcopy(config), secret_keys)
    _revoke_with(change)(config)

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    lines = str(caught.value).splitlines()[1:]
    assert any(line.startswith(f"  {expected}") for line in lines), lines
    assert all(line.startswith("  cmek:clusters[1].") for line in lines)
    assert run_program.stack_reads == [THIS_STACK]
    assert run_program.recorder is not None and run_program.recorder.resources() == []


def test_revoke_alone_passes_the_check_and_a_later_rotation_is_not_compared(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    first = run_program(copy.deepcopy(config), secret_keys)
    assert run_program.stack_reads == []  # no cluster revokes: the last outputs are not read
    record = first.outputs["analytics"]["rotation_config"]
    assert record["keys"] == list(record)[3:]
    assert record == {
        "cluster_id": "2c7e4a90-8f1b-4d3c-9e6a-71b5c0d2e4f8",
        "revoke": False,
        "keys": record["keys"],
        "name": "analytics",
        "regions": ["us-east-1"],
        "key_generation": 1,
        "region_key_generations": {},
        "rotation_trigger": "",
        "aws.key_mode": "per-region",
        "aws.primary_region": None,
        "aws.byo_keys": {},
        "aws.role_name": "crdb-cmek-analytics",
        "aws.role_path": None,
        "gcp.project": None,
        "gcp.byo_keys": {},
        "gcp.key_locations": {},
        "gcp.key_ring_name": None,
        "gcp.crypto_key_name": None,
        "gcp.service_account_id": None,
        "vault": False,
        "vault.mount_path": None,
        "vault.namespace": None,
        "vault.kms_name": None,
        "vault.key_name": None,
        "vault.key_collection": None,
        "vault.key_collections": {},
    }
    assert ("analytics", "rotation_config") not in run_program.secret_outputs
    config["cmek:clusters"][1]["revoke"] = True
    config["cmek:clusters"][1]["key_generation"] = 1  # stated, unchanged: not a rotation
    revoked = run_program(copy.deepcopy(config), secret_keys)
    assert revoked.activation("analytics")["revoke"] is True
    assert run_program.stack_reads == [THIS_STACK]

    # The revoke is done: the record says so, and the program leaves what follows to the
    # activation (which refuses any change after a revoke).
    config["cmek:clusters"][1]["key_generation"] = 2
    later = run_program(config, secret_keys)
    assert later.activation("analytics")["revoke"] is True


def test_a_rotation_of_another_cluster_does_not_block_a_revoke(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    run_program(copy.deepcopy(config), secret_keys)
    config["cmek:clusters"][0]["key_generation"] = 2
    config["cmek:clusters"][1]["revoke"] = True

    run = run_program(config, secret_keys)

    assert run.activation("analytics")["revoke"] is True
    assert any(spec["key_spec"]["uri"].endswith(str(uuid.uuid5(uuid.NAMESPACE_URL, "payments-key-g2")))
               for spec in run.activation("payments")["region_specs"])


def test_a_renamed_cluster_is_compared_by_its_cluster_id(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    run_program(copy.deepcopy(config), secret_keys)
    config["cmek:clusters"][1]["name"] = "analytics-eu"
    config["cmek:clusters"][1]["revoke"] = True
    config["cmek:clusters"][1]["key_generation"] = 2

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    lines = str(caught.value).splitlines()[1:]
    assert [line.split(": ", 1)[0] for line in lines] == ["  cmek:clusters[1].name", "  cmek:clusters[1].key_generation"]
    assert "the last update applied 'analytics', got 'analytics-eu'" in lines[0]


def test_a_stack_wide_default_is_named_by_its_own_key(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    config["cmek:aws"] = {"key_mode": "per-region"}
    del config["cmek:clusters"][1]["aws"]["key_mode"]  # analytics takes the stack-wide default
    run_program(copy.deepcopy(config), secret_keys)
    config["cmek:aws"] = {"key_mode": "single"}
    config["cmek:clusters"][1]["revoke"] = True

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    assert (
        "  cmek:aws.key_mode: cannot change in the update that sets revoke to true for cmek:clusters[1] "
        "(a revoke must be the only change of its update): the last update applied 'per-region', got "
        f"'single'; set it back to 'per-region' {CHANGE_FIRST}"
    ) in str(caught.value).splitlines()


def test_a_gcp_cluster_compares_its_own_cloud_options_only(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("gcp-example")
    config["cmek:aws"] = {"key_mode": "per-region"}  # stack-wide AWS default: no part of a GCP cluster
    run_program(copy.deepcopy(config), secret_keys)
    config["cmek:aws"] = {"key_mode": "single"}
    config["cmek:clusters"][0]["revoke"] = True
    config["cmek:clusters"][0].setdefault("gcp", {})["crypto_key_name"] = "cmek-key-2"

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    lines = str(caught.value).splitlines()[1:]
    assert [line.split(": ", 1)[0] for line in lines] == ["  cmek:clusters[0].gcp.crypto_key_name"], lines


def test_secret_cluster_config_stays_secret_in_the_record_and_the_message(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")
    secret_keys = [*secret_keys, "cmek:clusters"]
    run_program(copy.deepcopy(config), secret_keys)
    assert ("analytics", "rotation_config") in run_program.secret_outputs
    config["cmek:clusters"][1]["revoke"] = True
    config["cmek:clusters"][1]["rotation_trigger"] = "incident-4711-trigger"

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    message = str(caught.value)
    assert "  cmek:clusters[1].rotation_trigger: cannot change in the update that sets revoke to true" in message
    assert "got [secret]; restore its last value to revoke now" in message
    assert "incident-4711-trigger" not in message


def test_the_bare_stack_name_is_tried_when_the_qualified_one_cannot_be_read(run_program: ProgramRunner) -> None:
    """A self-managed backend in its legacy layout knows the stack by its bare name only."""
    config, secret_keys = stack_config("aws-example")
    run_program(copy.deepcopy(config), secret_keys)
    run_program.readable_names = {"test"}
    config["cmek:clusters"][1]["revoke"] = True
    config["cmek:clusters"][1]["key_generation"] = 2

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    assert run_program.stack_reads == [THIS_STACK, "test"]
    assert "  cmek:clusters[1].key_generation: cannot change" in str(caught.value)


def test_unreadable_last_outputs_warn_and_leave_the_check_to_the_activation(
    run_program: ProgramRunner, caplog: pytest.LogCaptureFixture
) -> None:
    config, secret_keys = stack_config("aws-example")
    run_program(copy.deepcopy(config), secret_keys)
    config["cmek:clusters"][1]["revoke"] = True
    config["cmek:clusters"][1]["key_generation"] = 2
    run_program.readable_names = set()

    with caplog.at_level("WARNING"):
        run = run_program(config, secret_keys)

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        f"revoke: could not read the last outputs of this stack ({THIS_STACK}: invoke of {READ_STACK_OUTPUTS} "
        f"failed: stack '{THIS_STACK}' not found; test: invoke of {READ_STACK_OUTPUTS} failed: stack 'test' "
        "not found)" in w
        and "refused by the activation's check at preview instead" in w
        for w in warnings
    ), warnings
    # Declared as configured: the activation's Check (tests/test_activation_*.py) refuses it.
    assert run.activation("analytics")["revoke"] is True


def test_a_revoking_cluster_without_a_record_gets_a_warning(
    run_program: ProgramRunner, caplog: pytest.LogCaptureFixture
) -> None:
    """A stack never updated (the engine answers with no outputs), or outputs of an older version."""
    config, secret_keys = stack_config("aws-example")
    config["cmek:clusters"][1]["revoke"] = True

    with caplog.at_level("WARNING"):
        run = run_program(config, secret_keys)

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "revoke: cmek:clusters[1] (cluster 2c7e4a90-8f1b-4d3c-9e6a-71b5c0d2e4f8) has no rotation_config in "
        "this stack's last outputs" in w
        for w in warnings
    ), warnings
    assert run.activation("analytics")["revoke"] is True


# ---------------------------------------------------------------------------------------------
# The example stacks, the outputs, secret configuration and checks before anything is declared
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["aws-example", "gcp-example"])
def test_example_stacks_ship_no_api_key_and_explain_both_routes(run_program: ProgramRunner, stack: str) -> None:
    """A placeholder ciphertext fails to decrypt on every command for whoever uses the
    environment variable; the shipped stack sets no key, so both routes work as shipped."""
    text = (STACKS / f"Pulumi.{stack}.yaml").read_text()
    config = yaml.safe_load(text)["config"]

    assert "cockroach:apiKey" not in config
    assert not [key for key, value in config.items() if isinstance(value, dict) and "secure" in value]
    assert "pulumi config set --secret cockroach:apiKey <key>" in text
    assert "export COCKROACH_API_KEY=<key>" in text
    run_program(config, [])  # the environment-variable route: nothing else to set


@pytest.mark.parametrize("stack", ["aws-example", "gcp-example"])
def test_every_registered_output_is_exported_key_policy_included(
    run_program: ProgramRunner, monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    """docs/configuration.md tells byo_keys users to take key_policy from the outputs: every output the
    component registers is an attribute the stack exports, and nothing else is registered."""
    registered: dict[str, set[str]] = {}
    register = component.ClusterCmek.register_outputs

    def record(self: component.ClusterCmek, outputs: dict[str, Any]) -> None:
        registered[self._name] = set(outputs)
        register(self, outputs)

    monkeypatch.setattr(component.ClusterCmek, "register_outputs", record)
    config, secret_keys = stack_config(stack)

    run = run_program(config, secret_keys)

    for name, names in registered.items():
        assert "key_policy" in names
        assert names <= set(run.outputs[name]), names - set(run.outputs[name])
        if stack == "aws-example":
            policy = json.loads(run.outputs[name]["key_policy"])
            assert policy["Id"] == "crdb-cmek-kms"
            assert policy["Statement"][0]["Principal"] == {"AWS": run.outputs[name]["role_arn"]}
        else:
            assert run.outputs[name]["key_policy"] is None
    assert len(registered) == 2


def test_secret_cluster_config_makes_every_export_secret(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("aws-example")

    run = run_program(config, [*secret_keys, "cmek:clusters"])

    exported = {(name, key) for name, value in run.outputs.items() if isinstance(value, dict) for key in value}
    assert exported - {("clusters", key) for key in run.outputs["clusters"]} <= run_program.secret_outputs
    assert ("payments", "cluster_id") in run_program.secret_outputs
    assert ("clusters", "") in run_program.secret_outputs


def test_secret_cluster_config_hides_values_in_the_components_messages(run_program: ProgramRunner) -> None:
    byo = {"us-east-1": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    config, secret_keys = _broken(_set(["cmek:clusters", 1, "aws", "byo_keys"], byo))

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, [*secret_keys, "cmek:clusters"])

    lines = str(caught.value).splitlines()[1:]
    assert sorted(line.split(": ", 1)[0] for line in lines) == ["  cmek:clusters[1].aws.alias", "  cmek:clusters[1].aws.key_mode"]
    assert all(line.endswith("got [secret]") for line in lines), lines
    assert "alias/crdb-cmek-analytics" not in str(caught.value) and "'per-region'" not in str(caught.value)


def _vault_without_credentials(config: dict[str, Any]) -> None:
    config["cmek:clusters"][1]["aws"] = {}
    config["cmek:clusters"][1]["vault"] = {}
    config["cmek:clusters"][0]["aws"]["byo_keys"] = {
        region: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        for region in config["cmek:clusters"][0]["regions"]
    }


def test_missing_vault_credentials_are_found_with_every_other_problem_before_anything_is_declared(
    run_program: ProgramRunner,
) -> None:
    config, secret_keys = _broken(_vault_without_credentials)

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    lines = str(caught.value).splitlines()[1:]
    assert [line.split(": ", 1)[0] for line in lines] == [
        "  cmek:clusters[0].aws.key_mode",
        "  cmek:clusters[0].aws.primary_region",
        "  cmek-vault:awsAccessKey",
        "  cmek-vault:awsSecretKey",
    ]
    assert lines[2] == (
        "  cmek-vault:awsAccessKey: required by cmek:clusters[1] when vault.credentials is 'config' (the default): "
        "run `pulumi config set --secret cmek-vault:awsAccessKey <value>`, or set vault.credentials to "
        "'vault-server' to let Vault use its own environment; got no value"
    )
    assert run_program.recorder is not None and run_program.recorder.resources() == []


def test_a_malformed_rotation_config_in_the_last_outputs_takes_the_warning_path(
    run_program: ProgramRunner, caplog: pytest.LogCaptureFixture
) -> None:
    config, secret_keys = stack_config("aws-example")
    run_program(copy.deepcopy(config), secret_keys)
    run_program.last_outputs["analytics"]["rotation_config"]["keys"] = [{"path": "key_generation"}]
    config["cmek:clusters"][1]["revoke"] = True

    with caplog.at_level("WARNING"):
        run = run_program(config, secret_keys)

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "revoke: cmek:clusters[1]: the rotation_config of output 'analytics' in this stack's last outputs cannot "
        "be read (keys is [{'path': 'key_generation'}])" in w
        for w in warnings
    ), warnings
    assert run.activation("analytics")["revoke"] is True


def test_a_gcp_cluster_without_the_gcp_extra_is_told_what_to_install(
    run_program: ProgramRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pulumi_gcp", None)  # as if pulumi-gcp were not installed
    monkeypatch.delitem(sys.modules, "cmek_component.gcp.resources", raising=False)
    config, secret_keys = stack_config("gcp-example")

    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)

    assert str(caught.value).splitlines()[1:] == [
        f"  cmek:clusters[{index}].cloud: a GCP cluster needs the pulumi-gcp package, which is not installed: "
        "install this package with its 'gcp' extra (`pip install 'cmek-component[gcp]'`; from a checkout "
        "`venv/bin/pip install -e '.[gcp]'`)"
        for index in (0, 1)
    ]
    assert run_program.recorder is not None and run_program.recorder.resources() == []


def test_gcp_cut_key_access_on_a_service_account_being_created_is_refused_before_anything_is_declared(
    run_program: ProgramRunner,
) -> None:
    """GCP ignores ``disabled`` when it creates a service account: the cut would not happen."""
    config, secret_keys = stack_config("gcp-example")
    config["cmek:clusters"][0].setdefault("gcp", {})["cut_key_access"] = True

    with pytest.raises(pulumi.RunError) as caught:
        run_program(copy.deepcopy(config), secret_keys)

    assert (
        "  cmek:clusters[0].gcp.cut_key_access: true on a cluster whose service account this update creates: "
        "GCP ignores `disabled` when it creates a service account"
    ) in str(caught.value)
    assert run_program.recorder is not None and run_program.recorder.resources() == []


def test_gcp_cut_key_access_on_an_existing_stack_is_the_runbook_and_goes_ahead(run_program: ProgramRunner) -> None:
    config, secret_keys = stack_config("gcp-example")
    run_program(copy.deepcopy(config), secret_keys)
    config["cmek:clusters"][0].setdefault("gcp", {})["cut_key_access"] = True

    run = run_program(config, secret_keys)

    name = config["cmek:clusters"][0]["name"]
    accounts = {r.name: r.inputs.get("disabled") for r in run.recorder.resources()
                if r.type == "gcp:serviceaccount/account:Account"}
    assert accounts[f"{name}-service-account"] is True
    assert [disabled for account, disabled in accounts.items() if account != f"{name}-service-account"] == [False]


# ---------------------------------------------------------------------------------------------
# A cluster new to the stack whose CMEK is already on (the engine tier: tests/engine/
# test_program_rename_recreate.py; here, what the program decides from GET cmek)
# ---------------------------------------------------------------------------------------------


class EnabledElsewhere(CmekOnlyReader):
    """Every cluster already has CMEK ENABLED with a key this stack never made."""

    def get_cmek(self, cluster_id: str) -> Any:
        from cmek_component.cloud_api.models import CmekInfo

        return CmekInfo.from_api({"status": "ENABLED", "region_infos": [{
            "region": "us-east-1", "status": "ENABLED", "key_infos": [{"status": "ENABLED", "spec": {
                "type": "AWS_KMS", "uri": "arn:aws:kms:us-east-1:111122223333:key/elsewhere",
                "auth_principal": "arn:aws:iam::111122223333:role/elsewhere"}}]}]})


class Unreachable(CmekOnlyReader):
    def get_cmek(self, cluster_id: str) -> Any:
        raise ConnectionError("the Cloud API is unreachable")


def test_a_new_cluster_whose_cmek_is_on_is_refused_before_any_resource_is_declared(
    run_program: ProgramRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_facts, "default_client_factory", EnabledElsewhere)
    config, secret_keys = with_api_key(*stack_config("aws-example"))
    with pytest.raises(pulumi.RunError) as caught:
        run_program(config, secret_keys)
    message = str(caught.value)
    assert "cmek:clusters[0]: cluster " in message and "already has CMEK ENABLED" in message
    assert "'arn:aws:iam::111122223333:role/elsewhere' with keys us-east-1: 'arn:aws:kms:us-east-1:111122223333:key/elsewhere'" in message
    assert run_program.recorder is not None and run_program.recorder.resources() == []


def test_an_unreachable_cloud_api_only_skips_the_already_on_check(
    run_program: ProgramRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cluster_facts, "default_client_factory", Unreachable)
    config, secret_keys = with_api_key(*stack_config("aws-example"))
    run = run_program(config, secret_keys)
    assert run.clusters()
