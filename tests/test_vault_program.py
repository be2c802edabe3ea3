"""Vault key material under Pulumi mocks: every resource, its inputs and options, the order of
the steps (mount -> KMS entry + key -> distribution -> read back -> key policy / grant), and
that no Vault token or KMS credential reaches any input in plain text.

``declare_vault_keys`` runs inside a small test ComponentResource (the parent), as ``aws/resources.py`` /
``gcp/resources.py`` call it. The mocks answer the two reads the program makes: ``vault.generic.get_secret``
(what ``vault read <mount>/kms/<entry>/key/<key>`` returns: the key's name in the KMS, Vault's
``<key>-<unix timestamp>``) and, on AWS, ``aws.kms.get_alias`` of ``alias/hashicorp/<that name>``.
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

from cmek_component.aws import policies
from cmek_component.aws import vault_access as aws_vault_access
from cmek_component.component.cloud_keys import ClusterFacts
from cmek_component.gcp import vault_access as gcp_vault_access
from cmek_component.manifest.problems import SpecError, SpecProblems
from cmek_component.vault.resources import VaultKeys, declare_vault_keys
from tests.support.pulumi_fixtures import RecordedResource, Recorder, RecordingMonitor

CLUSTER_ID = "8a7b6c5d-1234-4321-abcd-0123456789ab"
ROLE_ARN = "arn:aws:iam::111122223333:role/crdb-cmek"
CALLER_ROOT = "arn:aws:iam::111122223333:root"
SA_EMAIL = "crdb-cmek-456789ab@cust-proj.iam.gserviceaccount.com"
RING = "projects/cust-proj/locations/global/keyRings/crdb-vault"
TIMESTAMP = "1700000000"

ACCESS_KEY = "test-access-key-id-EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI-example-secret-key"
SA_FILE = '{"type": "service_account", "private_key": "<service account private key (test placeholder)>"}'
VAULT_TOKEN = "hvs.example-vault-token-value"
AWS_CREDENTIALS = {"cmek-vault:awsAccessKey": ACCESS_KEY, "cmek-vault:awsSecretKey": SECRET_KEY}
GCP_CREDENTIALS = {"cmek-vault:gcpServiceAccountFile": SA_FILE}

MOUNT = "vault:index/mount:Mount"
AWS_KMS = "vault:keymgmt/awsKms:AwsKms"
GCP_KMS = "vault:keymgmt/gcpKms:GcpKms"
KEY = "vault:keymgmt/key:Key"
DISTRIBUTION = "vault:keymgmt/distributeKey:DistributeKey"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
GET_SECRET = "vault:generic/getSecret:getSecret"
GET_ALIAS = "aws:kms/getAlias:getAlias"
CALLER_IDENTITY = "aws:index/getCallerIdentity:getCallerIdentity"
HOLDER = "test:index:Holder"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def key_arn(region: str, kms_key_name: str) -> str:
    """A deterministic key id per alias, so each region's ARN is distinct and checkable."""
    digits = f"{abs(hash(kms_key_name)) % 10**12:012d}"
    return f"arn:aws:kms:{region}:111122223333:key/1234abcd-12ab-34cd-56ef-{digits}"


@dataclass
class TimelineRecorder(Recorder):
    """Records registrations and invokes in one sequence, to check the order of the steps."""

    timeline: list[tuple[str, str]] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.timeline.append(("register", args.name))
        return super().new_resource(args)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        self.timeline.append(("invoke", f"{args.token} {args.args.get('path') or args.args.get('name') or ''}".strip()))
        return super().call(args)


def vault_read(args: dict[str, Any]) -> dict[str, Any]:
    """What Vault answers to ``vault read <mount>/kms/<entry>/key/<key>``."""
    key = args["path"].rsplit("/", 1)[1]
    data = {"name": f"{key}-{TIMESTAMP}", "protection": "hsm", "purpose": "encrypt,decrypt", "versions": {"1": "v1"}}
    return {"path": args["path"], "dataJson": json.dumps(data), "data": {}}


def alias_lookup(args: dict[str, Any]) -> dict[str, Any]:
    kms_key_name = args["name"].removeprefix("alias/hashicorp/")
    return {"name": args["name"], "arn": "x", "targetKeyArn": key_arn(args["region"], kms_key_name), "targetKeyId": "x"}


