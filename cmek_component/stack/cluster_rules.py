"""Rules between keys, once each value has its type: within one cluster, and across the clusters
of a stack.

Within a cluster (:func:`check_cluster`): account ids in the cloud's form, regions unique and in
the cloud's spelling, region-keyed maps (:data:`~cmek_component.stack.value_rules.REGION_KEYED`)
naming cluster regions, options that only go together. :func:`merge_defaults` puts the
stack-wide ``cmek:aws`` / ``cmek:gcp`` options under a cluster's own. Across clusters
(:func:`check_across_clusters`): cluster ids, resource names and explicitly named cloud
resources are unique in the stack. Problems go to the :class:`~cmek_component.stack.checker.Checker`.
Pure: no Pulumi import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.manifest.identifiers import AWS_ACCOUNT_RE, region_problem
from cmek_component.manifest.problems import shown, shown_names
from cmek_component.stack.checker import Checker, entry_path
from cmek_component.stack.keys import NAME
from cmek_component.stack.value_rules import GCP_PROJECT_RE, REGION_KEYED


def merge_defaults(checker: Checker, cluster: dict[str, Any], defaults: Mapping[str, dict[str, Any]], path: str) -> list[str]:
    """Puts the stack-wide ``aws``/``gcp`` options under the cluster's own; rejects options for
    the other cloud when ``cloud`` is given. Returns the options taken from the stack-wide
    defaults (``aws.key_mode`` ...; ``tags`` only when the cluster has none of its own)."""
    taken: list[str] = []
    cloud = cluster.get("cloud")
    for cloud_key, cloud_name in (("aws", "AWS"), ("gcp", "GCP")):
        if cloud is not None and cloud != cloud_name:
            if cloud_key in cluster:
                checker.add(
                    f"{path}.{cloud_key}",
                    f"{cloud_name} options given for a {cloud} cluster (cloud: {cloud}); remove them",
                )
                del cluster[cloud_key]
            continue
        stack_options = defaults.get(cloud_key)
        if not stack_options:
            continue
        merged = dict(stack_options)
        own_options = cluster.get(cloud_key, {})
        taken += [f"{cloud_key}.{key}" for key in stack_options if key not in own_options]
        for key, value in own_options.items():
            if key == "tags" and isinstance(merged.get("tags"), dict):
                merged["tags"] = {**merged["tags"], **value}
            else:
                merged[key] = value
        cluster[cloud_key] = merged
    return taken


def _check_region_names(checker: Checker, cloud: str | None, named: Iterable[tuple[str, str]]) -> None:
    """Region names in ``cloud``'s spelling; ``named`` holds ``(key path, region)`` pairs."""
    if cloud is None:
        return
    for path, region in named:
        problem = region_problem(cloud, path, region)
        if problem:
            checker.problems.append(problem)


