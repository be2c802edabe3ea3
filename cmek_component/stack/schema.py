"""The configuration schema, read from the TypedDicts of ``component/args.py``.

The allowed keys of every configuration object, their types and their enum values come from
``ClusterCmekArgs`` and its option TypedDicts, so the schema cannot drift from the component's
arguments; a ``cmek:clusters[i]`` object adds ``name``. Pure: no Pulumi import.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import (
    Any,
    Literal,
    NotRequired,
    Required,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

from cmek_component.component.args import ClusterCmekArgs
from cmek_component.stack.keys import NAME


@dataclass(frozen=True)
class SchemaField:
    """One key of a configuration object: its name, its Python type and whether it is required."""

    name: str
    type: Any
    required: bool


@functools.cache
def schema_fields(typed_dict: type) -> dict[str, SchemaField]:
    """The keys of a TypedDict in declaration order, with ``Required``/``NotRequired`` resolved.

    ``__required_keys__`` is not used: with ``from __future__ import annotations`` Python 3.11
    reports every key of ``ClusterCmekArgs`` as required.
    """
    total = bool(getattr(typed_dict, "__total__", True))
    fields: dict[str, SchemaField] = {}
    for name, hint in get_type_hints(typed_dict, include_extras=True).items():
        required = total
        origin = get_origin(hint)
        if origin is Required or origin is NotRequired:
            required = origin is Required
            hint = get_args(hint)[0]
        fields[name] = SchemaField(name, hint, required)
    return fields


def cluster_fields() -> dict[str, SchemaField]:
    """The keys of one ``cmek:clusters[i]`` object: ``ClusterCmekArgs`` plus ``name``."""
    return {**schema_fields(ClusterCmekArgs), NAME: SchemaField(NAME, str, False)}


def type_label(tp: Any) -> str:
    """A reader's name for a schema type: ``integer``, ``list of strings``, ``one of `AWS`, `GCP` ``."""
    origin = get_origin(tp)
    if tp is str:
        return "string"
    if tp is bool:
        return "boolean"
    if tp is int:
        return "integer"
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(tp))
    if origin is list:
        return f"list of {plural(type_label(get_args(tp)[0]))}"
    if origin is dict:
        key, value = get_args(tp)
        return f"map of {type_label(key)} to {type_label(value)}"
    if is_typeddict(tp):
        return "object"
    return str(tp)


def plural(label: str) -> str:
    """``strings`` for ``string`` (also integers, booleans); other labels unchanged."""
    return label + "s" if label in ("string", "integer", "boolean") else label
