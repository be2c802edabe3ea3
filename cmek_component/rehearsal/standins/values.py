"""The stand-ins' property values: :mod:`cmek_component.plugin.property_values` (shared with the
provider plugin, which must not import the rehearsal)."""

from cmek_component.plugin.property_values import (
    UNKNOWN,
    Unknown,
    contains_unknown,
    plain,
    plain_map,
    property_map,
    property_value,
)

__all__ = ["UNKNOWN", "Unknown", "contains_unknown", "plain", "plain_map", "property_map", "property_value"]
