"""The stack program: one ``ClusterCmek`` per cluster of the stack configuration.

1. Reads every configuration key of the stack and checks it against the schema
   (``cmek_component.stack.config``; reference in ``docs/configuration.md``).
2. Checks every cluster the way its ``ClusterCmek`` will (cluster facts, then the AWS or GCP
   plan), still without declaring anything. When a cluster sets ``revoke: true``, also reads
   the stack's last outputs (``cmek_component.stack.last_update``, a read) and refuses any key of
   ``cmek_component.stack.revoke_guard.ROTATION_KEYS`` changed since: a revoke is the only change of
   its update. All problems from steps 1 and 2 are reported at once, each named by its key
   (``cmek:clusters[1].aws.key_mode: ...``), before any resource is declared.
   Then reads this stack's state (``cmek_component.stack.last_update.read_state_resources``, a read;
   decided by ``cmek_component.stack.state_clusters``): a cluster whose activation the state holds
   under another name was renamed, and is carried over with an alias (nothing is replaced); a
   cluster the state holds nothing of gets one ``GET cmek``, and is refused, before anything is
   declared, when its CMEK is already on (a destroyed stack, a cluster of another stack) unless
   it brings its own keys.
3. Declares one ``ClusterCmek`` per entry of ``cmek:clusters``, named by the entry's ``name``
   (default ``cluster-<first 8 characters of the cluster id>``).
4. Exports each cluster's outputs as one object under its resource name (with
   ``rotation_config``, what the next update's revoke check compares against), and ``clusters``
   (resource name -> cluster id). With secret cluster configuration (``cmek:clusters``,
   ``cmek:aws`` or ``cmek:gcp`` set with ``--secret``) every exported value is a secret and no
   message of steps 1-3 shows a configured value. The seed's manifest, for example::

       pulumi stack output --json payments | jq -r .cmek_config_json > cmek_config.json

Cluster facts that the stack leaves out (cloud, regions, account_id, organization_id) are read
from the Cloud API once per cluster (``GET cluster``, ``GET organization``); a stack that gives
them makes no other Cloud API call here than the ``GET cmek`` of a cluster new to the stack. The API key is never read by this program: the Cloud API
client and the activation's provider read ``cockroach:apiKey`` (secret) or
``COCKROACH_API_KEY`` themselves.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.runtime.config as runtime_config

from cmek_component.activation.plan import current_specs
from cmek_component.component import cluster_facts
from cmek_component.component.cluster_cmek import ClusterCmek
from cmek_component.component.cluster_facts import ClusterFactsError, resolve_cluster_facts
from cmek_component.component.preflight import vault_config_problems
from cmek_component.component.sdks import sdk_problems
from cmek_component.manifest.problems import Problem, SpecError, SpecProblems, masked_values, shown
from cmek_component.stack import last_update, revoke_guard, state_clusters
from cmek_component.stack.config import ClusterConfig, ConfigError, parse_stack_config
from cmek_component.stack.keys import CLUSTERS_OUTPUT

if TYPE_CHECKING:
    from cmek_component.cloud_api.models import Cluster, CmekInfo, Organization

# A stack program is short-lived and builds one growing, long-lived object graph (resources and
# their outputs). CPython's full collections rescan all of it, which made the program's time grow
# faster than linearly with the number of clusters (benchmarks/bench_scale.py: 8 full collections,
# 1.7 s of 4.4 s at 100 clusters). Full collections are deferred instead; young objects are still
# collected as usual, and peak memory was unchanged in that benchmark.
gc.set_threshold(700, 10, 1000)

OUTPUTS: tuple[str, ...] = (
    "auth_principal",
    "key_uris",
    "role_arn",
    "key_arns",
    "aliases",
    "key_policy",
    "service_account_email",
    "region_specs",
    "cmek_config_json",
    "status",
    "region_statuses",
)
"""The ``ClusterCmek`` outputs exported for each cluster (besides ``cluster_id``): every output
the component registers. AWS-only ones (``role_arn``, ``key_arns``, ``aliases``,
``key_policy``) are null on GCP, ``service_account_email`` on AWS."""


def read_stack_config() -> tuple[dict[str, Any], set[str]]:
    """Every configuration key of the stack as the engine passed it, and the secret keys."""
    values: dict[str, Any] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {key for key in values if runtime_config.is_config_secret(key)}
    secret_keys.update(runtime_config.get_config_secret_keys_env())
    return values, secret_keys


class CachedClusterReader:
    """The component's Cloud API reader, created on first use, each answer fetched once: the
    checks of step 2 and the components of step 3 share it."""

    def __init__(self) -> None:
        self._reader: cluster_facts.ClusterReader | None = None
        self._clusters: dict[str, Cluster] = {}
        self._organization: Organization | None = None

    def _client(self) -> cluster_facts.ClusterReader:
        if self._reader is None:
            self._reader = cluster_facts.default_client_factory()
        return self._reader

    def get_cluster(self, cluster_id: str) -> Cluster:
        if cluster_id not in self._clusters:
            self._clusters[cluster_id] = self._client().get_cluster(cluster_id)
        return self._clusters[cluster_id]

    def get_organization(self) -> Organization:
        if self._organization is None:
            self._organization = self._client().get_organization()
        return self._organization

    def get_cmek(self, cluster_id: str) -> CmekInfo | None:
        """The cluster's CMEK configuration (``None``: never enabled); not cached."""
        read = getattr(self._client(), "get_cmek", None)
        if not callable(read):
            raise TypeError(f"{type(self._client()).__name__} cannot read a cluster's CMEK status")
        result: CmekInfo | None = read(cluster_id)
        return result


