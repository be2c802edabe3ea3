"""Vault ``keymgmt`` naming rules and the plan of what ``vault/resources.py`` declares: pure logic, no Pulumi.

:func:`plan_vault_keys` checks ``ClusterCmekArgs["vault"]`` against Vault's and the cloud's rules
and turns it into a :class:`VaultPlan`: one KMS provider entry per key collection, the Vault keys
of every generation, and which key serves each cluster region. It reports every problem at once
(:class:`~cmek_component.manifest.specs.SpecProblems`), each naming the field, the rule and the value::

    vault.key_collections['us-east1']: expected an existing Cloud KMS key ring
    (projects/<project>/locations/<location>/keyRings/<ring>), got 'my-ring'

Naming (stable across runs, so adding a region or a generation never renames, and so never
replaces, an existing entry or key):

- a *key collection* is where the KMS keeps keys: an AWS region, or a GCP key ring
  ``projects/<p>/locations/<l>/keyRings/<r>``. Its *suffix* is the AWS region or the GCP
  location;
- one KMS provider entry per collection, ``<kms_name>-<suffix>`` (``kms_name`` default
  ``awskms`` / ``gcpckms``). The same name is used to create the entry, to distribute the key
  and to read the key back: the seed's GCP commands create ``keymgmt/kms/gcpckms`` but import
  into ``keymgmt/kms/gcpkms/...``; here both come from the one entry;
- one Vault key per collection and generation, ``<key_name>-<suffix>`` (``key_name`` default
  ``crdb-cmek-vault``), ``-g<n>`` from generation 2. Generations ``1..n`` all stay declared: data
  written with an old key still needs it and its grant;
- Vault names the key in the KMS ``<vault key name>-<unix timestamp>`` (the seed's
  ``crdb-cmek-vault-{RANDOM_SUFFIX}``); :func:`kms_key_name` reads it from ``vault read``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cmek_component.manifest.specs import (
    AWS_KEY_ARN_FORM,
    AWS_KEY_ARN_RE,
    AWS_REGION_RE,
    GCP_KEY_URI_FORM,
    GCP_KEY_URI_RE,
    Problem,
    SpecError,
    SpecProblems,
    is_whole_number,
    key_generations,
    shown,
    suggest_region,
    suggestion,
)

VAULT_KEY_TYPE = "aes256-gcm96"
"""The seed's ``vault write keymgmt/key/crdb-cmek-vault type="aes256-gcm96"``."""
KEY_PURPOSES: tuple[str, ...] = ("encrypt", "decrypt")
"""The seed's ``purpose="encrypt,decrypt"``: the only purposes AWS KMS accepts for this type."""
PROTECTIONS: tuple[str, ...] = ("hsm", "software")
DEFAULT_PROTECTION = "hsm"
"""The seed's ``protection="hsm"`` (also Vault's default)."""
MOUNT_TYPE = "keymgmt"
DEFAULT_MOUNT_PATH = "keymgmt"
DEFAULT_KEY_NAME = "crdb-cmek-vault"
KMS_PROVIDER_TYPE: dict[str, str] = {"AWS": "awskms", "GCP": "gcpckms"}
"""Vault's ``provider`` value for each cloud (fixed by the resource type in the Pulumi provider)."""
DEFAULT_KMS_NAME: dict[str, str] = dict(KMS_PROVIDER_TYPE)
"""Base name of the KMS provider entries: the provider type itself, ``awskms`` / ``gcpckms``."""
CREDENTIAL_SOURCES: tuple[str, ...] = ("config", "vault-server")

AWS_ALIAS_PREFIX = "alias/hashicorp/"
"""Vault's AWS KMS provider names each distributed key's alias ``hashicorp/<kms key name>``
(Vault docs, Key Management / AWS KMS, "Key rotation"); the alias follows key rotations."""

