"""The errors of the CockroachDB Cloud API client, and how an answer that is not a success becomes one.

Every answer that is not a success raises one ``CloudApiError`` subclass, chosen by
``error_from_response`` from the HTTP status and the ``Status`` body. Server text in an error
(message, details, a non-JSON body) goes through ``cloud_api.models.printable``: no terminal escape
sequences, control characters or line breaks reach a message. An answer with ``Retry-After`` and
the message "rate limit exceeded" is a rate-limit answer whatever its status
(``is_rate_limit_answer``). Pure: no network library is imported here.
"""

from __future__ import annotations

import email.utils
import http
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cmek_component.cloud_api.models import printable

__all__ = [
    "ApiConnectionError",
    "CloudApiError",
    "ConflictError",
    "InvalidApiKeyError",
    "InvalidArgumentError",
    "MissingApiKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServerError",
    "UnauthenticatedError",
    "UnavailableError",
    "error_from_response",
    "is_rate_limit_answer",
    "map_json_strings",
    "parse_retry_after",
]

MAX_RETRY_AFTER_SECONDS = 300
"""A longer ``Retry-After`` is shortened to this (the retry then usually fails fast)."""
RATE_LIMIT_MESSAGE = "rate limit exceeded"

GRPC_CODE_NAMES: dict[int, str] = {
    1: "cancelled",
    2: "unknown",
    3: "invalid argument",
    4: "deadline exceeded",
    5: "not found",
    6: "already exists",
    7: "permission denied",
    8: "resource exhausted",
    9: "failed precondition",
    10: "aborted",
    11: "out of range",
    12: "unimplemented",
    13: "internal",
    14: "unavailable",
    15: "data loss",
    16: "unauthenticated",
}
_STATUS_LABELS: dict[int, str] = {
    400: "invalid argument",
    401: "unauthenticated",
    403: "permission denied",
    404: "not found",
    409: "conflict",
    429: "rate limited",
    500: "internal",
    503: "unavailable",
}


class CloudApiError(Exception):
    """A Cloud API call that did not succeed.

    ``method`` and ``path`` name the call; ``http_status`` is ``None`` when no answer came back;
    ``grpc_code`` is the ``code`` of the ``Status`` body (3 invalid argument, 5 not found,
    7 permission denied, 9 failed precondition, 14 unavailable, 16 unauthenticated ...) when
    there was one; ``message`` is the API's own text; ``details`` the ``Status.details`` list.
    """

    def __init__(
        self,
        method: str,
        path: str,
        message: str,
        *,
        http_status: int | None = None,
        grpc_code: int | None = None,
        details: Sequence[object] = (),
    ) -> None:
        self.method = method
        self.path = path
        self.message = message
        self.http_status = http_status
        self.grpc_code = grpc_code
        self.details = list(details)
        super().__init__(str(self))

    @property
    def label(self) -> str:
        """A short name for what went wrong: the gRPC code's name, else the HTTP status's."""
        if self.grpc_code is not None and self.grpc_code in GRPC_CODE_NAMES:
            return GRPC_CODE_NAMES[self.grpc_code]
        if self.http_status is None:
            return ""
        if self.http_status in _STATUS_LABELS:
            return _STATUS_LABELS[self.http_status]
        try:
            return http.HTTPStatus(self.http_status).phrase.lower()
        except ValueError:
            return "unexpected status"

    def __str__(self) -> str:
        where = f"{self.method} {self.path}"
        if self.http_status is None:
            return f"{where}: {self.message}"
        head = f"{where}: HTTP {self.http_status} ({self.label})"
        return f"{head}: {self.message}" if self.message else head

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(method={self.method!r}, path={self.path!r}, "
            f"http_status={self.http_status!r}, grpc_code={self.grpc_code!r}, message={self.message!r})"
        )


class InvalidArgumentError(CloudApiError):
    """HTTP 400: a request field is invalid, or (POST CMEK) the key cannot be used yet."""


class UnauthenticatedError(CloudApiError):
    """HTTP 401: the API key is wrong, expired or deleted."""


class PermissionDeniedError(CloudApiError):
    """HTTP 403: the key's service account lacks the role (CMEK needs CLUSTER_ADMIN or
    CLUSTER_OPERATOR_WRITER on the cluster)."""


class NotFoundError(CloudApiError):
    """HTTP 404: no such cluster (or no CMEK configuration on it)."""


class ConflictError(CloudApiError):
    """HTTP 409: the operation conflicts with the resource's current state."""


