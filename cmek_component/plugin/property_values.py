"""Property values between the engine's form (``PropertyValue``) and plain Python values (the
stand-in providers' and the ``cockroach-cmek`` plugin's).

Unknown values (a preview's not-yet-computed outputs) become :data:`UNKNOWN`; secret top-level
properties are unwrapped and named, so the outputs of the same name can be marked secret again.

The SDK (3.272) hands a preview's unknown input to the plugin's ``check`` as the raw sentinel
string (``rpc.UNKNOWN``), not as ``Computed``: :func:`plain_request_map` reads that as unknown
too, so validation sees it as unknown, not as a bad value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.runtime import rpc


class Unknown:
    """A value the engine does not know yet (shown as ``[unknown]`` / ``output<string>``)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()


def plain(value: PropertyValue) -> Any:
    """One ``PropertyValue`` as a plain value; whole numbers as ``int``, unknowns as ``UNKNOWN``."""
    inner = value.value
    if isinstance(inner, Computed):
        return UNKNOWN
    if isinstance(inner, float) and inner.is_integer():
        return int(inner)
    if isinstance(inner, Mapping):
        return {key: plain(item) for key, item in inner.items()}
    if isinstance(inner, tuple):
        return [plain(item) for item in inner]
    return inner


def plain_map(values: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], set[str]]:
    """Plain properties and the names of the secret ones."""
    return {key: plain(item) for key, item in values.items()}, {
        key for key, item in values.items() if item.contains_secret()
    }


def _unknowns(value: Any) -> Any:
    if isinstance(value, str) and value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        return {key: _unknowns(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unknowns(item) for item in value]
    return value


def plain_request_map(values: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], set[str]]:
    """The plugin's request properties as :func:`plain_map` gives them, the wire's unknown
    sentinel also as ``UNKNOWN``."""
    plain_values, secret = plain_map(values)
    return {key: _unknowns(item) for key, item in plain_values.items()}, secret


def property_value(value: Any) -> PropertyValue:
    """A plain value in the engine's form (``UNKNOWN`` -> the wire's unknown value: the SDK 3.272
    cannot marshal its own ``Computed``)."""
    if isinstance(value, Unknown):
        return PropertyValue(rpc.UNKNOWN)
    if isinstance(value, PropertyValue):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return PropertyValue(value)
    if isinstance(value, int):
        return PropertyValue(float(value))
    if isinstance(value, datetime | date):
        return PropertyValue(value.isoformat())
    if isinstance(value, Mapping):
        return PropertyValue({str(key): property_value(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return PropertyValue([property_value(item) for item in value])
    return PropertyValue(str(value))


def property_map(values: Mapping[str, Any], secret: set[str] | frozenset[str] = frozenset()) -> dict[str, PropertyValue]:
    """Plain properties in the engine's form, the named ones secret."""
    return {key: property_value(item).with_secret(key in secret) for key, item in values.items()}


def contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False