class Holder(pulumi.ComponentResource):
    def __init__(self, name: str, facts: ClusterFacts, args: dict[str, Any], principal: str, key_policy: str | None) -> None:
        super().__init__(HOLDER, name)
        if facts.cloud == "AWS":
            access = lambda plan: aws_vault_access.key_policy_access(name, self, plan, args, principal, key_policy)  # type: ignore[arg-type]  # noqa: E731
        else:
            access = lambda plan: gcp_vault_access.crypto_key_grant_access(name, self, plan, principal)  # noqa: E731
        self.keys = declare_vault_keys(name, self, facts, args, access)  # type: ignore[arg-type]
        self.register_outputs({})


@dataclass
class Run:
    recorder: TimelineRecorder
    holder_urn: str = ""
    key_uris: dict[str, str] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of(self, typ: str) -> dict[str, RecordedResource]:
        return {r.name: r for r in self.recorder.by_type(typ)}

    def one(self, typ: str, name: str) -> RecordedResource:
        return self.recorder.one(typ, name)

    def calls(self, token: str) -> list[dict[str, Any]]:
        return [c.args for c in self.recorder.calls if c.token == token]

    def at(self, kind: str, what: str) -> int:
        return self.recorder.timeline.index((kind, what))


def _resolve(keys: VaultKeys, run: Run) -> pulumi.Output[Any]:
    outputs = {k: pulumi.Output.from_input(v) for k, v in keys.outputs.items()}

    def keep(values: list[Any]) -> None:
        run.key_uris, run.dependencies, run.outputs = values

    return pulumi.Output.all(
        pulumi.Output.all(**keys.key_uris), pulumi.Output.all(*[d.urn for d in keys.dependencies]), pulumi.Output.all(**outputs)
    ).apply(keep)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Run]]:
    """``run(cloud, regions, vault=..., config=..., secret_keys=..., key_policy=..., **args)``: one
    program run under fresh mocks. Config defaults to the cloud's KMS credentials, as secrets."""
    loops: list[asyncio.AbstractEventLoop] = []
    recorders: list[TimelineRecorder] = []
    monkeypatch.setenv("VAULT_ADDR", "https://vault.example.com:8200")
    monkeypatch.setenv("VAULT_TOKEN", VAULT_TOKEN)
    monkeypatch.setenv("VAULT_NAMESPACE", "admin")

    def execute(
        cloud: str,
        regions: list[str],
        vault: dict[str, Any] | None = None,
        config: dict[str, str] | None = None,
        secret_keys: list[str] | None = None,
        key_policy: str | None = None,
        **args: Any,
    ) -> Run:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        asyncio.set_event_loop(loop)
        pulumi.runtime.reset_options(project="cmek", stack="test")
        recorder = TimelineRecorder()
        recorders.append(recorder)
        recorder.call_results[GET_SECRET] = vault_read
        recorder.call_results[GET_ALIAS] = alias_lookup
        recorder.call_results[CALLER_IDENTITY] = lambda _: {
            "accountId": "111122223333",
            "arn": "arn:aws:iam::111122223333:user/deployer",
            "userId": "AIDAEXAMPLE",
        }
        monitor = RecordingMonitor(recorder)
        recorder.monitor = monitor
        pulumi.runtime.set_mocks(recorder, project="cmek", stack="test", preview=False, monitor=monitor)
        if config is None:
            config = dict(AWS_CREDENTIALS if cloud == "AWS" else GCP_CREDENTIALS)
            secret_keys = list(config)
        pulumi.runtime.set_all_config(config, secret_keys=secret_keys or [])
        result = Run(recorder)
        facts = ClusterFacts(CLUSTER_ID, cloud, regions, "123456789012" if cloud == "AWS" else "crl-prod-abc", "org-1")
        principal = ROLE_ARN if cloud == "AWS" else SA_EMAIL
        all_args = {"cluster_id": CLUSTER_ID, "vault": vault or ({} if cloud == "AWS" else {"key_collection": RING}), **args}

        @pulumi.runtime.test
        def program() -> pulumi.Output[Any]:
            holder = Holder("prod", facts, all_args, principal, key_policy)
            return pulumi.Output.all(holder.urn, _resolve(holder.keys, result)).apply(
                lambda values: setattr(result, "holder_urn", values[0])
            )

        program()
        return result

    execute.recorders = recorders  # type: ignore[attr-defined]
    yield execute
    pulumi.runtime.set_all_config({}, secret_keys=[])
    for loop in loops:
        loop.close()


