"""CockroachDB Cloud customer-managed encryption keys (CMEK) as one Pulumi component.

Public API::

    from cmek_component import ClusterCmek, ClusterCmekArgs, CmekActivation, CmekActivationArgs

    ClusterCmek("prod", {"cluster_id": "8f1c2d3e-...", "aws": {"key_mode": "multi-region"}})

    # or only the activation, with keys you manage yourself (one spec per cluster region):
    CmekActivation("prod-cmek", {"cluster_id": "8f1c2d3e-...", "region_specs": [
        {"region": "us-east-1", "key_spec": {"type": "AWS_KMS", "uri": key_arn, "auth_principal": role_arn}},
    ]})

``ClusterCmek`` and ``CmekActivation`` are loaded on first use, so ``import cmek_component`` stays light: it imports
neither ``pulumi_aws`` nor ``pulumi_gcp`` (nor Pulumi itself), and the dynamic provider that
unpickles the activation does not pay for the component.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cmek_component.component.args import (
    ActivationOptions,
    AwsKeyOptions,
    ClusterCmekArgs,
    GcpKeyOptions,
    KeyMode,
    ProtectionLevel,
    VaultCredentialSource,
    VaultKeyOptions,
    VaultProtection,
)

if TYPE_CHECKING:
    from cmek_component.activation.dynamic import CmekActivation, CmekActivationArgs
    from cmek_component.component.cluster_cmek import ClusterCmek

__version__ = "0.1.0"

__all__ = [
    "ActivationOptions",
    "AwsKeyOptions",
    "ClusterCmek",
    "ClusterCmekArgs",
    "CmekActivation",
    "CmekActivationArgs",
    "GcpKeyOptions",
    "KeyMode",
    "ProtectionLevel",
    "VaultCredentialSource",
    "VaultKeyOptions",
    "VaultProtection",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "ClusterCmek":
        from cmek_component.component.cluster_cmek import ClusterCmek

        return ClusterCmek
    if name in ("CmekActivation", "CmekActivationArgs"):
        from cmek_component.activation import dynamic as activation

        return getattr(activation, name)
    raise AttributeError(f"module 'cmek_component' has no attribute {name!r}")
