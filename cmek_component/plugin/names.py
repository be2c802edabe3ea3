"""Property names of the plugin: the schema's camelCase against the Python library's snake_case.

The schema spells every property as Pulumi packages do (``clusterId``, ``aws.keyMode``), so a
TypeScript program writes ``clusterId``, a Go program ``ClusterId`` and a YAML program
``clusterId``; the Python library and the stack config ``cmek:clusters`` keep ``cluster_id``.
Only property names are renamed: the keys of maps (regions, tags, aliases) and of the
free-form ``regionSpecs`` items are data and stay as they are.

Pure: no Pulumi, no network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["camel", "go_name", "schema_path", "snake", "to_library", "to_schema"]

_SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*\Z", re.ASCII)
_CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*\Z", re.ASCII)


def camel(name: str) -> str:
    """``cluster_id`` -> ``clusterId``; ``ValueError`` for a name that is not lower snake_case."""
    if not _SNAKE.match(name):
        raise ValueError(f"property name: expected lower snake_case (a-z, 0-9, _), got {name!r}")
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``clusterId`` -> ``cluster_id`` (the inverse of :func:`camel`); other names unchanged."""
    if not _CAMEL.match(name):
        return name
    return re.sub(r"[A-Z]", lambda match: "_" + match.group(0).lower(), name)


def go_name(name: str) -> str:
    """The Go SDK's field for a schema property: its first letter upper-case (``clusterId`` ->
    ``ClusterId``), as Pulumi's Go code generator names it."""
    return name[:1].upper() + name[1:]


def schema_path(field: str, groups: frozenset[str] = frozenset()) -> str:
    """A library field path as the schema spells it: ``aws.key_mode`` -> ``aws.keyMode``,
    ``add_regions.us-east-1`` -> ``addRegions.us-east-1``: the first name, and the second when
    the first is one of the option ``groups``; map keys after them stay as they are."""
    parts = field.split(".")
    depth = 2 if parts[0] in groups else 1
    return ".".join(camel(part) if index < depth and _SNAKE.match(part) else part for index, part in enumerate(parts))


def to_library(values: Mapping[str, Any], groups: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Schema-named properties as the library's: top-level names renamed, and one level more
    inside the option groups named by ``groups`` (library names: ``aws``, ``gcp`` ...)."""
    plain: dict[str, Any] = {}
    for name, value in values.items():
        key = snake(name)
        if key in groups and isinstance(value, Mapping):
            value = {snake(inner): item for inner, item in value.items()}
        plain[key] = value
    return plain


def to_schema(values: Mapping[str, Any], groups: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Library-named properties as the schema's (the inverse of :func:`to_library`)."""
    named: dict[str, Any] = {}
    for name, value in values.items():
        if name in groups and isinstance(value, Mapping):
            value = {camel(inner): item for inner, item in value.items()}
        named[camel(name)] = value
    return named