CONFIG_NAMESPACE = "cmek-vault"
"""Stack config namespace of the KMS credentials Vault is given (all secrets)."""
AWS_ACCESS_KEY_CONFIG = "awsAccessKey"
AWS_SECRET_KEY_CONFIG = "awsSecretKey"
GCP_SERVICE_ACCOUNT_FILE_CONFIG = "gcpServiceAccountFile"
CREDENTIAL_CONFIG_KEYS: dict[str, dict[str, str]] = {
    "AWS": {"access_key": AWS_ACCESS_KEY_CONFIG, "secret_key": AWS_SECRET_KEY_CONFIG},
    "GCP": {"service_account_file": GCP_SERVICE_ACCOUNT_FILE_CONFIG},
}
"""Cloud -> Vault credential field -> config key (in :data:`CONFIG_NAMESPACE`)."""
VAULT_TOKEN_CONFIG = "vault:token"
"""The Vault provider's token setting; it must be a secret when set."""

NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
NAME_RULE = "expected letters, digits, '_' and '-' only"
MAX_KEY_NAME = 52
"""Longest Vault key name: the KMS name adds ``-<10-digit timestamp>`` and GCP allows 63."""
MOUNT_PATH_RE = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
MOUNT_PATH_RULE = "expected a path such as 'keymgmt' (letters, digits, '_', '-', inner '/'; no leading or trailing '/')"
NAMESPACE_RE = MOUNT_PATH_RE
NAMESPACE_RULE = "expected a namespace such as 'admin' or 'admin/team' (no leading or trailing '/')"
GCP_KEY_RING_RE = re.compile(
    r"projects/(?P<project>[a-z][a-z0-9.:-]{4,61}[a-z0-9])"
    r"/locations/(?P<location>[a-z0-9-]+)"
    r"/keyRings/(?P<key_ring>[A-Za-z0-9_-]{1,63})"
)
GCP_KEY_RING_FORM = "an existing Cloud KMS key ring (projects/<project>/locations/<location>/keyRings/<ring>)"
AWS_COLLECTION_FORM = "an AWS region such as 'us-east-1'"


@dataclass(frozen=True)
class KmsEntryPlan:
    """One KMS provider entry in Vault: where its keys go and which cluster regions use it."""

    name: str
    """Vault's name of the entry (``keymgmt/kms/<name>``)."""
    key_collection: str
    """AWS region or GCP key ring id."""
    suffix: str
    """AWS region or GCP location: names the entry, its keys and their Pulumi resources."""
    regions: tuple[str, ...]
    """Cluster regions whose keys live here, sorted."""


@dataclass(frozen=True)
class VaultKeyPlan:
    """One Vault key, distributed to one KMS provider entry."""

    name: str
    """Vault's name of the key (``keymgmt/key/<name>``)."""
    kms: KmsEntryPlan
    generation: int
    resource_suffix: str
    """Suffix of its Pulumi resource names: ``<suffix>`` or ``<suffix>-g<n>``."""

    def read_path(self, mount_path: str) -> str:
        """Where ``vault read`` shows the distributed key: ``<mount>/kms/<entry>/key/<key>``."""
        return distribution_path(mount_path, self.kms.name, self.name)


@dataclass(frozen=True)
class VaultPlan:
    """Everything ``vault/resources.py`` declares, decided before any resource exists."""

    cloud: str
    mount_path: str
    manage_mount: bool
    namespace: str | None
    protection: str
    credentials: str
    credentials_version: int
    deletion_allowed: bool
    retain_on_delete: bool
    protect: bool
    kms_entries: tuple[KmsEntryPlan, ...]
    keys: tuple[VaultKeyPlan, ...]
    """Every key of every generation, entries in order, generations ascending."""
    region_keys: dict[str, VaultKeyPlan] = field(default_factory=dict)
    """Cluster region -> the key of its current generation (the one CockroachDB Cloud gets)."""


def distribution_path(mount_path: str, kms_name: str, key_name: str) -> str:
    """``<mount>/kms/<kms_name>/key/<key_name>``: one path to write and to read a distribution."""
    return f"{mount_path.strip('/')}/kms/{kms_name}/key/{key_name}"


