"""What the AWS children of ``ClusterCmek`` will be, in plain values: pure logic, no Pulumi import.

:func:`plan_aws_keys` checks every AWS option (``aws.*``, the trust policy's inputs, key
generations, ``aws.byo_keys``, and with ``vault`` the Vault plan) and turns the arguments into an
:class:`AwsPlan`: the role's options, every KMS key and replica of every generation with its
alias, which key serves each cluster region, and the key ARNs brought with ``aws.byo_keys``. It
reports every problem at once (``SpecProblems``), each naming the field, the rule and the value,
before a single resource is declared. :mod:`cmek_component.aws.resources` declares the plan.

Names (``<name>`` is the component's name, ``[-g<n>]`` added for key generation ``n > 1``):
``<name>-key[-g<n>]`` (``multi-region`` and ``single``), ``<name>-replica-<region>[-g<n>]``,
``<name>-key-<region>[-g<n>]`` (``per-region``) and ``<name>-alias-<region>[-g<n>]``; they depend
on the region and generation alone, so adding a region or a generation never renames a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cmek_component.aws import policies
from cmek_component.component.args import AwsKeyOptions, ClusterCmekArgs
from cmek_component.component.cloud_keys import ClusterFacts
from cmek_component.manifest.generations import key_generations
from cmek_component.manifest.identifiers import AWS_KEY_ARN_FORM, AWS_KEY_ARN_RE
from cmek_component.manifest.option_checks import (
    choice_problem,
    flag_values,
    spec_error_problem,
    whole_number_problem,
)
from cmek_component.manifest.problems import Problem, SpecError, SpecProblems, shown, shown_names

KEY_MODES: tuple[str, ...] = ("multi-region", "per-region", "single")
DEFAULT_KEY_MODE = "multi-region"
DEFAULT_DELETION_WINDOW_IN_DAYS = 30
AWS_OPTION_NAMES: tuple[str, ...] = tuple(AwsKeyOptions.__annotations__)
VAULT_IGNORED_OPTIONS: tuple[str, ...] = ("key_mode", "primary_region", "alias", "attach_key_policy")
"""AWS key options that mean nothing when Vault makes the keys (``vault.*`` has its own)."""

_ROLE_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")
_POLICY_ARN_PREFIXES = ("arn:aws:iam::", "arn:aws-cn:iam::", "arn:aws-us-gov:iam::")


@dataclass(frozen=True)
class PlannedKey:
    """One KMS key or replica the component declares."""

    resource_name: str
    """Pulumi name, such as ``prod-cmek-replica-us-west-2-g2``."""
    kind: Literal["key", "replica"]
    region: str
    """AWS region the key or replica lives in."""
    generation: int
    multi_region: bool
    alias: str
    """KMS alias name in ``region``."""
    alias_resource_name: str
    primary: str | None = None
    """Replicas: ``resource_name`` of their primary key."""


@dataclass(frozen=True)
class AwsPlan:
    """Everything ``declare_aws`` declares, in plain values (valid by construction)."""

    cluster_id: str
    account_id: str
    organization_id: str
    key_mode: str
    """``multi-region``, ``per-region``, ``single``, ``byo`` (``aws.byo_keys``) or ``vault``
    (key material from Vault's ``keymgmt`` engine, :mod:`cmek_component.vault.resources`)."""
    primary_region: str
    keys: list[PlannedKey] = field(default_factory=list)
    serving: dict[str, str] = field(default_factory=dict)
    """Cluster region -> ``resource_name`` of the key or replica it uses now (managed keys)."""
    byo_keys: dict[str, str] = field(default_factory=dict)
    """Cluster region -> key ARN (bring your own key)."""
    attach_key_policy: bool = False
    admin_principals: list[str] | None = None
    """``None``: the deploying account's root, from ``aws.get_caller_identity``."""
    role_name: str | None = None
    role_path: str | None = None
    permissions_boundary: str | None = None
    tags: dict[str, str] | None = None
    enable_key_rotation: bool = True
    deletion_window_in_days: int = DEFAULT_DELETION_WINDOW_IN_DAYS
    retain_on_delete: bool = True
    protect: bool = False
    cut_key_access: bool = False

    @property
    def aliases(self) -> list[str]:
        """Every alias name the component manages, oldest generation first."""
        names: list[str] = []
        for key in self.keys:
            if key.alias not in names:
                names.append(key.alias)
        return names


def _gen(generation: int) -> str:
    return "" if generation == 1 else f"-g{generation}"


def _role_problems(options: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    role_name = options.get("role_name")
    if role_name is not None and (
        not isinstance(role_name, str)
        or not 1 <= len(role_name) <= 64
        or not set(role_name) <= _ROLE_NAME_CHARS
    ):
        problems.append(
            Problem("aws.role_name", f"expected 1-64 characters of a-zA-Z0-9+=,.@_-, got {shown(role_name)}")
        )
    role_path = options.get("role_path")
    if role_path is not None and (
        not isinstance(role_path, str)
        or not role_path.startswith("/")
        or not role_path.endswith("/")
        or len(role_path) > 512
        or "//" in role_path
        or any(not 0x21 <= ord(c) <= 0x7E for c in role_path)
    ):
        problems.append(
            Problem("aws.role_path", f"expected '/' or '/<segments>/' (at most 512 characters), got {shown(role_path)}")
        )
    boundary = options.get("permissions_boundary")
    if boundary is not None and (
        not isinstance(boundary, str) or not boundary.startswith(_POLICY_ARN_PREFIXES) or ":policy/" not in boundary
    ):
        problems.append(
            Problem(
                "aws.permissions_boundary",
                f"expected a managed policy ARN (arn:aws:iam::<account or aws>:policy/<name>), got {shown(boundary)}",
            )
        )
    tags = options.get("tags")
    if tags is not None and (
        not isinstance(tags, Mapping)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items())
    ):
        problems.append(Problem("aws.tags", f"expected a mapping of tag name -> string value, got {shown(tags)}"))
    return problems


def plan_aws_keys(name: str, facts: ClusterFacts, args: ClusterCmekArgs) -> AwsPlan:
    """Validates the AWS arguments and returns what to declare; raises ``SpecProblems`` listing
    every problem (field, rule, value) before a single resource is declared.

    ``facts.regions`` are every cluster region (current plus added), the first one the default
    primary region; ``facts.account_id`` and ``facts.organization_id`` make the trust policy.
    """
    raw_options: object = args.get("aws") or {}
    if not isinstance(raw_options, Mapping):
        raise SpecProblems([Problem("aws", f"expected a mapping of AWS options, got {shown(raw_options)}")])
    options: Mapping[str, Any] = raw_options
    problems: list[Problem] = []
    for key in options:
        if key not in AWS_OPTION_NAMES:
            problems.append(
                Problem(f"aws.{key}", f"expected one of the AWS options ({', '.join(AWS_OPTION_NAMES)}), got {shown(key)}")
            )
    regions = list(facts.regions)
    uses_vault = args.get("vault") is not None
    if not regions:
        problems.append(Problem("regions", "expected at least one cluster region, got []"))

    # Identity: the trust policy's inputs and the role's own options.
    try:
        policies.trust_policy(facts.account_id, facts.organization_id)
    except SpecError as error:
        problems.append(spec_error_problem(error))
    problems.extend(_role_problems(options))

    admin_principals: list[str] | None = None
    if "admin_principals" in options:
        try:
            admin_principals = policies.validate_admin_principals(options["admin_principals"])
        except SpecError as error:
            problems.append(spec_error_problem(error))

    defaults = {
        "enable_key_rotation": True,
        "retain_on_delete": True,
        "protect": False,
        "attach_key_policy": False,
        "cut_key_access": False,
    }
    flags = flag_values("aws", options, defaults, problems)
    attach_key_policy, cut_key_access = flags["attach_key_policy"], flags["cut_key_access"]
    window = options.get("deletion_window_in_days", DEFAULT_DELETION_WINDOW_IN_DAYS)
    problem = whole_number_problem("aws.deletion_window_in_days", window, "expected a whole number from 7 to 30", 7, 30)
    if problem:
        problems.append(problem)

    key_mode = options.get("key_mode", DEFAULT_KEY_MODE)
    problem = choice_problem("aws.key_mode", key_mode, KEY_MODES)
    if problem:
        problems.append(problem)
        key_mode = DEFAULT_KEY_MODE

    primary_region = options.get("primary_region", regions[0] if regions else "")
    if "primary_region" in options and primary_region not in regions:
        problems.append(
            Problem("aws.primary_region", f"expected one of the cluster regions ({shown_names(regions)}), got {shown(primary_region)}")
        )

    # Generations (with Vault, the Vault plan checks them).
    generations = key_generations(args, regions)
    generation, per_region = generations.base, generations.overrides
    per_region_raw = generations.raw_overrides
    if not uses_vault:
        problems.extend(generations.problems)
        if per_region_raw and key_mode != "per-region" and "byo_keys" not in options:
            problems.append(
                Problem(
                    "region_key_generations",
                    f"only applies with aws.key_mode 'per-region' (a {key_mode} key serves several "
                    f"regions; raise key_generation instead), got {shown(dict(per_region_raw))}",
                )
            )

    alias_base = options.get("alias", policies.default_alias(facts.cluster_id))
    try:
        policies.validate_alias(alias_base, "aws.alias")
        newest = max([generation, *per_region.values()])
        try:
            policies.alias_name(alias_base, newest)
        except SpecError as error:
            problems.append(
                Problem("aws.alias", f"{error.rule} with the suffix of generation {newest}, got {shown(alias_base)}")
            )
    except SpecError as error:
        problems.append(spec_error_problem(error))

    # Key material from Vault: the Vault plan checks its own options, generations and byo_keys.
    if uses_vault:
        from cmek_component.vault.plan import vault_key_problems

        problems.extend(vault_key_problems("AWS", regions, args, VAULT_IGNORED_OPTIONS))

    # Bring your own keys.
    byo: dict[str, str] = {}
    byo_raw = None if uses_vault else options.get("byo_keys")
    if byo_raw is not None:
        if not isinstance(byo_raw, Mapping):
            problems.append(Problem("aws.byo_keys", f"expected a mapping of cluster region -> KMS key ARN, got {shown(byo_raw)}"))
        else:
            missing = [r for r in regions if r not in byo_raw]
            if missing:
                problems.append(
                    Problem(
                        "aws.byo_keys",
                        f"expected a key ARN for every cluster region ({shown_names(regions)}); "
                        f"missing {shown_names(missing)}, got {shown(dict(byo_raw))}",
                    )
                )
            for region, arn in byo_raw.items():
                where = f"aws.byo_keys.{region}"
                if region not in regions:
                    problems.append(Problem(where, f"expected a cluster region as key ({shown_names(regions)}), got {shown(region)}"))
                elif not isinstance(arn, str) or not AWS_KEY_ARN_RE.fullmatch(arn):
                    problems.append(Problem(where, f"expected {AWS_KEY_ARN_FORM}, got {shown(arn)}"))
                else:
                    byo[region] = arn
        for option in ("key_mode", "primary_region", "alias"):
            if option in options:
                problems.append(
                    Problem(f"aws.{option}", f"has no effect with aws.byo_keys (no key is created), got {shown(options[option])}")
                )
        if generation != 1 or per_region_raw:
            field_name = "key_generation" if generation != 1 else "region_key_generations"
            value = generation if generation != 1 else per_region_raw
            problems.append(
                Problem(
                    field_name,
                    f"has no effect with aws.byo_keys: rotate by changing the key ARNs, got {shown(value)}",
                )
            )
        if cut_key_access and not attach_key_policy:
            problems.append(
                Problem(
                    "aws.cut_key_access",
                    "with aws.byo_keys only applies with aws.attach_key_policy (otherwise remove the "
                    "role's statement from your key policies yourself), got True",
                )
            )
    elif attach_key_policy and not uses_vault:
        problems.append(
            Problem(
                "aws.attach_key_policy",
                "only applies with aws.byo_keys (keys the component creates always carry the policy), got True",
            )
        )

    if problems:
        raise SpecProblems(problems)

    tags = dict(options["tags"]) if options.get("tags") else None
    common: dict[str, Any] = {
        "cluster_id": facts.cluster_id,
        "account_id": facts.account_id,
        "organization_id": facts.organization_id,
        "admin_principals": admin_principals,
        "role_name": options.get("role_name"),
        "role_path": options.get("role_path"),
        "permissions_boundary": options.get("permissions_boundary"),
        "tags": tags,
        "enable_key_rotation": flags["enable_key_rotation"],
        "deletion_window_in_days": window,
        "retain_on_delete": flags["retain_on_delete"],
        "protect": flags["protect"],
        "cut_key_access": cut_key_access,
    }
    if uses_vault:
        return AwsPlan(key_mode="vault", primary_region=regions[0], **common)
    if byo_raw is not None:
        return AwsPlan(
            key_mode="byo",
            primary_region=regions[0],
            byo_keys=dict(sorted(byo.items())),
            attach_key_policy=attach_key_policy,
            **common,
        )

    keys: list[PlannedKey] = []
    serving: dict[str, str] = {}

    def add(kind: Literal["key", "replica"], resource: str, region: str, gen: int, primary: str | None = None) -> None:
        keys.append(
            PlannedKey(
                resource_name=resource,
                kind=kind,
                region=region,
                generation=gen,
                multi_region=key_mode == "multi-region",
                alias=policies.alias_name(alias_base, gen),
                alias_resource_name=f"{name}-alias-{region}{_gen(gen)}",
                primary=primary,
            )
        )

    if key_mode == "per-region":
        for region in regions:
            current = per_region.get(region, generation)
            for gen in range(1, current + 1):
                add("key", f"{name}-key-{region}{_gen(gen)}", region, gen)
            serving[region] = f"{name}-key-{region}{_gen(current)}"
    else:
        others = [r for r in regions if r != primary_region] if key_mode == "multi-region" else []
        for gen in range(1, generation + 1):
            primary = f"{name}-key{_gen(gen)}"
            add("key", primary, primary_region, gen)
            for region in others:
                add("replica", f"{name}-replica-{region}{_gen(gen)}", region, gen, primary)
        for region in regions:
            serving[region] = (
                f"{name}-replica-{region}{_gen(generation)}" if region in others else f"{name}-key{_gen(generation)}"
            )
    return AwsPlan(key_mode=str(key_mode), primary_region=str(primary_region), keys=keys, serving=serving, **common)