class RateLimitedError(CloudApiError):
    """HTTP 429, or any status with ``Retry-After`` and "rate limit exceeded".

    ``retry_after``: seconds the server asked to wait, ``None`` when it did not say.
    """

    def __init__(self, method: str, path: str, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(method, path, message, **kw)


class UnavailableError(CloudApiError):
    """HTTP 503: the service, or the cluster (e.g. LOCKED by another operation), is busy."""


class ServerError(CloudApiError):
    """Any other HTTP 5xx."""


class ApiConnectionError(CloudApiError):
    """No answer: connection refused or reset, TLS failure, or timeout (``http_status`` None)."""


class MissingApiKeyError(CloudApiError):
    """No API key was given and ``COCKROACH_API_KEY`` is not set."""


class InvalidApiKeyError(CloudApiError):
    """The API key holds a character an API key never has (a line break, a control character, a
    space or a non-ASCII character, after surrounding whitespace was stripped). The message names
    the character and its position, never the key."""


_ERROR_FOR_STATUS: dict[int, type[CloudApiError]] = {
    400: InvalidArgumentError,
    401: UnauthenticatedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
    503: UnavailableError,
}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (works for plain dicts and requests' header dicts)."""
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, item in headers.items():
        if key.lower() == lowered:
            return item
    return None


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds from a ``Retry-After`` value: a number (``"2"``, ``"1.5"``) or an HTTP date.

    ``None`` when absent or unreadable; never negative; at most ``MAX_RETRY_AFTER_SECONDS``.
    """
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        seconds = float(text)
    else:
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if parsed.tzinfo is None:
            return None
        seconds = parsed.timestamp() - now()
    return min(max(seconds, 0.0), float(MAX_RETRY_AFTER_SECONDS))


def _status_fields(body: object) -> tuple[str, int | None, list[object]]:
    """``(message, grpc_code, details)`` from a ``Status`` body, a map-shaped body or text."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        return printable(body).strip()[:500], None, []
    if not isinstance(body, Mapping):
        return ("" if body is None else json.dumps(body)[:500]), None, []
    source: Mapping[str, Any] = body
    nested = body.get("error")
    if isinstance(nested, Mapping):  # {"error": {"code": .., "message": ..}} gateways
        source = nested
    message = source.get("message")
    if not isinstance(message, str):
        message = nested if isinstance(nested, str) else (json.dumps(body)[:500] if body else "")
    code = source.get("code")
    grpc_code: int | None = None
    if isinstance(code, int) and not isinstance(code, bool):
        grpc_code = code
    elif isinstance(code, str) and code.isdigit():
        grpc_code = int(code)
    details = source.get("details")
    return printable(message), grpc_code, map_json_strings(details, printable) if isinstance(details, list) else []


def map_json_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``change`` through the strings (keys included) of a decoded JSON value (the Status
    ``details``): ``printable`` here, the key's redaction in the client."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_json_strings(item, change) for item in value]
    if isinstance(value, Mapping):
        return {change(str(k)): map_json_strings(v, change) for k, v in value.items()}
    return value


def is_rate_limit_answer(status: int, body: object, headers: Mapping[str, str]) -> bool:
    """True for HTTP 429, and for any status carrying ``Retry-After`` and "rate limit exceeded"."""
    if status == 429:
        return True
    if _header(headers, "Retry-After") is None:
        return False
    message, _, _ = _status_fields(body)
    return RATE_LIMIT_MESSAGE in message.lower()


def error_from_response(
    method: str, path: str, status: int, body: object, headers: Mapping[str, str]
) -> CloudApiError:
    """The error for a non-success answer; the one place where statuses map to error classes.

    ``body`` is the parsed JSON (a ``Status`` ``{code, message, details}`` or any other map),
    or the raw text when the body is not JSON. 400 -> ``InvalidArgumentError``, 401 ->
    ``UnauthenticatedError``, 403 -> ``PermissionDeniedError``, 404 -> ``NotFoundError``,
    409 -> ``ConflictError``, 429 or a rate-limit answer -> ``RateLimitedError``, 503 ->
    ``UnavailableError``, other 5xx -> ``ServerError``, anything else -> ``CloudApiError``.
    """
    message, grpc_code, details = _status_fields(body)
    common: dict[str, Any] = {"http_status": status, "grpc_code": grpc_code, "details": details}
    if is_rate_limit_answer(status, body, headers):
        retry_after = parse_retry_after(_header(headers, "Retry-After"))
        return RateLimitedError(method, path, message, retry_after=retry_after, **common)
    cls = _ERROR_FOR_STATUS.get(status)
    if cls is None:
        cls = ServerError if 500 <= status <= 599 else CloudApiError
    return cls(method, path, message, **common)

