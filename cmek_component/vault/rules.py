"""Vault ``keymgmt`` naming rules: names, paths and the values read back, pure logic, no Pulumi.

The plan of what ``vault/resources.py`` declares is :mod:`cmek_component.vault.plan`; this module
holds the rules it and the resources share.

Naming (stable across runs, so adding a region or a generation never renames, and so never
replaces, an existing entry or key):

- a *key collection* is where the KMS keeps keys: an AWS region, or a GCP key ring
  ``projects/<p>/locations/<l>/keyRings/<r>``. Its *suffix* is the AWS region or the GCP
  location (:func:`collection_suffix`);
- one KMS provider entry per collection, ``<kms_name>-<suffix>`` (``kms_name`` default
  ``awskms`` / ``gcpckms``). The same name is used to create the entry, to distribute the key
  and to read the key back: the seed's GCP commands create ``keymgmt/kms/gcpckms`` but import
  into ``keymgmt/kms/gcpkms/...``; here both come from the one entry;
- one Vault key per collection and generation, ``<key_name>-<suffix>`` (``key_name`` default
  ``crdb-cmek-vault``), ``-g<n>`` from generation 2 (:func:`key_name`). Generations ``1..n`` all
  stay declared: data written with an old key still needs it and its grant;
- Vault names the key in the KMS ``<vault key name>-<unix timestamp>`` (the seed's
  ``crdb-cmek-vault-{RANDOM_SUFFIX}``); :func:`kms_key_name` reads it from ``vault read``.

The KMS credentials Vault is given live in the stack config namespace :data:`CONFIG_NAMESPACE`
(:func:`missing_credential_problems`, :func:`plaintext_secret_problems`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from cmek_component.manifest.identifiers import (
    AWS_KEY_ARN_FORM,
    AWS_KEY_ARN_RE,
    AWS_REGION_RE,
    GCP_KEY_URI_FORM,
    GCP_KEY_URI_RE,
    suggest_region,
)
from cmek_component.manifest.problems import Problem, SpecError, shown, suggestion

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


def distribution_path(mount_path: str, kms_name: str, key_name: str) -> str:
    """``<mount>/kms/<kms_name>/key/<key_name>``: one path to write and to read a distribution."""
    return f"{mount_path.strip('/')}/kms/{kms_name}/key/{key_name}"


def key_name(base: str, suffix: str, generation: int) -> str:
    """``<base>-<suffix>``, with ``-g<n>`` for generation ``n > 1``."""
    if generation < 1:
        raise SpecError("key_generation", "expected an integer of at least 1", generation)
    name = f"{base}-{suffix}"
    return name if generation == 1 else f"{name}-g{generation}"


def name_problem(field_name: str, value: object, max_length: int | None = None) -> Problem | None:
    """Checks a Vault name (KMS entry, key): letters, digits, ``_`` and ``-``, at most ``max_length``."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        return Problem(field_name, f"{NAME_RULE}, got {shown(value)}")
    if max_length is not None and len(value) > max_length:
        return Problem(field_name, f"expected at most {max_length} characters, got {shown(value)} ({len(value)})")
    return None


def collection_suffix(cloud: str, field_name: str, collection: object) -> tuple[str | None, Problem | None]:
    """The suffix of a key collection (the AWS region, or the GCP key ring's location), or the
    problem with it."""
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
