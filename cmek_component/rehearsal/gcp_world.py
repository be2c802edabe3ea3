"""GCP as the mini-engine rehearsal sees it: :class:`standins.gcp_store.GcpStore` (shared with the
GCP stand-in provider), under its old name."""

from __future__ import annotations

from .standins.gcp_store import (
    ACCOUNT,
    ACCOUNT_IAM_MEMBER,
    CLIENT_CONFIG,
    CRYPTO_KEY,
    CRYPTO_KEY_IAM_MEMBER,
    GET_PROJECT,
    INVOKES,
    KEY_RING,
    REPLACE_ON,
    RESOURCE_TYPES,
    GcpStore,
)

GcpWorld = GcpStore

__all__ = [
    "ACCOUNT", "ACCOUNT_IAM_MEMBER", "CLIENT_CONFIG", "CRYPTO_KEY", "CRYPTO_KEY_IAM_MEMBER", "GET_PROJECT", "INVOKES",
    "KEY_RING", "REPLACE_ON", "RESOURCE_TYPES", "GcpStore", "GcpWorld",
]