def _under(cluster: ClusterConfig, problems: list[Problem]) -> list[Problem]:
    return [Problem(f"{cluster.key}.{p.field}", p.message) for p in problems]


def revoke_problems(cluster: ClusterConfig, last: Mapping[str, Any] | None, cloud: str | None) -> list[Problem]:
    """A revoke combined with a rotation since the last update, named by key."""
    return revoke_guard.revoke_with_rotation_problems(
        cluster.key, cluster.args, last, name=cluster.name, stack_defaults=cluster.stack_defaults,
        secret=cluster.secret, cloud=cloud,
    )


def cluster_problems(
    cluster: ClusterConfig, reader: CachedClusterReader, last: Mapping[str, Any] | None = None
) -> list[Problem]:
    """What ``ClusterCmek`` would refuse for this cluster, found without declaring anything;
    ``last``: the cluster's ``rotation_config`` from the last update, for the revoke check.
    Values of secret cluster configuration are masked in every message."""
    with masked_values(cluster.secret):
        return _cluster_problems(cluster, reader, last)


def _cluster_problems(
    cluster: ClusterConfig, reader: CachedClusterReader, last: Mapping[str, Any] | None
) -> list[Problem]:
    problems: list[Problem] = []
    try:
        facts = resolve_cluster_facts(cluster.args, lambda: reader)
        problems += revoke_problems(cluster, last, facts.cloud)
        missing = sdk_problems(facts.cloud, cluster.args)
        if missing:
            return problems + _under(cluster, missing)
        problems += vault_config_problems(facts.cloud, cluster.args, pulumi.runtime.get_config, who=cluster.key)
        if facts.cloud == "AWS":
            from cmek_component.aws.plan import plan_aws_keys

            plan_aws_keys(cluster.name, facts, cluster.args)
        else:
            from cmek_component.gcp import resources as gcp

            gcp.plan_gcp(facts, cluster.args)
    except SpecProblems as error:
        return problems + _under(cluster, error.problems)
    except SpecError as error:
        return problems + _under(cluster, [Problem(error.field, f"{error.rule}, got {shown(error.value)}")])
    except ClusterFactsError as error:
        raise pulumi.RunError(f"{cluster.key}.{error}") from None
    return problems


CUT_ON_CREATION = (
    "true on a cluster whose service account this update creates: GCP ignores `disabled` when it "
    "creates a service account, so CockroachDB Cloud would keep its access. Run `pulumi up` "
    "without gcp.cut_key_access first (the revoke runbook cuts access on an existing stack), "
    "then set it"
)


def _declares_byo_keys(cluster: ClusterConfig) -> bool:
    return any(isinstance(cluster.args.get(cloud), Mapping) and cluster.args[cloud].get("byo_keys")  # type: ignore[literal-required]
               for cloud in ("aws", "gcp"))


def already_enabled_problems(clusters: list[ClusterConfig], state: state_clusters.StateClusters,
                             reader: CachedClusterReader) -> list[Problem]:
    """Clusters new to this stack (nothing of them in its state) whose CMEK is already on; one
    ``GET cmek`` each. Clusters that bring their own keys are left to the activation, which
    adopts exactly the keys in use. A failed read only warns: the activation still refuses
    other keys, after this update created them."""
    problems: list[Problem] = []
    for cluster in clusters:
        cluster_id = cluster.args["cluster_id"]
        if state.holds(cluster.name, cluster_id) or _declares_byo_keys(cluster):
            continue
        try:
            cmek = reader.get_cmek(cluster_id)
        except Exception as error:  # noqa: BLE001 - the check is a guard, not a requirement
            pulumi.log.warn(f"{cluster.key}: could not check whether CMEK is already on ({error})")
            continue
        if cmek is None or cmek.status in state_clusters.CMEK_OFF:
            continue
        live = current_specs(cmek)
        principals = sorted({spec.auth_principal for spec in live.values()})
        with masked_values(cluster.secret):
            message = state_clusters.already_enabled_problem(
                cluster_id, cmek.status, ", ".join(principals), {region: spec.uri for region, spec in live.items()})
        problems.append(Problem(cluster.key, message))
    return problems


