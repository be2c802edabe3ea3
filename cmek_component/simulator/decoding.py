"""Request-body decoding in the style of the Cloud API's protojson gateway.

Bodies are checked against the message shapes of the 2024-09-16 API before any handler runs, and
failures read like Go's protojson: ``proto: (line 1:42): invalid value for enum type: "HAHA"``.
``null`` leaves a field unset; lowerCamelCase names are accepted like snake_case; unknown fields
are dropped or refused (setting ``unknown_fields``). An empty body decodes as ``{}``.

Malformed input of any kind is a 400, never a crash: objects and arrays nested deeper than
``MAX_NESTING_DEPTH``, numbers too long for Python's ``int`` (more than 4300 digits) or beyond
the float range, and int32 values that are not ASCII digits within the int32 range.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, protojson_error

# --------------------------------------------------------------------------------------------
# A small JSON parser that remembers where each token starts (protojson errors carry line:col)
# --------------------------------------------------------------------------------------------


@dataclass
class Node:
    kind: str
    """object, array, string, number, true, false or null."""
    value: Any
    """object: list[(name, name_offset, Node)]; array: list[Node]; scalars: the Python value."""
    pos: int
    text: str
    """The raw token text (scalars) for error messages."""


_STRING_DECODER = json.JSONDecoder()
_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_INT32_TEXT_RE = re.compile(r"-?[0-9]{1,10}")
_WS = " \t\n\r"
MAX_NESTING_DEPTH = 100
"""Objects and arrays nested deeper than this are refused (``exceeded max recursion depth``, as
Go's protojson words it at its own limit). The API's request messages nest at most 5 levels; the
parser recurses, so the limit also keeps it far from Python's recursion limit."""
MAX_INT_DIGITS = 4300
"""Longer integer literals are kept as floats (Python's ``int`` refuses them): an int32 field
then gets the usual "invalid value for int32 type"; an ignored field is ignored."""
_SHOWN_CHARS = 40


def _shown(text: str) -> str:
    """A token for an error message, cut to ``_SHOWN_CHARS`` characters."""
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + f"... ({len(text)} characters)"


def _number(raw: str) -> float | int:
    """A JSON number token as ``int`` (integers of up to ``MAX_INT_DIGITS`` digits) or ``float``
    (which is ``inf`` beyond the float range)."""
    if any(c in raw for c in ".eE") or len(raw.lstrip("-")) > MAX_INT_DIGITS:
        return float(raw)
    return int(raw)


class _SyntaxError(Exception):
    def __init__(self, pos: int, what: str) -> None:
        super().__init__(what)
        self.pos = pos
        self.what = what


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.depth = 0

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] in _WS:
            self.i += 1

    def parse(self) -> Node:
        node = self.value()
        self.skip()
        if self.i != len(self.text):
            raise _SyntaxError(self.i, f"unexpected token {self.text[self.i:self.i + 10]}")
        return node

    def value(self) -> Node:
        self.skip()
        if self.i >= len(self.text):
            raise _SyntaxError(self.i, "unexpected token")
        ch, start = self.text[self.i], self.i
        if ch in "{[":
            self.depth += 1
            if self.depth > MAX_NESTING_DEPTH:
                raise _SyntaxError(start, "exceeded max recursion depth")
            node = self.obj() if ch == "{" else self.arr()
            self.depth -= 1
            return node
        if ch == '"':
            try:
                value, end = _STRING_DECODER.raw_decode(self.text, self.i)
            except json.JSONDecodeError as exc:
                raise _SyntaxError(start, "invalid string") from exc
            self.i = end
            return Node("string", value, start, self.text[start:end])
        for word, kind, value in (("true", "true", True), ("false", "false", False), ("null", "null", None)):
            if self.text.startswith(word, self.i):
                self.i += len(word)
                return Node(kind, value, start, word)
        m = _NUMBER_RE.match(self.text, self.i)
        if m:
            self.i = m.end()
            raw = m.group(0)
            return Node("number", _number(raw), start, raw)
        raise _SyntaxError(start, f"invalid value {self.text[self.i:self.i + 10]}")

    def obj(self) -> Node:
        start = self.i
        self.i += 1
        members: list[tuple[str, int, Node]] = []
        self.skip()
        if self.text.startswith("}", self.i):
            self.i += 1
            return Node("object", members, start, "{")
        while True:
            self.skip()
            name_pos = self.i
            if not self.text.startswith('"', self.i):
                raise _SyntaxError(self.i, "unexpected token, expected a field name")
            name = self.value().value
            self.skip()
            if not self.text.startswith(":", self.i):
                raise _SyntaxError(self.i, "unexpected token, expected ':'")
            self.i += 1
            members.append((name, name_pos, self.value()))
            if self.closed_after_comma("}"):
                return Node("object", members, start, "{")

    def arr(self) -> Node:
        start = self.i
        self.i += 1
        items: list[Node] = []
        self.skip()
        if self.text.startswith("]", self.i):
            self.i += 1
            return Node("array", items, start, "[")
        while True:
            items.append(self.value())
            if self.closed_after_comma("]"):
                return Node("array", items, start, "[")

    def closed_after_comma(self, close: str) -> bool:
        """After an object member or array item: ``False`` past a ``,`` (another follows),
        ``True`` past ``close`` (the end); anything else is a syntax error."""
        self.skip()
        if self.text.startswith(",", self.i):
            self.i += 1
            return False
        if self.text.startswith(close, self.i):
            self.i += 1
            return True
        raise _SyntaxError(self.i, f"unexpected token, expected ',' or '{close}'")


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f"line {line}:{col}"


