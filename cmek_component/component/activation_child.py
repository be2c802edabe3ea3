"""``<name>-activation``: the ``CmekActivation`` child of ``ClusterCmek``.

What declares it (:data:`ActivationFactory`: the dynamic ``CmekActivation`` in Python programs,
the provider plugin's custom resource otherwise), its inputs (the cluster's region specs built
from the declared identity and keys, the regions being added, the rotation trigger, the revoke
flag and the wait limits), what it waits for (the identity and every key policy or grant, so
CMEK is never enabled before the grants exist), and what the component reads back from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import pulumi

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.component.cloud_keys import ClusterFacts, DeclaredKeys
from cmek_component.manifest.region_specs import (
    KeySpec,
    RegionSpec,
    cmek_config_document,
    parse_region_specs,
)

if TYPE_CHECKING:
    from cmek_component.activation.dynamic import CmekActivationArgs


class ActivationResource(Protocol):
    """What the component reads from its activation: the live CMEK status and regions."""

    @property
    def status(self) -> pulumi.Output[str]: ...

    @property
    def regions(self) -> pulumi.Output[list[dict[str, Any]]]: ...


ActivationFactory = Callable[[str, "CmekActivationArgs", pulumi.ResourceOptions], ActivationResource]
"""Declares ``<name>-activation`` (name, inputs, options). Default: the dynamic ``CmekActivation``;
the provider plugin swaps in its custom resource ``cockroach-cmek:index:CmekActivation``."""


def dynamic_activation(name: str, args: CmekActivationArgs, opts: pulumi.ResourceOptions) -> ActivationResource:
    """The activation of Python programs: the dynamic resource ``CmekActivation``."""
    from cmek_component.activation.dynamic import CmekActivation

    return CmekActivation(name, args, opts)


def _region_specs_document(key_type: str, principal: str, uris: Mapping[str, str]) -> dict[str, Any]:
    specs = [RegionSpec(region, KeySpec(key_type, uri, principal)) for region, uri in uris.items()]
    parse_region_specs([spec.to_api() for spec in specs])  # the activation would refuse it anyway
    return cmek_config_document(specs)


def region_specs_document(
    key_type: str, auth_principal: pulumi.Output[str], key_uris: pulumi.Output[dict[str, str]]
) -> pulumi.Output[dict[str, Any]]:
    """The seed's ``cmek_config.json`` document for the declared identity and keys:
    ``{"region_specs": [{region, key_spec: {type, uri, auth_principal}}]}``, sorted by region."""
    return pulumi.Output.all(auth_principal, key_uris).apply(
        lambda values: _region_specs_document(key_type, values[0], values[1])
    )


def declare_activation(
    name: str,
    parent: pulumi.Resource,
    facts: ClusterFacts,
    args: ClusterCmekArgs,
    declared: DeclaredKeys,
    document: pulumi.Output[dict[str, Any]],
    activation_factory: ActivationFactory | None = None,
) -> ActivationResource:
    """Declares ``<name>-activation`` under ``parent`` with ``document``'s region specs, depending
    on every resource the cloud module declared (``declared.dependencies``)."""
    activation_args: CmekActivationArgs = {
        "cluster_id": facts.cluster_id,
        "region_specs": document.apply(lambda doc: doc["region_specs"]),
        "new_region_nodes": dict(args.get("add_regions") or {}),
        "rotation_trigger": args.get("rotation_trigger", ""),
        "revoke": args.get("revoke", False),
    }
    limits = args.get("activation") or {}
    if "wait_timeout_seconds" in limits:
        activation_args["wait_timeout_seconds"] = limits["wait_timeout_seconds"]
    if "iam_propagation_timeout_seconds" in limits:
        activation_args["iam_propagation_timeout_seconds"] = limits["iam_propagation_timeout_seconds"]
    return (activation_factory or dynamic_activation)(
        f"{name}-activation",
        activation_args,
        pulumi.ResourceOptions(parent=parent, depends_on=declared.dependencies),
    )


def region_statuses(regions: object) -> dict[str, str]:
    """``regions`` output of the activation -> ``{region: status}``."""
    if not isinstance(regions, list):
        return {}
    return {
        str(item.get("region")): str(item.get("status") or "")
        for item in regions
        if isinstance(item, Mapping) and item.get("region")
    }
