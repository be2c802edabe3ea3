"""Typed views of the CockroachDB Cloud API objects the CMEK component reads.

Every model is a frozen dataclass built with ``from_api(dict)`` and turned back into API JSON
with ``to_api()``. The API marks almost every field optional and adds fields over time, so:

- a missing field gets an empty default (``""``, ``0``, ``False``, ``[]``, ``None``);
- the whole object as received is kept in ``raw`` (not shown in ``repr``, not compared), and
  ``to_api()`` starts from it: unknown fields, absent fields and ``null`` values come back
  exactly as they came in. A field changed with ``dataclasses.replace`` is written in API form;
- string fields are server text that ends up in messages, so they go through ``printable``:
  ANSI escape sequences and control characters (CR, NUL, BEL, bidi overrides ...) are removed,
  line breaks and tabs become spaces. ``raw`` keeps the text as received.

A model built directly (no ``raw``) serialises every field it knows.

Pure logic: no network, no Pulumi.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Self, get_args, get_origin, get_type_hints

from cmek_component.manifest.region_specs import KeySpec

__all__ = [
    "CMEK_DISABLED",
    "CMEK_ENABLED",
    "Cluster",
    "ClusterRegion",
    "CmekInfo",
    "KeyInfo",
    "Organization",
    "RegionInfo",
    "printable",
]

CMEK_ENABLED = "ENABLED"
CMEK_DISABLED = "DISABLED"
"""``CMEKStatus`` values used by the client. The full enum: DISABLED, DISABLING, DISABLE_FAILED,
ENABLED, ENABLING, ENABLE_FAILED, ROTATING, ROTATE_FAILED, REVOKED, REVOKING, REVOKE_FAILED."""


_TERMINAL_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, screen clears
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window titles, hyperlinks
    r"|[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|[ -/]*[0-~])?"  # two- and three-character escapes (or a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_LINE_BREAKS = re.compile(r"[\t\n\v\f\r\u0085\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` (from a server) safe to show in a terminal or a log: ANSI/VT escape sequences and
    control characters (NUL, BEL, backspace, CR ..., C1 controls and bidirectional overrides)
    removed, each run of line breaks or tabs replaced by one space. Printable text, including
    non-ASCII letters, is kept."""
    text = _TERMINAL_ESCAPE.sub("", text)
    text = _LINE_BREAKS.sub(" ", text)
    return _CONTROL.sub("", text)


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _str(value: object) -> str:
    return printable(value) if isinstance(value, str) else ""


def _opt_str(value: object) -> str | None:
    return printable(value) if isinstance(value, str) else None


def _int(value: object) -> int:
    # int64 fields may arrive as JSON strings (protojson); int32 ones as numbers.
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return 0
    return 0


def _encode(value: object) -> object:
    """API JSON for a field value: models and key specs via ``to_api``, lists element-wise."""
    if isinstance(value, list):
        return [_encode(item) for item in value]
    to_api = getattr(value, "to_api", None)
    if callable(to_api):
        return to_api()
    return value


def _decoder(hint: Any) -> Callable[[object], Any]:
    """How a model field of type ``hint`` is read from API JSON: text through ``printable``,
    integers also from JSON strings, booleans only from ``true``, nested objects and lists of
    them with their ``from_api``."""
    if hint is str:
        return _str
    if hint == str | None:
        return _opt_str
    if hint is int:
        return _int
    if hint is bool:
        return lambda value: value is True
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return lambda value: [item.from_api(_mapping(entry)) for entry in _list(value)]
    return lambda value: hint.from_api(_mapping(value))


_DECODERS: dict[type, dict[str, Callable[[object], Any]]] = {}


def _decoders(model: type) -> dict[str, Callable[[object], Any]]:
    """Field name -> decoder for every API field of ``model`` (all but ``raw``), worked out once."""
    if model not in _DECODERS:
        hints = get_type_hints(model)
        _DECODERS[model] = {f.name: _decoder(hints[f.name]) for f in fields(model) if f.name != "raw"}
    return _DECODERS[model]