# --------------------------------------------------------------------------------------------
# Message shapes (the 2024-09-16 request bodies the simulator serves)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    kind: str
    """string, int32, enum, message, repeated, map, struct (any JSON object, not inspected)."""
    enum: tuple[str, ...] = ()
    message: Mapping[str, FieldType] | None = None
    item: FieldType | None = None


STRING = FieldType("string")
INT32 = FieldType("int32")
STRUCT = FieldType("struct")


def enum(*values: str) -> FieldType:
    return FieldType("enum", enum=values)


def message(fields: Mapping[str, FieldType]) -> FieldType:
    return FieldType("message", message=fields)


def repeated(item: FieldType) -> FieldType:
    return FieldType("repeated", item=item)


def map_of(item: FieldType) -> FieldType:
    return FieldType("map", item=item)


KEY_TYPES = ("AWS_KMS", "GCP_CLOUD_KMS", "NULL_KMS", "AZURE_KEY_VAULT")
KEY_SPEC = message({"type": enum(*KEY_TYPES), "uri": STRING, "auth_principal": STRING})
REGION_SPEC = message({"region": STRING, "key_spec": KEY_SPEC})
CMEK_CLUSTER_SPECIFICATION = message({"region_specs": repeated(REGION_SPEC)})
UPDATE_CMEK_STATUS_REQUEST = message({"action": enum("REVOKE")})
DEDICATED_CLUSTER_UPDATE = message(
    {"cmek_region_specs": repeated(REGION_SPEC), "hardware": STRUCT, "region_nodes": map_of(INT32)}
)
UPDATE_CLUSTER_SPECIFICATION = message(
    {
        "cockroach_version": STRING,
        "dedicated": DEDICATED_CLUSTER_UPDATE,
        "delete_protection": enum("ENABLED", "DISABLED"),
        "labels": map_of(STRING),
        "parent_id": STRING,
        "plan": enum("BASIC", "STANDARD", "ADVANCED"),
        "serverless": STRUCT,
        "upgrade_status": enum(
            "FINALIZED", "MAJOR_UPGRADE_RUNNING", "UPGRADE_AVAILABLE", "PENDING_FINALIZATION", "ROLLBACK_RUNNING"
        ),
    }
)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class _Decoder:
    def __init__(self, text: str, reject_unknown: bool) -> None:
        self.text = text
        self.reject_unknown = reject_unknown

    def fail(self, pos: int, what: str) -> ApiError:
        return protojson_error(f"proto: ({_line_col(self.text, pos)}): {what}")

    def decode(self, node: Node, ftype: FieldType) -> Any:
        kind = ftype.kind
        if kind == "message":
            assert ftype.message is not None
            return self.decode_message(node, ftype.message)
        if kind == "repeated":
            assert ftype.item is not None
            if node.kind != "array":
                raise self.fail(node.pos, f"unexpected token {node.text}")
            return [self.decode(item, ftype.item) for item in node.value if item.kind != "null"]
        if kind == "map":
            assert ftype.item is not None
            if node.kind != "object":
                raise self.fail(node.pos, f"unexpected token {node.text}")
            return {name: self.decode(value, ftype.item) for name, _pos, value in node.value}
        if kind == "struct":
            if node.kind != "object":
                raise self.fail(node.pos, f"unexpected token {node.text}")
            return _plain(node)
        if kind == "string":
            if node.kind != "string":
                raise self.fail(node.pos, f"invalid value for string type: {node.text}")
            return node.value
        if kind == "int32":
            value = _int32(node)
            if value is None:
                raise self.fail(node.pos, f"invalid value for int32 type: {_shown(node.text)}")
            return value
        if kind == "enum":
            if node.kind != "string" or node.value not in ftype.enum:
                raise self.fail(node.pos, f"invalid value for enum type: {node.text}")
            return node.value
        raise AssertionError(kind)

    def decode_message(self, node: Node, fields: Mapping[str, FieldType]) -> dict[str, Any]:
        if node.kind != "object":
            raise self.fail(node.pos, f"unexpected token {node.text}")
        aliases = {_camel(name): name for name in fields}
        out: dict[str, Any] = {}
        for raw_name, pos, value in node.value:
            name = raw_name if raw_name in fields else aliases.get(raw_name)
            if name is None:
                if self.reject_unknown:
                    raise self.fail(pos, f'unknown field "{raw_name}"')
                continue
            if name in out:
                raise self.fail(pos, f'duplicate field "{raw_name}"')
            if value.kind == "null":
                continue
            out[name] = self.decode(value, fields[name])
        return out