def key_name(base: str, suffix: str, generation: int) -> str:
    """``<base>-<suffix>``, with ``-g<n>`` for generation ``n > 1``."""
    if generation < 1:
        raise SpecError("key_generation", "expected an integer of at least 1", generation)
    name = f"{base}-{suffix}"
    return name if generation == 1 else f"{name}-g{generation}"



def _name_problem(field_name: str, value: object, max_length: int | None = None) -> Problem | None:
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        return Problem(field_name, f"{NAME_RULE}, got {shown(value)}")
    if max_length is not None and len(value) > max_length:
        return Problem(field_name, f"expected at most {max_length} characters, got {shown(value)} ({len(value)})")
    return None


def _collection_suffix(cloud: str, field_name: str, collection: object) -> tuple[str | None, Problem | None]:
    if cloud == "AWS":
        if isinstance(collection, str) and AWS_REGION_RE.fullmatch(collection):
            return collection, None
        message = f"expected {AWS_COLLECTION_FORM}, got {shown(collection)}"
        hint = suggest_region("AWS", collection) if isinstance(collection, str) else None
        return None, Problem(field_name, f"{message}{suggestion(hint)}")
    match = GCP_KEY_RING_RE.fullmatch(collection) if isinstance(collection, str) else None
    if match is None:
        return None, Problem(field_name, f"expected {GCP_KEY_RING_FORM}, got {shown(collection)}")
    return match.group("location"), None


def _region_generations(args: Mapping[str, Any], regions: list[str], problems: list[Problem]) -> dict[str, int]:
    """Cluster region -> the generation of its Vault key (``manifest.key_generations``)."""
    generations = key_generations(args, regions)
    problems.extend(generations.problems)
    return {region: generations.of(region) for region in regions}