@dataclass(frozen=True)
class _ApiModel:
    """Base for the models: ``raw`` keeps the object as received, for a faithful ``to_api``."""

    raw: Mapping[str, Any] | None = field(default=None, repr=False, compare=False, kw_only=True)
    """The object as received (``None`` for a model built in code)."""

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> Self:
        """The model for API object ``data``: each field read as its type says (see
        :func:`_decoder`; a missing or mistyped value gives the empty default)."""
        data = _mapping(data)
        values = {name: decode(data.get(name)) for name, decode in _decoders(cls).items()}
        return cls(**values, raw=copy.deepcopy(dict(data)))

    def to_api(self) -> dict[str, Any]:
        """The API JSON for this object (unknown and absent fields preserved, see module doc)."""
        known = [f.name for f in fields(self) if f.name != "raw"]
        if self.raw is None:
            return {name: _encode(getattr(self, name)) for name in known if getattr(self, name) is not None}
        original = type(self).from_api(self.raw)
        out = copy.deepcopy(dict(self.raw))
        for name in known:
            value = getattr(self, name)
            if value != getattr(original, name):
                out[name] = _encode(value)
        return out


@dataclass(frozen=True)
class KeyInfo(_ApiModel):
    """One key (current or past) of a cluster region: ``CMEKKeyInfo``.

    ``status`` is a ``CMEKStatus`` (``ENABLED``, ``ENABLING``, ``ENABLE_FAILED``, ``REVOKED`` ...);
    ``user_message`` explains a failure and hints at the fix; timestamps are RFC 3339 strings.
    """

    spec: KeySpec
    status: str = ""
    user_message: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    def to_api(self) -> dict[str, Any]:
        out = super().to_api()
        # KeySpec (from manifest) drops unknown fields and writes "" for absent ones; when the
        # spec is unchanged, give back the spec object exactly as received.
        if self.raw is None:
            return out
        raw_spec = self.raw.get("spec")
        if "spec" in self.raw and self.spec == KeySpec.from_api(_mapping(raw_spec)):
            out["spec"] = copy.deepcopy(raw_spec)
        return out


@dataclass(frozen=True)
class RegionInfo(_ApiModel):
    """CMEK state of one cluster region: ``CMEKRegionInfo`` (current and past keys)."""

    region: str
    status: str = ""
    key_infos: list[KeyInfo] = field(default_factory=list)

    @property
    def current_key(self) -> KeyInfo | None:
        """The region's ENABLED key; otherwise the newest key (latest ``created_at``, then last
        listed); ``None`` when the region lists no key."""
        for key in self.key_infos:
            if key.status == CMEK_ENABLED:
                return key
        if not self.key_infos:
            return None
        indexed = list(enumerate(self.key_infos))
        return max(indexed, key=lambda item: (item[1].created_at or "", item[0]))[1]


@dataclass(frozen=True)
class CmekInfo(_ApiModel):
    """CMEK state of a whole cluster: ``CMEKClusterInfo``."""

    status: str = ""
    region_infos: list[RegionInfo] = field(default_factory=list)

    def region(self, name: str) -> RegionInfo | None:
        """The region called ``name`` (cloud spelling, e.g. ``us-east-1``), or ``None``."""
        for info in self.region_infos:
            if info.region == name:
                return info
        return None

    @property
    def never_enabled(self) -> bool:
        """True for the answer some servers give a cluster without CMEK: DISABLED, no regions."""
        return self.status == CMEK_DISABLED and not self.region_infos


@dataclass(frozen=True)
class ClusterRegion(_ApiModel):
    """One region of a cluster (the ``Region`` schema; DNS names are kept in ``raw``)."""

    name: str
    node_count: int = 0
    primary: bool = False


@dataclass(frozen=True)
class Cluster(_ApiModel):
    """The parts of a ``Cluster`` the CMEK component uses.

    ``cloud_provider``: ``AWS``, ``GCP`` or ``AZURE``. ``plan``: ``BASIC``, ``STANDARD`` or
    ``ADVANCED`` (CMEK needs ``ADVANCED``). ``state``: ``CREATING``, ``CREATED``,
    ``CREATION_FAILED``, ``DELETED`` or ``LOCKED``. ``network_visibility``: ``PUBLIC`` or
    ``PRIVATE``. ``account_id``: the CockroachDB-managed AWS account or GCP project that key
    permissions are granted to (may be empty). Every other field stays in ``raw``.
    """

    id: str
    name: str = ""
    cloud_provider: str = ""
    plan: str = ""
    state: str = ""
    network_visibility: str = ""
    operation_status: str = ""
    account_id: str = ""
    regions: list[ClusterRegion] = field(default_factory=list)

    @property
    def region_nodes(self) -> dict[str, int]:
        """Region name -> node count, the shape ``add_regions`` needs for the regions kept."""
        return {region.name: region.node_count for region in self.regions}


@dataclass(frozen=True)
class Organization(_ApiModel):
    """The organization that owns the API key. ``id`` is the AWS external ID for CMEK roles."""

    id: str
    name: str = ""
    label: str = ""

