"""How validation problems are reported: :class:`Problem`, :class:`SpecError`,
:class:`SpecProblems`, and how a value appears in their messages.

Pure logic: no Pulumi, no network. Every error names the field, the rule and the value
received, for example::

    region_specs[1].key_spec.uri: expected a KMS key ARN
    (arn:aws:kms:<region>:<account>:key/<id>), got 'alias/foo'

Values are shown cut to a readable length, and as ``[secret]`` while secret configuration is
checked (:func:`masked_values`).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SHOWN_MAX_CHARS = 120
"""Longest rendering of one value in a message: longer values are cut, with their length."""
SHOWN_MAX_DIGITS = 30
"""Integers with more digits are shown by their number of digits (Python refuses to print
integers of more than 4300 digits, and a 5000-digit value helps nobody)."""
SECRET = "[secret]"
"""What a message shows instead of a value from secret configuration."""

_MASKED: contextvars.ContextVar[bool] = contextvars.ContextVar("cmek_masked_values", default=False)


@contextlib.contextmanager
def masked_values(masked: bool = True) -> Iterator[None]:
    """Inside the block (when ``masked``), :func:`shown` and :func:`shown_names` print
    ``[secret]`` instead of values: used while checking secret configuration."""
    token = _MASKED.set(masked or _MASKED.get())
    try:
        yield
    finally:
        _MASKED.reset(token)


def values_masked() -> bool:
    """Whether messages must hide values now (inside :func:`masked_values`)."""
    return _MASKED.get()


def _digits(value: int) -> int:
    """About the number of decimal digits of ``value`` (off by at most one), without
    converting it to text."""
    return int(abs(value).bit_length() * math.log10(2)) + 1


def shown(value: object) -> str:
    """``value`` as a message shows it: its ``repr``, cut to :data:`SHOWN_MAX_CHARS` characters
    (with the full length), integers of more than :data:`SHOWN_MAX_DIGITS` digits by their
    number of digits, values nested too deeply to print named as such, and ``[secret]`` inside
    :func:`masked_values`."""
    if _MASKED.get():
        return SECRET
    if isinstance(value, int) and not isinstance(value, bool):
        digits = _digits(value)
        if digits > SHOWN_MAX_DIGITS:
            return f"an integer of about {digits} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a {type(value).__name__} nested too deeply to show"
    if len(text) <= SHOWN_MAX_CHARS:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters as text"
    return f"{text[: SHOWN_MAX_CHARS - 3]}... ({size})"


def plain(text: str) -> str:
    """``text`` (an id or a name, printed without quotes) or ``[secret]`` inside
    :func:`masked_values`."""
    return SECRET if _MASKED.get() else text


def suggestion(hint: str | None) -> str:
    """``; did you mean '<hint>'?``, or nothing when there is no hint or values are masked (a
    hint derived from a secret value would reveal it)."""
    return f"; did you mean {hint!r}?" if hint and not _MASKED.get() else ""


def shown_names(names: Iterable[object]) -> str:
    """Names (regions, keys) listed in a message, comma-separated, each cut like :func:`shown`;
    ``[secret]`` inside :func:`masked_values`."""
    if _MASKED.get():
        return SECRET
    parts = []
    for name in names:
        text = name if isinstance(name, str) else shown(name)
        parts.append(text if len(text) <= SHOWN_MAX_CHARS else f"{text[: SHOWN_MAX_CHARS - 3]}...")
    return ", ".join(parts)


class SpecError(ValueError):
    """A specification that breaks a rule. ``field`` is a path such as ``region_specs[0].region``."""

    def __init__(self, field: str, rule: str, value: object) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        super().__init__(f"{field}: {rule}, got {shown(value)}")


@dataclass(frozen=True)
class Problem:
    """One validation failure: where, and what is wrong (rule and value already in ``message``)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class SpecProblems(ValueError):
    """One or more validation problems, each naming its field, rule and value."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))



def region_mapping(raw: object, field: str, values: str, problems: list[Problem]) -> Mapping[Any, Any]:
    """``raw``, the value of the optional setting ``field``, as a mapping of cluster region ->
    ``values`` (``{}`` when absent); anything else adds a problem to ``problems`` and reads as
    ``{}``."""
    mapping = raw or {}
    if isinstance(mapping, Mapping):
        return mapping
    problems.append(Problem(field, f"expected a mapping of cluster region -> {values}, got {shown(mapping)}"))
    return {}