def check_cluster(checker: Checker, cluster: dict[str, Any], path: str) -> None:
    """Rules between the keys of one cluster (types are already checked)."""
    cloud: str | None = cluster.get("cloud")
    regions: list[str] | None = cluster.get("regions")
    add_regions: dict[str, int] = cluster.get("add_regions", {})
    aws: dict[str, Any] = cluster.get("aws", {})
    gcp: dict[str, Any] = cluster.get("gcp", {})
    vault: dict[str, Any] | None = cluster.get("vault")

    account_id = cluster.get("account_id")
    if isinstance(account_id, str) and cloud == "AWS" and not AWS_ACCOUNT_RE.fullmatch(account_id):
        checker.add(f"{path}.account_id", f"expected a 12-digit AWS account id, got {checker.got(account_id)}")
    if isinstance(account_id, str) and cloud == "GCP" and not GCP_PROJECT_RE.fullmatch(account_id):
        checker.add(f"{path}.account_id", f"expected a GCP project id, got {checker.got(account_id)}")

    if regions is not None:
        if not regions:
            checker.add(f"{path}.regions", "expected at least one region, got []")
        _check_region_names(checker, cloud, ((f"{path}.regions[{i}]", r) for i, r in enumerate(regions)))
        seen: set[str] = set()
        for index, region in enumerate(regions):
            if region in seen:
                checker.add(f"{path}.regions[{index}]", f"regions must be unique, got {shown(region)} twice")
            seen.add(region)

    _check_region_names(checker, cloud, ((entry_path(f"{path}.add_regions", r), r) for r in add_regions))
    for region in add_regions:
        if regions is not None and region in regions:
            checker.add(
                entry_path(f"{path}.add_regions", region),
                f"{shown(region)} is already a cluster region (listed in regions); remove it from add_regions",
            )

    # With explicit regions every add_regions entry is a new region (checked just above), so a
    # revoke beside it is two changes in one update. With regions read from the Cloud API an
    # entry may be a region added earlier; the component checks that case against the API.
    if cluster.get("revoke") is True and add_regions and regions is not None:
        checker.add(
            f"{path}.revoke",
            "true cannot be combined with add_regions: a revoke must be the only change of its "
            "update; remove add_regions or set revoke to false",
        )

    all_regions = None if regions is None else [*regions, *[r for r in add_regions if r not in regions]]
    region_maps: list[tuple[str, Mapping[str, object]]] = []
    for schema_path in REGION_KEYED:
        if schema_path == "add_regions":
            continue  # checked above, against regions only
        head, _, key = schema_path.rpartition(".")
        holder: Mapping[str, Any] = cluster.get(head) or {} if head else cluster
        region_maps.append((f"{path}.{schema_path}", holder.get(key) or {}))
    for map_path, mapping in region_maps:
        _check_region_names(checker, cloud, [(entry_path(map_path, r), r) for r in mapping])
        if all_regions is not None:
            for region in mapping:
                if region not in all_regions:
                    checker.add(
                        entry_path(map_path, region),
                        f"{shown(region)} is not a cluster region (regions and add_regions: "
                        f"{shown_names(all_regions)})",
                    )
    # AWS: bring-your-own keys replace the component's keys, so they cover every region. GCP may
    # mix them: regions without an entry in gcp.byo_keys get keys made by the component.
    byo = aws.get("byo_keys")
    missing = [r for r in all_regions or [] if byo and r not in byo]
    if missing:
        checker.add(
            f"{path}.aws.byo_keys",
            f"expected a key for every cluster region; missing {shown_names(missing)}",
        )

    if vault is not None:
        for cloud_key, options in (("aws", aws), ("gcp", gcp)):
            if options.get("byo_keys"):
                checker.add(
                    f"{path}.vault",
                    f"cannot be combined with {cloud_key}.byo_keys: keys come either from Vault or "
                    "from you; remove one of them",
                )
        collections = vault.get("key_collections", {})
        if cloud == "GCP" and "key_collection" not in vault and (
            not collections or (all_regions is not None and any(r not in collections for r in all_regions))
        ):
            checker.add(
                f"{path}.vault",
                "needs key_collection (an existing key ring, projects/<project>/locations/<location>/"
                "keyRings/<ring>) or key_collections for every cluster region on GCP",
            )

    if cloud == "AWS":
        key_mode = aws.get("key_mode", "multi-region")
        if cluster.get("region_key_generations") and key_mode != "per-region":
            checker.add(
                f"{path}.region_key_generations",
                f"needs aws.key_mode 'per-region' (a {shown(key_mode)} key rotates every region at once: "
                "raise key_generation instead)",
            )
        primary = aws.get("primary_region")
        if primary is not None:
            if key_mode != "multi-region":
                checker.add(f"{path}.aws.primary_region", f"only used with key_mode 'multi-region', got key_mode {shown(key_mode)}")
            _check_region_names(checker, cloud, [(f"{path}.aws.primary_region", primary)])
            if all_regions is not None and primary not in all_regions:
                checker.add(f"{path}.aws.primary_region", f"expected one of the cluster regions ({shown_names(all_regions)}), got {shown(primary)}")


def default_name(cluster_id: str) -> str:
    """The default resource name of a cluster's ``ClusterCmek``: ``cluster-<first 8 of the id>``."""
    return f"cluster-{cluster_id[:8].lower()}"


_UNIQUE_PER_CLOUD: tuple[tuple[str, str], ...] = (
    ("aws", "alias"),
    ("aws", "role_name"),
    ("gcp", "service_account_id"),
    ("gcp", "key_ring_name"),
)


def check_across_clusters(
    checker: Checker, parsed: list[tuple[str, dict[str, Any]]]
) -> list[tuple[str, str, ClusterCmekArgs]]:
    """Cluster ids, resource names and explicitly named cloud resources are unique in a stack.
    ``parsed`` holds ``(key path, cluster)`` pairs; returns ``(key path, resource name,
    arguments)`` for every cluster that keeps its place (not a repeated id or name)."""
    results: list[tuple[str, str, ClusterCmekArgs]] = []
    ids: dict[str, str] = {}
    names: dict[str, str] = {}
    explicit: dict[tuple[str, str, str, str], str] = {}
    for path, cluster in parsed:
        cluster_id = cluster.get("cluster_id")
        if not isinstance(cluster_id, str):
            continue  # missing or invalid: already reported
        key = cluster_id.lower()
        if key in ids:
            checker.add(
                f"{path}.cluster_id",
                f"cluster {shown(cluster_id)} is already configured at {ids[key]}; one entry per cluster",
            )
            continue
        ids[key] = path
        given_name = NAME in cluster
        name = cluster.pop(NAME, None) or default_name(cluster_id)
        if name in names:
            how = "" if given_name else f" (derived from cluster_id); set {path}.name to a distinct name"
            checker.add(f"{path}.name", f"resource name {shown(name)} is already used by {names[name]}{how}")
            continue
        names[name] = path
        for cloud_key, option in _UNIQUE_PER_CLOUD:
            value = cluster.get(cloud_key, {}).get(option)
            if value is None:
                continue
            scope = str(cluster.get(cloud_key, {}).get("project", "")) if cloud_key == "gcp" else ""
            seen_key = (cloud_key, option, scope, str(value))
            if seen_key in explicit:
                checker.add(
                    f"{path}.{cloud_key}.{option}",
                    f"{shown(value)} is already used by {explicit[seen_key]}; each cluster needs its own",
                )
            else:
                explicit[seen_key] = path
        results.append((path, name, cast(ClusterCmekArgs, cluster)))
    return results
