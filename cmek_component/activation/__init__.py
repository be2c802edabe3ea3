"""The activation layer: what ``CmekActivation`` decides and does, and its Python adapter.

- ``inputs``: defaults, validation (``check``) and comparison (``diff``) of the inputs (pure);
- ``plan``: what the live configuration needs, without calling the API (pure);
- ``waiting``: polling with capped backoff (pure, injectable clock);
- ``runner``: carries a plan out against the Cloud API;
- ``operations``: check, diff, create, read, update, delete on plain property dicts, the one
  implementation both adapters call;
- ``dynamic`` and ``dynamic_host``: the dynamic-provider adapter for Python programs (the
  plugin's custom resource, the other adapter, is ``cmek_component.plugin.provider``).

Stacks created before this package had folders store a reference to
``cmek_component.activation.CmekActivationProvider`` in their state (the dynamic provider's
pickled ``__provider``); that name still resolves here, loaded on first use so that importing
the pure modules above never imports Pulumi.
"""

from __future__ import annotations

from typing import Any

_DYNAMIC_NAMES = ("CmekActivation", "CmekActivationArgs", "CmekActivationProvider")


def __getattr__(name: str) -> Any:
    if name in _DYNAMIC_NAMES:
        from cmek_component.activation import dynamic

        return getattr(dynamic, name)
    raise AttributeError(f"module 'cmek_component.activation' has no attribute {name!r}")
