"""What a cloud module (``aws/resources.py``, ``gcp/resources.py``) hands back to ``ClusterCmek``.

The contract between the component and its cloud-specific children: the identity CockroachDB
Cloud impersonates, one key URI per cluster region, and the resources (grants, key policies)
the activation must wait for. Pure at run time (``pulumi`` is imported for type checking only),
so the pure AWS plan (``aws/plan.py``) can take a :class:`ClusterFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pulumi


@dataclass(frozen=True)
class ClusterFacts:
    """What the component knows about the cluster, from args or the Cloud API (plain values)."""

    cluster_id: str
    cloud: str
    """``AWS`` or ``GCP``."""
    regions: list[str]
    """Every region the cluster will have: current regions plus regions being added."""
    account_id: str
    organization_id: str
    """Empty on GCP when not needed."""


@dataclass
class DeclaredKeys:
    """The identity and keys declared by a cloud module."""

    key_type: str
    """``AWS_KMS`` or ``GCP_CLOUD_KMS``."""
    auth_principal: pulumi.Output[str]
    """IAM role ARN (AWS) or service account email (GCP)."""
    key_uris: dict[str, pulumi.Output[str]]
    """Cluster region -> key ARN (AWS) or crypto key name without version (GCP)."""
    dependencies: list[pulumi.Resource] = field(default_factory=list)
    """Resources the activation depends on: the role or service account, every key policy and grant."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """Cloud-specific values: those the component exposes as outputs (``role_arn``,
    ``key_arns``, ``aliases``, ``key_policy``, ``service_account_email``) and details of the
    cloud module (GCP project and key rings, Vault entry and key names) that are not component
    outputs."""