def _int32(node: Node) -> int | None:
    """An int32 field's value: a JSON integer (``5``, ``5.0``, ``5e0``) or a string of ASCII
    digits (protojson accepts both), within the int32 range; ``None`` otherwise."""
    value = node.value
    if node.kind == "string":
        if not isinstance(value, str) or not _INT32_TEXT_RE.fullmatch(value):
            return None
        value = int(value)
    elif node.kind != "number":
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    return value if -(2**31) <= value < 2**31 else None


def _plain(node: Node) -> Any:
    if node.kind == "object":
        return {name: _plain(value) for name, _pos, value in node.value}
    if node.kind == "array":
        return [_plain(item) for item in node.value]
    return node.value


def decode_body(raw: bytes, shape: FieldType, *, reject_unknown: bool) -> dict[str, Any]:
    """Decodes a request body against ``shape``; raises ``ApiError`` (400) like protojson would."""
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return {}
    try:
        node = _Parser(text).parse()
    except _SyntaxError as exc:
        raise protojson_error(f"proto: syntax error ({_line_col(text, exc.pos)}): {exc.what}") from None
    assert shape.message is not None
    return _Decoder(text, reject_unknown).decode_message(node, shape.message)


def parse_json_or_none(raw: bytes) -> Any:
    """The body as JSON for the request record; the raw text if it is not JSON; None if empty."""
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # not JSON, a 4300+ digit integer, or too deep
        return text
