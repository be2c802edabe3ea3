"""Property values of the plugin's requests as plain Python values
(:mod:`cmek_component.plugin.property_values`), with the wire's unknown sentinel as ``UNKNOWN``.

The SDK (3.272) hands a preview's unknown input to ``check`` as the raw sentinel string
(``rpc.UNKNOWN``), not as ``Computed``: validation must see it as unknown, not as a bad value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime import rpc

from cmek_component.plugin.property_values import (
    UNKNOWN,
    Unknown,
    contains_unknown,
    property_map,
)
from cmek_component.plugin.property_values import plain_map as _plain_map

__all__ = ["UNKNOWN", "Unknown", "contains_unknown", "plain_map", "property_map"]


def _unknowns(value: Any) -> Any:
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {key: _unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unknowns(item) for item in value]
    return value


def plain_map(values: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], set[str]]:
    """Plain properties (unknowns as ``UNKNOWN``) and the names of the secret ones."""
    plain, secret = _plain_map(values)
    return {key: _unknowns(item) for key, item in plain.items()}, secret