def plan_vault_keys(cloud: str, regions: list[str], args: Mapping[str, Any]) -> VaultPlan:
    """The plan for ``args["vault"]`` (``ClusterCmekArgs``) on ``cloud`` (``AWS`` or ``GCP``)
    for the cluster ``regions`` (current plus added); raises ``SpecProblems`` listing every problem."""
    problems: list[Problem] = []
    if cloud not in KMS_PROVIDER_TYPE:
        raise SpecError("cloud", "expected 'AWS' or 'GCP' for Vault key material", cloud)
    options = args.get("vault")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise SpecError("vault", "expected an object of Vault key options", options)
    byo_field = "aws" if cloud == "AWS" else "gcp"
    cloud_options = args.get(byo_field) or {}
    if isinstance(cloud_options, Mapping) and cloud_options.get("byo_keys"):
        problems.append(
            Problem("vault", f"cannot be combined with {byo_field}.byo_keys (a region gets either its own key or a Vault key), got both")
        )

    mount_path = options.get("mount_path", DEFAULT_MOUNT_PATH)
    if not isinstance(mount_path, str) or not MOUNT_PATH_RE.fullmatch(mount_path):
        problems.append(Problem("vault.mount_path", f"{MOUNT_PATH_RULE}, got {shown(mount_path)}"))
    namespace = options.get("namespace")
    if namespace is not None and (not isinstance(namespace, str) or not NAMESPACE_RE.fullmatch(namespace)):
        problems.append(Problem("vault.namespace", f"{NAMESPACE_RULE}, got {shown(namespace)}"))
    kms_base = options.get("kms_name", DEFAULT_KMS_NAME[cloud])
    problem = _name_problem("vault.kms_name", kms_base)
    if problem:
        problems.append(problem)
    key_base = options.get("key_name", DEFAULT_KEY_NAME)
    problem = _name_problem("vault.key_name", key_base)
    if problem:
        problems.append(problem)
    protection = options.get("protection", DEFAULT_PROTECTION)
    if protection not in PROTECTIONS:
        problems.append(Problem("vault.protection", f"expected one of {', '.join(PROTECTIONS)}, got {shown(protection)}"))
    credentials = options.get("credentials", "config")
    if credentials not in CREDENTIAL_SOURCES:
        problems.append(Problem("vault.credentials", f"expected one of {', '.join(CREDENTIAL_SOURCES)}, got {shown(credentials)}"))
    credentials_version = options.get("credentials_version", 1)
    if not is_whole_number(credentials_version) or credentials_version < 1:
        problems.append(Problem("vault.credentials_version", f"expected an integer of at least 1, got {shown(credentials_version)}"))
    flags: dict[str, bool] = {}
    for flag, default in (("manage_mount", True), ("deletion_allowed", False), ("retain_on_delete", True), ("protect", False)):
        value = options.get(flag, default)
        if not isinstance(value, bool):
            problems.append(Problem(f"vault.{flag}", f"expected true or false, got {shown(value)}"))
            value = default
        flags[flag] = value

    # Key collection of every region.
    default_collection = options.get("key_collection")
    per_region = options.get("key_collections") or {}
    if not isinstance(per_region, Mapping):
        problems.append(Problem("vault.key_collections", f"expected a mapping of cluster region -> key collection, got {shown(per_region)}"))
        per_region = {}
    for region in per_region:
        if region not in regions:
            problems.append(
                Problem(f"vault.key_collections[{shown(region)}]", f"expected one of the cluster regions {sorted(regions)}, got {shown(region)}")
            )
    collections: dict[str, str] = {}
    suffix_of: dict[str, str] = {}
    for region in sorted(regions):
        if region in per_region:
            field_name, collection = f"vault.key_collections[{shown(region)}]", per_region[region]
        elif default_collection is not None:
            field_name, collection = "vault.key_collection", default_collection
        elif cloud == "AWS":
            field_name, collection = "regions", region
        else:
            problems.append(
                Problem(
                    f"vault.key_collections[{shown(region)}]",
                    f"expected {GCP_KEY_RING_FORM} for every cluster region (or vault.key_collection for all), got None",
                )
            )
            continue
        suffix, problem = _collection_suffix(cloud, field_name, collection)
        if problem:
            if problem not in problems:
                problems.append(problem)
            continue
        assert suffix is not None and isinstance(collection, str)
        collections[region] = collection
        suffix_of[collection] = suffix
    by_suffix: dict[str, str] = {}
    for collection, suffix in sorted(suffix_of.items()):
        if suffix in by_suffix:
            problems.append(
                Problem(
                    "vault.key_collections",
                    f"expected one key ring per location (entries and keys are named after the location), "
                    f"got {shown(by_suffix[suffix])} and {shown(collection)}",
                )
            )
        by_suffix[suffix] = collection

    generations = _region_generations(args, regions, problems)
    if problems:
        raise SpecProblems(problems)

    entries: list[KmsEntryPlan] = []
    keys: list[VaultKeyPlan] = []
    region_keys: dict[str, VaultKeyPlan] = {}
    for collection in sorted(set(collections.values()), key=lambda c: suffix_of[c]):
        suffix = suffix_of[collection]
        entry_regions = tuple(sorted(r for r, c in collections.items() if c == collection))
        entry = KmsEntryPlan(name=f"{kms_base}-{suffix}", key_collection=collection, suffix=suffix, regions=entry_regions)
        entries.append(entry)
        by_generation: dict[int, VaultKeyPlan] = {}
        for generation in range(1, max(generations[r] for r in entry_regions) + 1):
            name = key_name(str(key_base), suffix, generation)
            if len(name) > MAX_KEY_NAME:
                problems.append(
                    Problem(
                        "vault.key_name",
                        f"expected the key name {shown(name)} to have at most {MAX_KEY_NAME} characters "
                        f"(the KMS adds '-<timestamp>'), got {shown(key_base)}",
                    )
                )
                break
            resource_suffix = suffix if generation == 1 else f"{suffix}-g{generation}"
            by_generation[generation] = VaultKeyPlan(name=name, kms=entry, generation=generation, resource_suffix=resource_suffix)
            keys.append(by_generation[generation])
        for region in entry_regions:
            if generations[region] in by_generation:
                region_keys[region] = by_generation[generations[region]]
    if problems:
        raise SpecProblems(problems)
    return VaultPlan(
        cloud=cloud,
        mount_path=str(mount_path),
        manage_mount=flags["manage_mount"],
        namespace=namespace,
        protection=str(protection),
        credentials=str(credentials),
        credentials_version=int(credentials_version),
        deletion_allowed=flags["deletion_allowed"],
        retain_on_delete=flags["retain_on_delete"],
        protect=flags["protect"],
        kms_entries=tuple(entries),
        keys=tuple(keys),
        region_keys=region_keys,
    )


