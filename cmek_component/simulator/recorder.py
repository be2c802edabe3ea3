"""The record of every API request: what a test or a demo inspects afterwards.

The bearer key never enters the record: ``Authorization`` is kept as ``Bearer <redacted>``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from werkzeug.datastructures import Headers

MUTATING_METHODS = ("POST", "PUT", "PATCH", "DELETE")
REDACTED = "<redacted>"


@dataclass
class RecordedRequest:
    """One request and the answer it got. With ``fault == "drop"`` the client got no answer:
    ``status`` is None when the request was dropped before it took effect, else what the server
    did (``after_processing``)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    """Parsed JSON; the raw text when it is not JSON; None when empty."""
    status: int | None = None
    response_body: Any = None
    at: str = ""
    """Simulated time (RFC 3339) when the request arrived."""
    role: str | None = None
    """The role of the key used (never the key itself); None when unauthenticated."""
    fault: str | None = None
    """The injected fault that answered, if any (429, 500, 503, drop, slow ...)."""

    @property
    def is_mutating(self) -> bool:
        return self.method in MUTATING_METHODS

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def redacted_headers(headers: Headers) -> dict[str, str]:
    """Request headers with the credential removed (the scheme is kept: ``Bearer <redacted>``)."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in ("authorization", "proxy-authorization", "cookie"):
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        out[name] = value
    return out
