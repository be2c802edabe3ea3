"""Errors the simulated API answers with: an HTTP status plus a google.rpc.Status body.

Every non-2xx answer has the body ``{"code": <gRPC code>, "message": "<code text>: <detail>",
"details": []}``, the shape grpc-gateway emits and the OpenAPI ``Status`` schema describes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK = 0
INVALID_ARGUMENT = 3
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
UNAUTHENTICATED = 16

CODE_TEXT: dict[int, str] = {
    INVALID_ARGUMENT: "invalid argument",
    NOT_FOUND: "not found",
    ALREADY_EXISTS: "already exists",
    PERMISSION_DENIED: "permission denied",
    RESOURCE_EXHAUSTED: "resource exhausted",
    FAILED_PRECONDITION: "failed precondition",
    ABORTED: "aborted",
    UNIMPLEMENTED: "unimplemented",
    INTERNAL: "internal",
    UNAVAILABLE: "unavailable",
    UNAUTHENTICATED: "unauthenticated",
}

# grpc-gateway's mapping from gRPC code to HTTP status (FAILED_PRECONDITION is 400 in v2).
HTTP_STATUS_FOR_CODE: dict[int, int] = {
    INVALID_ARGUMENT: 400,
    NOT_FOUND: 404,
    ALREADY_EXISTS: 409,
    PERMISSION_DENIED: 403,
    RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 400,
    ABORTED: 409,
    UNIMPLEMENTED: 501,
    INTERNAL: 500,
    UNAVAILABLE: 503,
    UNAUTHENTICATED: 401,
}

# The gRPC code used when a setting chooses the HTTP status of a refusal.
CODE_FOR_REFUSAL_STATUS: dict[int, int] = {
    400: FAILED_PRECONDITION,
    404: NOT_FOUND,
    409: ABORTED,
    412: FAILED_PRECONDITION,
    503: UNAVAILABLE,
}


@dataclass
class ApiError(Exception):
    """An answer other than 200. ``message`` is the detail; the body prefixes the code text."""

    http_status: int
    code: int
    detail: str
    headers: dict[str, str] = field(default_factory=dict)
    raw_message: bool = False
    """True when ``detail`` is the whole message (protojson errors, "invalid Cc-Version.")."""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self.raw_message:
            return self.detail
        return f"{CODE_TEXT.get(self.code, 'unknown')}: {self.detail}"

    def body(self) -> dict[str, Any]:
        return status_body(self.code, self.message)


def status_body(code: int, message: str) -> dict[str, Any]:
    """The google.rpc.Status JSON shape."""
    return {"code": code, "message": message, "details": []}


def error(code: int, detail: str, *, http_status: int | None = None) -> ApiError:
    """An ``ApiError`` for ``code`` with grpc-gateway's HTTP status unless one is given."""
    return ApiError(http_status or HTTP_STATUS_FOR_CODE[code], code, detail)


def invalid_argument(detail: str) -> ApiError:
    return error(INVALID_ARGUMENT, detail)


def not_found(detail: str) -> ApiError:
    return error(NOT_FOUND, detail)


def unavailable(detail: str) -> ApiError:
    return error(UNAVAILABLE, detail)


def refusal(http_status: int, detail: str, *, code_for_409: int = ABORTED) -> ApiError:
    """A refusal whose HTTP status comes from a setting; the gRPC code follows the status."""
    code = code_for_409 if http_status == 409 else CODE_FOR_REFUSAL_STATUS.get(http_status, FAILED_PRECONDITION)
    return ApiError(http_status, code, detail)


def protojson_error(detail: str) -> ApiError:
    """A body-decoding failure, worded like Go's protojson (``proto: (line 1:42): ...``)."""
    return ApiError(400, INVALID_ARGUMENT, detail, raw_message=True)