def plain_strings(value: Any) -> Iterator[str]:
    """Every string in ``value`` outside secret wrappers (what state would hold in plain text)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) is not None:
            return
        for k, v in value.items():
            yield str(k)
            yield from plain_strings(v)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from plain_strings(item)
    elif value is not None:
        yield str(value)


# --------------------------------------------------------------------------------------------
# AWS
# --------------------------------------------------------------------------------------------


def test_aws_declares_every_step_with_exact_inputs(run: Callable[..., Run]) -> None:
    result = run("AWS", ["us-east-1", "eu-west-1"])

    mount = result.one(MOUNT, "prod-vault-mount")
    assert mount.inputs == {
        "path": "keymgmt",
        "type": "keymgmt",
        "description": f"CockroachDB Cloud CMEK keys of cluster {CLUSTER_ID}",
    }
    assert set(result.of(AWS_KMS)) == {"prod-vault-kms-us-east-1", "prod-vault-kms-eu-west-1"}
    for region in ("us-east-1", "eu-west-1"):
        entry = result.one(AWS_KMS, f"prod-vault-kms-{region}")
        assert entry.inputs == {
            "mount": "keymgmt",
            "name": f"awskms-{region}",
            "keyCollection": region,
            "credentialsWo": {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY}},
            "credentialsWoVersion": 1,
        }
        key = result.one(KEY, f"prod-vault-key-{region}")
        assert key.inputs == {
            "mount": "keymgmt",
            "name": f"crdb-cmek-vault-{region}",
            "type": "aes256-gcm96",
            "deletionAllowed": False,
        }
        distribution = result.one(DISTRIBUTION, f"prod-vault-distribution-{region}")
        assert distribution.inputs == {
            "mount": "keymgmt",
            "kmsName": f"awskms-{region}",
            "keyName": f"crdb-cmek-vault-{region}",
            "purposes": ["encrypt", "decrypt"],
            "protection": "hsm",
        }
        kms_key_name = f"crdb-cmek-vault-{region}-{TIMESTAMP}"
        policy = result.one(KEY_POLICY, f"prod-vault-key-policy-{region}")
        assert policy.inputs == {
            "keyId": key_arn(region, kms_key_name),
            "policy": policies.to_json(policies.key_policy(ROLE_ARN, [CALLER_ROOT])),
            "region": region,
        }
        assert {"path": f"keymgmt/kms/awskms-{region}/key/crdb-cmek-vault-{region}"} in result.calls(GET_SECRET)
        assert {"name": f"alias/hashicorp/{kms_key_name}", "region": region} in result.calls(GET_ALIAS)

    # The crdb-cmek-kms policy: the role's five actions plus the administration statement.
    document = json.loads(result.one(KEY_POLICY, "prod-vault-key-policy-us-east-1").inputs["policy"])
    assert document["Id"] == "crdb-cmek-kms"
    assert document["Statement"][0]["Principal"] == {"AWS": ROLE_ARN}
    assert document["Statement"][0]["Action"] == [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
        "kms:ReEncrypt*",
    ]
    assert document["Statement"][1]["Sid"] == "Allow administration of the key"
    assert document["Statement"][1]["Principal"] == {"AWS": CALLER_ROOT}

    # The distributed keys' ARNs feed the activation; the activation waits for the key policies.
    assert result.key_uris == {
        "eu-west-1": key_arn("eu-west-1", f"crdb-cmek-vault-eu-west-1-{TIMESTAMP}"),
        "us-east-1": key_arn("us-east-1", f"crdb-cmek-vault-us-east-1-{TIMESTAMP}"),
    }
    assert sorted(result.dependencies) == sorted(r.urn for r in result.recorder.by_type(KEY_POLICY))
    assert result.outputs == {
        "vault_mount_path": "keymgmt",
        "vault_kms_names": {"eu-west-1": "awskms-eu-west-1", "us-east-1": "awskms-us-east-1"},
        "vault_key_names": {"eu-west-1": "crdb-cmek-vault-eu-west-1", "us-east-1": "crdb-cmek-vault-us-east-1"},
        "vault_kms_key_names": {
            "eu-west-1": f"crdb-cmek-vault-eu-west-1-{TIMESTAMP}",
            "us-east-1": f"crdb-cmek-vault-us-east-1-{TIMESTAMP}",
        },
    }


def test_aws_steps_depend_on_each_other_in_the_seed_order(run: Callable[..., Run]) -> None:
    result = run("AWS", ["us-east-1"])

    mount = result.one(MOUNT, "prod-vault-mount")
    entry = result.one(AWS_KMS, "prod-vault-kms-us-east-1")
    key = result.one(KEY, "prod-vault-key-us-east-1")
    distribution = result.one(DISTRIBUTION, "prod-vault-distribution-us-east-1")
    policy = result.one(KEY_POLICY, "prod-vault-key-policy-us-east-1")

    assert entry.property_dependencies["mount"] == [mount.urn]
    assert key.property_dependencies["mount"] == [mount.urn]
    assert distribution.property_dependencies["kmsName"] == [entry.urn]
    assert distribution.property_dependencies["keyName"] == [key.urn]
    assert {entry.urn, key.urn, mount.urn} <= set(distribution.dependencies)
    assert distribution.urn in policy.dependencies
    assert policy.property_dependencies["keyId"] == [distribution.urn]

    # What actually happened, in order: the read back waits for the distribution, the alias
    # lookup for the read, the key policy for the alias lookup.
    path = "keymgmt/kms/awskms-us-east-1/key/crdb-cmek-vault-us-east-1"
    order = [
        result.at("register", "prod-vault-mount"),
        result.at("register", "prod-vault-kms-us-east-1"),
        result.at("register", "prod-vault-distribution-us-east-1"),
        result.at("invoke", f"{GET_SECRET} {path}"),
        result.at("invoke", f"{GET_ALIAS} alias/hashicorp/crdb-cmek-vault-us-east-1-{TIMESTAMP}"),
        result.at("register", "prod-vault-key-policy-us-east-1"),
    ]
    assert order == sorted(order)
    assert result.at("register", "prod-vault-key-us-east-1") < result.at("register", "prod-vault-distribution-us-east-1")


def test_aws_options_protection_namespace_mount_and_no_credentials(run: Callable[..., Run]) -> None:
    result = run(
        "AWS",
        ["us-west-2"],
        vault={
            "protection": "software",
            "namespace": "team-a",
            "manage_mount": False,
            "mount_path": "kms/crdb",
            "credentials": "vault-server",
            "key_name": "cmek",
            "kms_name": "aws",
            "deletion_allowed": True,
        },
        config={},
    )

    assert result.of(MOUNT) == {}
    entry = result.one(AWS_KMS, "prod-vault-kms-us-west-2")
    assert entry.inputs == {"mount": "kms/crdb", "name": "aws-us-west-2", "keyCollection": "us-west-2", "namespace": "team-a"}
    assert result.one(KEY, "prod-vault-key-us-west-2").inputs == {
        "mount": "kms/crdb",
        "name": "cmek-us-west-2",
        "type": "aes256-gcm96",
        "deletionAllowed": True,
        "namespace": "team-a",
    }
    assert result.one(DISTRIBUTION, "prod-vault-distribution-us-west-2").inputs == {
        "mount": "kms/crdb",
        "kmsName": "aws-us-west-2",
        "keyName": "cmek-us-west-2",
        "purposes": ["encrypt", "decrypt"],
        "protection": "software",
        "namespace": "team-a",
    }
    assert result.calls(GET_SECRET) == [{"path": "kms/crdb/kms/aws-us-west-2/key/cmek-us-west-2", "namespace": "team-a"}]
    assert result.outputs["vault_mount_path"] == "kms/crdb"


def test_aws_key_policy_from_the_caller_and_admin_options(run: Callable[..., Run]) -> None:
    given = run("AWS", ["us-east-1"], key_policy='{"Id": "from-aws-py"}')
    assert given.one(KEY_POLICY, "prod-vault-key-policy-us-east-1").inputs["policy"] == '{"Id": "from-aws-py"}'
    assert given.calls(CALLER_IDENTITY) == []

    admin = "arn:aws:iam::111122223333:role/key-admins"
    cut = run("AWS", ["us-east-1"], aws={"admin_principals": [admin], "cut_key_access": True})
    document = json.loads(cut.one(KEY_POLICY, "prod-vault-key-policy-us-east-1").inputs["policy"])
    assert document == policies.key_policy(ROLE_ARN, [admin], grant_usage=False)


def test_generations_declare_every_key_and_point_at_the_newest(run: Callable[..., Run]) -> None:
    result = run("AWS", ["us-east-1"], key_generation=2)

    assert set(result.of(KEY)) == {"prod-vault-key-us-east-1", "prod-vault-key-us-east-1-g2"}
    assert set(result.of(DISTRIBUTION)) == {"prod-vault-distribution-us-east-1", "prod-vault-distribution-us-east-1-g2"}
    assert set(result.of(KEY_POLICY)) == {"prod-vault-key-policy-us-east-1", "prod-vault-key-policy-us-east-1-g2"}
    assert set(result.of(AWS_KMS)) == {"prod-vault-kms-us-east-1"}
    assert result.key_uris == {"us-east-1": key_arn("us-east-1", f"crdb-cmek-vault-us-east-1-g2-{TIMESTAMP}")}


def test_key_material_is_retained_and_protect_is_optional(run: Callable[..., Run]) -> None:
    default = run("AWS", ["us-east-1"])
    for resource in default.recorder.resources():
        if resource.type == HOLDER:
            continue
        assert resource.parent == default.holder_urn
        assert resource.retain_on_delete is True, resource.name
        assert resource.protect is False

    protected = run("AWS", ["us-east-1"], vault={"protect": True, "retain_on_delete": False})
    for typ in (MOUNT, AWS_KMS, KEY, DISTRIBUTION, KEY_POLICY):
        for resource in protected.of(typ).values():
            assert (resource.protect, resource.retain_on_delete) == (True, False), resource.name


# --------------------------------------------------------------------------------------------
# GCP
# --------------------------------------------------------------------------------------------


def test_gcp_declares_every_step_with_one_consistent_entry_name(run: Callable[..., Run]) -> None:
    result = run("GCP", ["us-east1", "us-west1"])

    assert result.one(MOUNT, "prod-vault-mount").inputs["type"] == "keymgmt"
    entry = result.one(GCP_KMS, "prod-vault-kms-global")
    assert entry.inputs == {
        "mount": "keymgmt",
        "name": "gcpckms-global",
        "keyCollection": RING,
        "credentialsWo": {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "value": {"service_account_file": SA_FILE}},
        "credentialsWoVersion": 1,
    }
    key = result.one(KEY, "prod-vault-key-global")
    assert key.inputs == {"mount": "keymgmt", "name": "crdb-cmek-vault-global", "type": "aes256-gcm96", "deletionAllowed": False}
    distribution = result.one(DISTRIBUTION, "prod-vault-distribution-global")
    assert distribution.inputs == {
        "mount": "keymgmt",
        "kmsName": "gcpckms-global",
        "keyName": "crdb-cmek-vault-global",
        "purposes": ["encrypt", "decrypt"],
        "protection": "hsm",
    }
    assert result.calls(GET_SECRET) == [{"path": "keymgmt/kms/gcpckms-global/key/crdb-cmek-vault-global"}]
    uri = f"{RING}/cryptoKeys/crdb-cmek-vault-global-{TIMESTAMP}"
    grant = result.one(GRANT, "prod-vault-grant-global")
    assert grant.inputs == {
        "cryptoKeyId": uri,
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        "member": f"serviceAccount:{SA_EMAIL}",
    }
    assert distribution.urn in grant.dependencies
    assert grant.property_dependencies["cryptoKeyId"] == [distribution.urn]
    assert result.at("register", "prod-vault-distribution-global") < result.at(
        "invoke", f"{GET_SECRET} keymgmt/kms/gcpckms-global/key/crdb-cmek-vault-global"
    ) < result.at("register", "prod-vault-grant-global")
    assert result.key_uris == {"us-east1": uri, "us-west1": uri}
    assert result.dependencies == [grant.urn]
    assert result.calls(GET_ALIAS) == []

    # The seed's other spelling, gcpkms, appears nowhere.
    everything = json.dumps([r.inputs for r in result.recorder.resources()] + [c.args for c in result.recorder.calls])
    assert "gcpkms" not in everything
    assert everything.count("gcpckms-global") == 3  # entry name, distribution kmsName, read path


def test_gcp_key_rings_per_region_and_software_protection(run: Callable[..., Run]) -> None:
    east = "projects/cust-proj/locations/us-east1/keyRings/crdb"
    west = "projects/cust-proj/locations/us-west1/keyRings/crdb"
    result = run("GCP", ["us-east1", "us-west1"], vault={"key_collections": {"us-east1": east, "us-west1": west}, "protection": "software"})

    assert {r.inputs["keyCollection"] for r in result.of(GCP_KMS).values()} == {east, west}
    assert {r.inputs["protection"] for r in result.of(DISTRIBUTION).values()} == {"software"}
    assert result.key_uris == {
        "us-east1": f"{east}/cryptoKeys/crdb-cmek-vault-us-east1-{TIMESTAMP}",
        "us-west1": f"{west}/cryptoKeys/crdb-cmek-vault-us-west1-{TIMESTAMP}",
    }
    assert set(result.of(GRANT)) == {"prod-vault-grant-us-east1", "prod-vault-grant-us-west1"}


# --------------------------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cloud", ["AWS", "GCP"])
def test_no_token_or_credential_reaches_any_input_in_plain_text(run: Callable[..., Run], cloud: str) -> None:
    credentials = AWS_CREDENTIALS if cloud == "AWS" else GCP_CREDENTIALS
    config = {**credentials, "vault:token": VAULT_TOKEN, "vault:address": "https://vault.example.com:8200"}
    result = run(cloud, ["us-east-1"] if cloud == "AWS" else ["us-east1"], config=config, secret_keys=[*credentials, "vault:token"])

    recorded: list[Any] = [r.inputs for r in result.recorder.resources()] + [c.args for c in result.recorder.calls]
    plain = list(plain_strings(recorded))
    assert plain, "the program declared nothing"
    for secret in (VAULT_TOKEN, *credentials.values()):
        assert not any(secret in text for text in plain), secret
    # The token is not even an input in secret form: no resource or invoke receives it at all.
    assert VAULT_TOKEN not in json.dumps(recorded)
    # No explicit Vault provider resource: the default provider reads VAULT_ADDR/VAULT_TOKEN itself.
    assert not [r for r in result.recorder.resources() if r.type.startswith("pulumi:providers:")]


def test_plain_text_token_in_config_is_refused(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems) as excinfo:
        run("AWS", ["us-east-1"], config={**AWS_CREDENTIALS, "vault:token": VAULT_TOKEN}, secret_keys=list(AWS_CREDENTIALS))

    assert str(excinfo.value) == (
        "vault:token: must be a secret (run `pulumi config set --secret vault:token <value>`), got a plain-text value"
    )
    assert VAULT_TOKEN not in str(excinfo.value)


def test_plain_text_kms_credential_in_config_is_refused(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems) as excinfo:
        run("AWS", ["us-east-1"], config=AWS_CREDENTIALS, secret_keys=["cmek-vault:awsAccessKey"])

    assert str(excinfo.value).startswith("cmek-vault:awsSecretKey: must be a secret")
    assert SECRET_KEY not in str(excinfo.value)


def test_missing_kms_credentials_name_the_config_key_and_the_alternative(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecError) as excinfo:
        run("GCP", ["us-east1"], config={})

    assert str(excinfo.value) == (
        "cmek-vault:gcpServiceAccountFile: required when vault.credentials is 'config' (the default): run "
        "`pulumi config set --secret cmek-vault:gcpServiceAccountFile <value>`, or set vault.credentials to "
        "'vault-server' to let Vault use its own environment, got None"
    )


def test_invalid_options_declare_nothing(run: Callable[..., Run]) -> None:
    with pytest.raises(SpecProblems, match=r"vault.protection: expected one of hsm, software, got 'HSM'"):
        run("AWS", ["us-east-1"], vault={"protection": "HSM"})

    (recorder,) = run.recorders  # type: ignore[attr-defined]
    assert [r.type for r in recorder.resources()] == [HOLDER]
    assert recorder.calls == []


def test_imports_stay_light() -> None:
    """The rules are pure; the Vault module loads neither cloud SDK until a cloud path runs."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import cmek_component.vault.rules, cmek_component.vault.plan\n"
        "print('pulumi' in sys.modules)\n"
        "import cmek_component.vault.resources\n"
        "print('pulumi_vault' in sys.modules, 'pulumi_aws' in sys.modules, 'pulumi_gcp' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)

    assert done.stdout.split("\n")[:2] == ["False", "True False False"]
