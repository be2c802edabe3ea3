"""The plan of what ``vault/resources.py`` declares: pure logic, no Pulumi.

:func:`plan_vault_keys` checks ``ClusterCmekArgs["vault"]`` against Vault's and the cloud's rules
(:mod:`cmek_component.vault.rules`) and turns it into a :class:`VaultPlan`: one KMS provider entry
per key collection, the Vault keys of every generation, and which key serves each cluster region.
It reports every problem at once (:class:`~cmek_component.manifest.problems.SpecProblems`), each
naming the field, the rule and the value::

    vault.key_collections['us-east1']: expected an existing Cloud KMS key ring
    (projects/<project>/locations/<location>/keyRings/<ring>), got 'my-ring'

:func:`vault_key_problems` is the same check as the AWS and GCP plans run it: the Vault plan's
problems, plus the cloud's key options that mean nothing when Vault makes the keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cmek_component.manifest.generations import key_generations
from cmek_component.manifest.option_checks import (
    choice_problem,
    flag_values,
    pattern_problem,
    problems_found,
    spec_error_problem,
    whole_number_problem,
)
from cmek_component.manifest.problems import Problem, SpecError, SpecProblems, shown
from cmek_component.vault.rules import (
    CREDENTIAL_SOURCES,
    DEFAULT_KEY_NAME,
    DEFAULT_KMS_NAME,
    DEFAULT_MOUNT_PATH,
    DEFAULT_PROTECTION,
    GCP_KEY_RING_FORM,
    KMS_PROVIDER_TYPE,
    MAX_KEY_NAME,
    MOUNT_PATH_RE,
    MOUNT_PATH_RULE,
    NAMESPACE_RE,
    NAMESPACE_RULE,
    PROTECTIONS,
    collection_suffix,
    distribution_path,
    key_name,
    name_problem,
)


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
    namespace = options.get("namespace")
    kms_base = options.get("kms_name", DEFAULT_KMS_NAME[cloud])
    key_base = options.get("key_name", DEFAULT_KEY_NAME)
    protection = options.get("protection", DEFAULT_PROTECTION)
    credentials = options.get("credentials", "config")
    credentials_version = options.get("credentials_version", 1)
    problems.extend(problems_found(
        pattern_problem("vault.mount_path", mount_path, MOUNT_PATH_RE, MOUNT_PATH_RULE),
        None if namespace is None else pattern_problem("vault.namespace", namespace, NAMESPACE_RE, NAMESPACE_RULE),
        name_problem("vault.kms_name", kms_base),
        name_problem("vault.key_name", key_base),
        choice_problem("vault.protection", protection, PROTECTIONS),
        choice_problem("vault.credentials", credentials, CREDENTIAL_SOURCES),
        whole_number_problem("vault.credentials_version", credentials_version, "expected an integer of at least 1", 1),
    ))
    defaults = {"manage_mount": True, "deletion_allowed": False, "retain_on_delete": True, "protect": False}
    flags = flag_values("vault", options, defaults, problems)

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
        suffix, problem = collection_suffix(cloud, field_name, collection)
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


def vault_key_problems(cloud: str, regions: Sequence[str], args: Mapping[str, Any], ignored: Iterable[str]) -> list[Problem]:
    """Every problem of ``args["vault"]`` for a ``cloud`` (``AWS`` or ``GCP``) plan: those of
    :func:`plan_vault_keys`, then one per option of ``ignored`` set in ``args[<cloud>]`` (the
    cloud's key options that have no effect when Vault makes the keys)."""
    problems: list[Problem] = []
    try:
        plan_vault_keys(cloud, list(regions), args)
    except SpecProblems as error:
        problems.extend(error.problems)
    except SpecError as error:
        problems.append(spec_error_problem(error))
    section = cloud.lower()
    options = args.get(section) or {}
    for option in ignored:
        if option in options:
            problems.append(
                Problem(f"{section}.{option}", f"has no effect with vault (Vault makes the keys), got {shown(options[option])}")
            )
    return problems
