"""PATCH cluster on the simulated organization: labels, delete protection and parent now, region
changes (with the new regions' CMEK specs) as a locked ``scale`` operation.

Fields the API documents but the simulator does not model are refused with a 400 naming each one,
before anything in the request is applied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import invalid_argument
from .model import ENABLING, ClusterRecord, KeyRecord, RegionCmek
from .validation import check_region_specs, contact_support, raise_if, region_name_problem
from .world_state import WorldState

MODELLED_CLUSTER_FIELDS = (
    "dedicated.region_nodes",
    "dedicated.cmek_region_specs",
    "labels",
    "delete_protection",
    "parent_id",
)
"""The fields of ``UpdateClusterSpecification`` that PATCH cluster carries out."""
UNMODELLED_CLUSTER_FIELDS = ("cockroach_version", "dedicated.hardware", "plan", "serverless", "upgrade_status")
"""The fields the OpenAPI document defines but the simulator does not model: a 400 names them."""


class ClusterUpdates(WorldState):
    """``PATCH /api/v1/clusters/{cluster_id}`` (``UpdateClusterSpecification``)."""

    def update_cluster(self, cluster_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH cluster: labels/delete_protection/parent_id now; region changes as a locked operation.

        The other fields the API documents (``UNMODELLED_CLUSTER_FIELDS``: version upgrades, plan
        changes, hardware, serverless settings) are refused with a 400 naming each one, before
        anything in the request is applied: a test double must not pretend to have done them.
        """
        cluster = self.cluster(cluster_id)
        dedicated = body.get("dedicated", {})
        present = {name for name in body} | {f"dedicated.{name}" for name in dedicated}
        unsupported = sorted(present & set(UNMODELLED_CLUSTER_FIELDS))
        if unsupported:
            raise_if(
                [
                    f"{name}: the simulator does not model changes to this field (only to "
                    f"{', '.join(MODELLED_CLUSTER_FIELDS)}): remove it from the request"
                    for name in unsupported
                ]
            )
        simple = {name: body[name] for name in ("labels", "delete_protection", "parent_id") if name in body}
        region_change = "region_nodes" in dedicated or "cmek_region_specs" in dedicated
        if not simple and not region_change:
            if self.settings.empty_cluster_update == "reject":
                raise invalid_argument(
                    "the update specification changes nothing; give at least one of cockroach_version, dedicated "
                    "(region_nodes, cmek_region_specs, hardware), delete_protection, labels, parent_id, plan, "
                    "serverless, upgrade_status"
                )
            return self.render_cluster(cluster)
        if region_change:
            self._change_regions(cluster, dedicated.get("region_nodes"), dedicated.get("cmek_region_specs", []))
        if simple:
            cluster.labels = dict(simple.get("labels", cluster.labels))
            cluster.delete_protection = simple.get("delete_protection", cluster.delete_protection)
            cluster.parent_id = simple.get("parent_id", cluster.parent_id) or "root"
            cluster.updated_at = self.clock.now()
        return self.render_cluster(cluster)

    def _change_regions(
        self, cluster: ClusterRecord, region_nodes: dict[str, int] | None, cmek_specs: list[dict[str, Any]]
    ) -> None:
        if not cluster.is_dedicated:
            raise invalid_argument(
                f"dedicated: cluster {cluster.id} is a {cluster.plan} cluster; region_nodes and cmek_region_specs "
                "apply to ADVANCED clusters only"
            )
        self._require_created(cluster)
        nodes = dict(cluster.regions) if region_nodes is None else dict(region_nodes)
        problems = []
        if not nodes:
            problems.append(
                "dedicated.region_nodes: expected the cluster's complete region set (region -> node count), got {}"
            )
        for name, count in sorted(nodes.items()):
            field_name = f"dedicated.region_nodes['{name}']"
            naming = region_name_problem(cluster.cloud_provider, field_name, name)
            if naming:
                problems.append(naming)
            elif count < self.settings.min_nodes_per_region:
                problems.append(
                    f"{field_name}: an ADVANCED cluster needs at least {self.settings.min_nodes_per_region} "
                    f"nodes per region, got {count}"
                )
        raise_if(problems)
        new_regions = sorted(set(nodes) - set(cluster.regions))
        if self._revoked(cluster) and (new_regions or cmek_specs):
            raise self._fp(contact_support(cluster.id))
        cmek_on = self._cmek_on(cluster)
        if cmek_specs and not cmek_on:
            raise self._fp(
                f"dedicated.cmek_region_specs: CMEK is not enabled for cluster {cluster.id}; enable it with "
                f"POST /api/v1/clusters/{cluster.id}/cmek first"
            )
        if cmek_on:
            self._require_not_busy(cluster)
        if self.settings.cmek_spec_outside_region_nodes == "ignore":
            cmek_specs = [s for s in cmek_specs if s.get("region") in nodes or s.get("region") in cluster.regions]

        def region_rule(region: str) -> str | None:
            if region in cluster.regions:
                return (
                    f"a CMEK spec may only be given for a newly added region; '{region}' is already a region of "
                    f"cluster {cluster.id} (rotate its key with PUT /api/v1/clusters/{cluster.id}/cmek)"
                )
            if region not in nodes:
                return "a CMEK spec needs its region in dedicated.region_nodes (the cluster's complete region set)"
            return None

        if cmek_specs:
            check_region_specs(
                cluster,
                cmek_specs,
                field="dedicated.cmek_region_specs",
                region_rule=region_rule,
                validate_formats=self.settings.validate_key_formats,
            )
        covered = {s["region"] for s in cmek_specs}
        uncovered = [r for r in new_regions if r not in covered]
        if cmek_on and uncovered and self.settings.add_region_without_cmek_spec == "reject":
            raise invalid_argument(
                f"dedicated.cmek_region_specs: cluster {cluster.id} uses CMEK, so every new region needs a CMEK "
                f"spec; missing for {', '.join(uncovered)}"
            )
        self._check_kms("add_region", cmek_specs)
        if nodes == cluster.regions and not cmek_specs:
            return
        now = self.clock.now()
        for removed in set(cluster.regions) - set(nodes):
            if cluster.cmek is not None:
                cluster.cmek.pop(removed, None)
        cluster.regions = dict(sorted(nodes.items()))
        cluster.updated_at = now
        op = self._new_op(cluster.id, "scale", self.settings.add_region_seconds)
        for spec in cmek_specs:
            assert cluster.cmek is not None
            key = KeyRecord(dict(spec["key_spec"]), ENABLING, now, now)
            cluster.cmek[spec["region"]] = RegionCmek(spec["region"], ENABLING, [key])
            op.targets[spec["region"]] = key
        if cmek_specs:
            cluster.cmek_failed = False