def rename_plan(clusters: list[ClusterConfig], state: state_clusters.StateClusters) -> state_clusters.RenamePlan:
    """The clusters renamed since the state was written (carried over with aliases), and the
    renames refused; values masked for secret cluster configuration."""
    plan = state_clusters.RenamePlan()
    for cluster in clusters:
        with masked_values(cluster.secret):
            single = state_clusters.plan_renames(
                [(cluster.key, cluster.name, cluster.args["cluster_id"])], state,
                other_names=[other.name for other in clusters if other is not cluster],
            )
        plan.renames.update(single.renames)
        plan.refused.extend(single.refused)
    return plan


def load_clusters(reader: CachedClusterReader) -> tuple[list[ClusterConfig], dict[str, state_clusters.Rename]]:
    """The checked clusters of this stack and the renames to carry over (new name -> rename);
    ``pulumi.RunError`` naming every wrong key, or every cluster that cannot be created here."""
    values, secret_keys = read_stack_config()
    try:
        clusters = parse_stack_config(values, secret_keys=secret_keys, project=pulumi.get_project())
        last = last_update.last_rotation_configs(clusters)
        problems = [
            problem for cluster in clusters for problem in cluster_problems(cluster, reader, last.get(cluster.name))
        ]
        problems += [
            Problem(cluster.stack_defaults.get("gcp.cut_key_access", f"{cluster.key}.gcp.cut_key_access"), CUT_ON_CREATION)
            for cluster in last_update.cut_access_on_creation(clusters)
        ]
        resources = last_update.read_state_resources()
        state = state_clusters.state_clusters(resources) if resources is not None else None
        renames: dict[str, state_clusters.Rename] = {}
        if state is not None:
            plan = rename_plan(clusters, state)
            problems += [Problem(where, message) for where, message in plan.refused]
            renames = plan.renames
        if problems:
            raise ConfigError(problems)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    if state is not None:  # a renamed cluster is held: its id is in the state
        refused = already_enabled_problems(clusters, state, reader)
        if refused:
            raise pulumi.RunError("\n".join(
                [f"{len(refused)} cluster{'s' if len(refused) != 1 else ''} cannot be created by this stack:"]
                + [f"  {problem}" for problem in refused]))
    return clusters, renames


def declare_cluster(cluster: ClusterConfig, reader: CachedClusterReader,
                    rename: state_clusters.Rename | None = None) -> ClusterCmek:
    """The cluster's ``ClusterCmek`` (with an alias to its old name when it was renamed: the
    engine moves its resources instead of replacing them); a late argument error is still
    reported under its key (values masked for secret configuration)."""
    opts = None
    if rename is not None:
        opts = pulumi.ResourceOptions(aliases=[pulumi.Alias(name=rename.old)])
        pulumi.log.info(
            f"{cluster.key}: renamed; its resources move from "
            f"{'[secret]' if cluster.secret else repr(rename.old)} to the new name, nothing is replaced"
        )
    try:
        with masked_values(cluster.secret):
            return ClusterCmek(cluster.name, cluster.args, opts, client_factory=lambda: reader)
    except SpecProblems as error:
        raise pulumi.RunError(str(ConfigError(_under(cluster, error.problems)))) from None
    except ClusterFactsError as error:
        raise pulumi.RunError(f"{cluster.key}.{error}") from None


def cluster_outputs(cluster: ClusterConfig, cmek: ClusterCmek) -> dict[str, Any]:
    """The cluster's exported object: ``cluster_id``, :data:`OUTPUTS` and ``rotation_config``;
    each value a secret when the cluster configuration is."""
    outputs: dict[str, Any] = {"cluster_id": cluster.args["cluster_id"]}
    outputs.update({name: getattr(cmek, name) for name in OUTPUTS})
    outputs[revoke_guard.RECORD_OUTPUT] = revoke_guard.rotation_config(cluster.args, cluster.name)
    if cluster.secret:
        return {name: pulumi.Output.secret(value) for name, value in outputs.items()}
    return outputs


def clusters_output(clusters: list[ClusterConfig]) -> Any:
    """``clusters``: resource name -> cluster id; a secret when any cluster's configuration is."""
    listing = {cluster.name: cluster.args["cluster_id"] for cluster in clusters}
    return pulumi.Output.secret(listing) if any(cluster.secret for cluster in clusters) else listing


def main() -> None:
    reader = CachedClusterReader()
    clusters, renames = load_clusters(reader)
    for cluster in clusters:
        cmek = declare_cluster(cluster, reader, renames.get(cluster.name))
        pulumi.export(cluster.name, cluster_outputs(cluster, cmek))
    pulumi.export(CLUSTERS_OUTPUT, clusters_output(clusters))


if __name__ == "__main__":
    main()
