"""The CockroachDB Cloud API key: where it comes from, what it may hold, and its redaction.

The key is the argument or ``COCKROACH_API_KEY`` (``API_KEY_ENV``). Surrounding whitespace is
stripped from it; a key with a control character, a space or a non-ASCII character inside is
refused (``api_key_problem``, naming the character, not the key) before anything is sent.
``secret_forms`` lists every spelling of the key an error text can contain (as is, JSON- or
``repr``-escaped, in a bytes ``repr``, percent-encoded), which the client removes from every
error it raises. Pure: no network library is imported here.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

__all__ = ["API_KEY_ENV", "MISSING_KEY_MESSAGE", "api_key_problem", "secret_forms"]

API_KEY_ENV = "COCKROACH_API_KEY"
MISSING_KEY_MESSAGE = (
    "no CockroachDB Cloud API key: run `pulumi config set --secret cockroach:apiKey <key>` "
    f"or set {API_KEY_ENV}"
)
_KEY_CHARACTER = re.compile(r"[!-~]", re.ASCII)
"""What an API key is made of: printable ASCII without spaces (keys look like ``CCDB1_...``)."""


def api_key_problem(api_key: str) -> str | None:
    """Why ``api_key`` (already stripped of surrounding whitespace) cannot be an API key, naming
    the first offending character and its position but never the key; ``None`` when it can."""
    for index, char in enumerate(api_key):
        if _KEY_CHARACTER.fullmatch(char):
            continue
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            kind = "a line break" if char in "\r\n" else "a control character"
        elif char.isspace():
            kind = "a space"
        else:
            kind = "a non-ASCII character"
        return (
            f"the CockroachDB Cloud API key contains {kind} (U+{code:04X}) at position {index + 1} of "
            f"{len(api_key)}; an API key is printable ASCII without spaces. Copy the key again and run "
            f"`pulumi config set --secret cockroach:apiKey <key>` (or set {API_KEY_ENV})"
        )
    return None


def secret_forms(*keys: str | None) -> tuple[str, ...]:
    """Every spelling of the keys that an error text can contain: as is, JSON-escaped,
    ``repr``-escaped, inside a bytes ``repr``, and percent-encoded; longest first."""
    forms: set[str] = set()
    for key in keys:
        if not key:
            continue
        forms.update(
            {
                key,
                json.dumps(key)[1:-1],
                json.dumps(key, ensure_ascii=False)[1:-1],
                repr(key)[1:-1],
                repr(key.encode("utf-8", "backslashreplace"))[2:-1],
                quote(key, safe=""),
            }
        )
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))
