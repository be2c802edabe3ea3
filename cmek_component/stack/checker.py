"""The checker: a configuration value against its schema type and value rules.

:class:`Checker` walks a decoded value beside its type from the schema
(:mod:`cmek_component.stack.schema`), applies the value rules of its schema path
(:mod:`cmek_component.stack.value_rules`) and collects one :class:`~cmek_component.manifest.problems.Problem`
per broken rule, naming the full key path, the rule and the value received::

    cmek:clusters[0].key_generation: expected an integer >= 1, got 'two'
    cmek:clusters[1].aws.key_mod: unknown key; did you mean 'key_mode'?

With ``secret`` set (secret configuration), values show as ``[secret]``. Pure: no Pulumi import.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal, get_args, get_origin, is_typeddict

from cmek_component.manifest.problems import SECRET, Problem, shown
from cmek_component.stack.keys import SET_API_KEY, is_api_key_name
from cmek_component.stack.schema import SchemaField, plural, schema_fields, type_label
from cmek_component.stack.value_rules import STRING_RULES, int_form, int_range

INVALID = object()
"""What a check returns for a value that broke a rule (its problem is recorded): never a value."""


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def entry_path(path: str, key: str) -> str:
    """The key path of a map entry: ``cmek:clusters[0].add_regions["us-west-2"]``."""
    return f'{path}["{key}"]'


class Checker:
    """Collects problems while checking values against the schema."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.secret = False

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def got(self, value: object) -> str:
        return SECRET if self.secret else shown(value)

    def check(self, value: object, tp: Any, path: str, schema_path: str) -> Any:
        """``value`` if it matches ``tp`` (objects: with invalid keys dropped), else ``INVALID``."""
        origin = get_origin(tp)
        if is_typeddict(tp):
            return self.check_object(value, schema_fields(tp), path, schema_path)
        if origin is Literal:
            return self._check_literal(value, get_args(tp), path)
        if tp is bool:
            if isinstance(value, bool):
                return value
            self.add(path, f"expected true or false, got {self.got(value)}")
            return INVALID
        if tp is int:
            return self._check_int(value, path, schema_path)
        if tp is str:
            return self._check_str(value, path, schema_path)
        if origin is list:
            return self._check_list(value, get_args(tp)[0], path, schema_path)
        if origin is dict:
            return self._check_map(value, get_args(tp)[1], path, schema_path, type_label(tp))
        raise TypeError(f"{schema_path}: unsupported schema type {tp!r}")  # a new type in component/args.py

    def check_object(
        self, value: object, fields: Mapping[str, SchemaField], path: str, schema_path: str
    ) -> dict[str, Any] | object:
        if not isinstance(value, Mapping):
            self.add(path, f"expected an object with keys {', '.join(fields)}, got {self.got(value)}")
            return INVALID
        checked: dict[str, Any] = {}
        for key, item in value.items():
            key_path = f"{path}.{key}"
            if not isinstance(key, str) or key not in fields:
                self.unknown_key(key_path, str(key), fields)
                continue
            sub_schema = f"{schema_path}.{key}" if schema_path else key
            result = self.check(item, fields[key].type, key_path, sub_schema)
            if result is not INVALID:
                checked[key] = result
        for name, field in fields.items():
            if field.required and name not in value:
                self.add(f"{path}.{name}", f"required key is missing ({type_label(field.type)})")
        return checked

    def unknown_key(self, path: str, key: str, known: Iterable[str]) -> None:
        if is_api_key_name(key):
            self.add(
                path,
                "the CockroachDB Cloud API key is not project configuration; remove this key and "
                f"run `{SET_API_KEY}`",
            )
            return
        known = list(known)
        hint = _suggest(key, known) or f"; valid keys: {', '.join(known)}"
        self.add(path, f"unknown key{hint}")

    def _check_literal(self, value: object, options: tuple[Any, ...], path: str) -> Any:
        if value in options and isinstance(value, str):
            return value
        listed = ", ".join(repr(o) for o in options)
        hint = ""
        if isinstance(value, str) and not self.secret:
            same_case = [o for o in options if isinstance(o, str) and o.lower() == value.lower()]
            hint = f"; did you mean {same_case[0]!r}?" if same_case else _suggest(value, map(str, options))
        self.add(path, f"expected one of {listed}, got {self.got(value)}{hint}")
        return INVALID

    def _check_int(self, value: object, path: str, schema_path: str) -> Any:
        low, high = int_range(schema_path)
        expected = int_form(schema_path)
        if isinstance(value, float) and not math.isfinite(value):
            self.add(path, f"expected {expected}, got {self.got(value)} (not a finite number)")
            return INVALID
        if isinstance(value, int) and not isinstance(value, bool):
            if (low is None or value >= low) and (high is None or value <= high):
                return value
            self.add(path, f"expected {expected}, got {self.got(value)}")
            return INVALID
        hint = " (a string: write the number without quotes)" if isinstance(value, str) and value.strip().isdigit() else ""
        self.add(path, f"expected {expected}, got {self.got(value)}{hint}")
        return INVALID

    def _check_str(self, value: object, path: str, schema_path: str) -> Any:
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                hint = (
                    " (a number: quote it in the stack file, or set it with "
                    "`pulumi config set --path --type string`)"
                )
            self.add(path, f"expected a string, got {self.got(value)}{hint}")
            return INVALID
        rule = STRING_RULES.get(schema_path)
        message = rule.problem(value, self.got(value), hints=not self.secret) if rule else None
        if message:
            self.add(path, message)
            return INVALID
        return value

    def _check_list(self, value: object, item_type: Any, path: str, schema_path: str) -> Any:
        if not isinstance(value, list):
            self.add(path, f"expected a list of {plural(type_label(item_type))}, got {self.got(value)}")
            return INVALID
        items = [self.check(item, item_type, f"{path}[{i}]", f"{schema_path}[]") for i, item in enumerate(value)]
        return [item for item in items if item is not INVALID]

    def _check_map(self, value: object, value_type: Any, path: str, schema_path: str, label: str) -> Any:
        if not isinstance(value, Mapping):
            self.add(path, f"expected a {label}, got {self.got(value)}")
            return INVALID
        checked: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                self.add(path, f"expected non-empty string keys, got key {key!r}")
                continue
            result = self.check(item, value_type, entry_path(path, key), f"{schema_path}.*")
            if result is not INVALID:
                checked[key] = result
        return checked
