"""What ``ClusterCmek`` checks before it declares anything, as plain values (no Pulumi).

- :func:`argument_problems`: the cloud-independent arguments (the rules of ``ClusterCmekArgs``
  that need no cluster facts; the Pulumi ``Output`` check is :func:`~cmek_component.component.cluster_facts.validate_args`'s);
- :func:`region_problems`: the cluster's regions against its cloud, once the cloud is known;
- :func:`vault_config_problems`: the stack configuration Vault key material needs.

Each returns ``Problem`` s (field, rule and value in each message); the caller raises them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cmek_component.activation.inputs import TIMEOUT_LIMITS, timeout_problem
from cmek_component.component.args import ActivationOptions, ClusterCmekArgs
from cmek_component.manifest.generations import generation_problem, is_whole_number
from cmek_component.manifest.identifiers import cluster_id_problem, region_problem
from cmek_component.manifest.problems import Problem, shown

CLOUDS = ("AWS", "GCP")
MIN_REGION_NODES = 3
ARG_NAMES: tuple[str, ...] = tuple(ClusterCmekArgs.__annotations__)
ACTIVATION_OPTION_NAMES: tuple[str, ...] = tuple(ActivationOptions.__annotations__)


def _non_empty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _given_mapping(args: Mapping[str, Any], name: str, what: str, problems: list[Problem]) -> Mapping[Any, Any]:
    """The optional mapping argument ``name`` (``{}`` when absent); a problem when it is not a mapping."""
    value = args.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(Problem(name, f"expected a mapping of {what}, got {shown(value)}"))
        return {}
    return value


def unknown_argument_problems(args: Mapping[str, Any]) -> list[Problem]:
    """An argument name that is not one of ``ClusterCmekArgs``."""
    return [
        Problem(str(key), f"expected one of the arguments ({', '.join(ARG_NAMES)}), got {shown(key)}")
        for key in args
        if key not in ARG_NAMES
    ]


def argument_problems(args: Mapping[str, Any]) -> list[Problem]:
    """Problems with the cloud-independent arguments, plain values (no ``Output`` among them).

    Cloud-specific options (``aws``, ``gcp``) are checked by the cloud module; rules that depend
    on the previous state (``revoke`` together with another change) by the activation.
    """
    problems = unknown_argument_problems(args)
    problem = cluster_id_problem("cluster_id", args.get("cluster_id"))
    if problem:
        problems.append(problem)
    cloud = args.get("cloud")
    if "cloud" in args and cloud not in CLOUDS:
        problems.append(
            Problem("cloud", f"expected 'AWS' or 'GCP' (CMEK on Azure is not supported here), got {shown(cloud)}")
        )
    regions = args.get("regions")
    if "regions" in args:
        if not isinstance(regions, list) or not regions:
            problems.append(Problem("regions", f"expected a non-empty list of the cluster's region names, got {shown(regions)}"))
        else:
            seen: set[str] = set()
            for index, region in enumerate(regions):
                if not _non_empty_str(region):
                    problems.append(Problem(f"regions[{index}]", f"expected a region name, got {shown(region)}"))
                elif region in seen:
                    problems.append(Problem(f"regions[{index}]", f"expected each region once, got {shown(region)} twice"))
                else:
                    seen.add(region)
    for name in ("account_id", "organization_id"):
        if name in args and not _non_empty_str(args.get(name)):
            problems.append(Problem(name, f"expected a non-empty string (or leave it out to read it from the Cloud API), got {shown(args.get(name))}"))
    for region, nodes in _given_mapping(args, "add_regions", "region -> node count", problems).items():
        if not _non_empty_str(region):
            problems.append(Problem("add_regions", f"expected region names as keys, got {shown(region)}"))
        elif not is_whole_number(nodes) or nodes < MIN_REGION_NODES:
            problems.append(
                Problem(f"add_regions.{region}", f"expected a node count of at least {MIN_REGION_NODES}, got {shown(nodes)}")
            )
    problem = generation_problem("key_generation", args.get("key_generation", 1))
    if problem:
        problems.append(problem)
    _given_mapping(args, "region_key_generations", "cluster region -> generation", problems)
    trigger = args.get("rotation_trigger", "")
    if not isinstance(trigger, str):
        problems.append(Problem("rotation_trigger", f"expected a string (change it to re-wrap every region), got {shown(trigger)}"))
    revoke = args.get("revoke", False)
    if not isinstance(revoke, bool):
        problems.append(Problem("revoke", f"expected true or false, got {shown(revoke)}"))
    for key, value in _given_mapping(args, "activation", "wait limits", problems).items():
        if key not in ACTIVATION_OPTION_NAMES:
            problems.append(
                Problem(f"activation.{key}", f"expected one of {', '.join(ACTIVATION_OPTION_NAMES)}, got {shown(key)}")
            )
        elif key in TIMEOUT_LIMITS and (not is_whole_number(value) or timeout_problem(key, value)):
            problems.append(
                Problem(
                    f"activation.{key}",
                    f"expected a whole number of seconds from 1 to {TIMEOUT_LIMITS[key]}, got {shown(value)}",
                )
            )
    for name in ("aws", "gcp"):
        _given_mapping(args, name, f"{name.upper()} options", problems)
    return problems


def region_problems(cloud: str, regions: Sequence[str], add_regions: Mapping[str, int], explicit: bool) -> list[Problem]:
    """Each cluster region and each region being added that is not a region name of ``cloud``;
    ``explicit``: the regions came from the arguments (else from the Cloud API, said so in the field)."""
    problems: list[Problem] = []
    for index, region in enumerate(regions):
        where = f"regions[{index}]" if explicit else f"regions (from the Cloud API)[{index}]"
        problem = region_problem(cloud, where, region)
        if problem:
            problems.append(problem)
    for region in add_regions:
        problem = region_problem(cloud, f"add_regions.{region}", region)
        if problem:
            problems.append(problem)
    return problems


def vault_config_problems(
    cloud: str, args: Mapping[str, Any], get: Callable[[str], object], who: str = ""
) -> list[Problem]:
    """Stack configuration that Vault key material needs, checked before anything is declared:
    the ``cmek-vault:*`` KMS credentials when ``vault.credentials`` is ``config`` (the default).
    ``get`` reads a full config key (in a program: ``pulumi.runtime.get_config``); ``who`` names
    the cluster in the message."""
    from cmek_component.vault import rules as vault_rules

    return vault_rules.missing_credential_problems(cloud, args.get("vault"), lambda key: get(key) is not None, who)