# --------------------------------------------------------------------------------------------
# Reading the distributed key back
# --------------------------------------------------------------------------------------------


def kms_key_name(data_json: str, read_path: str) -> str:
    """The key's name in the KMS from ``vault read <read_path>`` data (``{"name": ..., "versions":
    ...}``), e.g. ``crdb-cmek-vault-us-east-1-1700000000``."""
    field_name = f"vault read {read_path}"
    try:
        data = json.loads(data_json)
    except (TypeError, ValueError):
        raise SpecError(field_name, "expected the JSON data of a distributed key", data_json) from None
    name = data.get("name") if isinstance(data, Mapping) else None
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise SpecError(f"{field_name}: data.name", "expected the key's name in the KMS (such as 'crdb-cmek-vault-<suffix>')", name)
    return name


def aws_alias_name(kms_name: str) -> str:
    """The alias Vault gives the distributed AWS key: ``alias/hashicorp/<kms key name>``."""
    return f"{AWS_ALIAS_PREFIX}{kms_name}"


def aws_key_arn(arn: object, alias: str, region: str) -> str:
    """The key ARN the alias points at, checked (a key ARN in ``region``, the KMS entry's
    ``key_collection``): what CockroachDB Cloud needs as ``uri``."""
    field_name = f"aws.kms.get_alias({shown(alias)}, region={shown(region)}).target_key_arn"
    match = AWS_KEY_ARN_RE.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise SpecError(field_name, f"expected {AWS_KEY_ARN_FORM}", arn)
    if match.group("region") != region:
        raise SpecError(field_name, f"expected a key in {region} (the Vault KMS entry's key_collection)", arn)
    return str(arn)


def gcp_key_uri(key_collection: str, kms_name: str) -> str:
    """``<key ring>/cryptoKeys/<kms key name>``: the crypto key CockroachDB Cloud gets as ``uri``."""
    uri = f"{key_collection}/cryptoKeys/{kms_name}"
    if not GCP_KEY_URI_RE.fullmatch(uri):
        raise SpecError("vault GCP key uri", f"expected {GCP_KEY_URI_FORM}", uri)
    return uri


def config_key(name: str) -> str:
    """``cmek-vault:<name>``."""
    return f"{CONFIG_NAMESPACE}:{name}"


def missing_credential_problems(
    cloud: str, options: object, is_set: Callable[[str], bool], who: str = ""
) -> list[Problem]:
    """The KMS credentials ``vault.credentials: config`` (the default) needs and the stack lacks:
    one problem per missing ``cmek-vault:*`` key of ``cloud``, named by that key. ``is_set``
    tells whether a full config key is set; ``who`` names the cluster that needs it
    (``cmek:clusters[0]``). Checked with every other problem, before anything is declared."""
    if not isinstance(options, Mapping) or options.get("credentials", "config") != "config":
        return []
    by = f" by {who}" if who else ""
    problems = []
    for key in CREDENTIAL_CONFIG_KEYS.get(cloud, {}).values():
        full = config_key(key)
        if not is_set(full):
            problems.append(
                Problem(
                    full,
                    f"required{by} when vault.credentials is 'config' (the default): run "
                    f"`pulumi config set --secret {full} <value>`, or set vault.credentials to "
                    "'vault-server' to let Vault use its own environment; got no value",
                )
            )
    return problems


def plaintext_secret_problems(configured: Mapping[str, bool]) -> list[Problem]:
    """Problems for config keys that are set but not secret: ``configured`` maps a full config key
    (``vault:token``, ``cmek-vault:awsSecretKey``) that is set to whether it is a secret."""
    return [
        Problem(key, f"must be a secret (run `pulumi config set --secret {key} <value>`), got a plain-text value")
        for key, is_secret in configured.items()
        if not is_secret
    ]
