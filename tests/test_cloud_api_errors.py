"""error_from_response: one mapping from HTTP status and Status body to the error a user sees."""

from __future__ import annotations

import email.utils
from typing import Any

import pytest

from cmek_component.cloud_api import errors as cloud_errors
from cmek_component.cloud_api import retry as cloud_retry
from cmek_component.cloud_api.api_key import MISSING_KEY_MESSAGE
from cmek_component.cloud_api.errors import (
    ApiConnectionError,
    CloudApiError,
    ConflictError,
    InvalidArgumentError,
    MissingApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnauthenticatedError,
    UnavailableError,
    error_from_response,
    parse_retry_after,
)
from cmek_component.cloud_api.retry import backoff_delay

PATH = "/api/v1/clusters/35c4abb2-bb66-46d7-afed-25ebef5ed2aa/cmek"


def status_body(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "details": []}


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, InvalidArgumentError),
        (401, UnauthenticatedError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitedError),
        (500, ServerError),
        (501, ServerError),
        (502, ServerError),
        (503, UnavailableError),
        (504, ServerError),
        (412, CloudApiError),
        (418, CloudApiError),
        (302, CloudApiError),
    ],
)
def test_status_chooses_the_error_class(status: int, error_class: type[CloudApiError]) -> None:
    error = error_from_response("GET", PATH, status, status_body(2, "boom"), {})
    assert type(error) is error_class
    assert isinstance(error, CloudApiError)
    assert (error.http_status, error.grpc_code, error.message, error.method, error.path) == (
        status, 2, "boom", "GET", PATH)


def test_message_names_call_status_code_and_api_text() -> None:
    message = "invalid argument: insufficient permissions to access the KMS key"
    error = error_from_response("POST", PATH, 400, status_body(3, message), {"Content-Type": "application/json"})
    assert str(error) == f"POST {PATH}: HTTP 400 (invalid argument): {message}"
    assert error.details == []


def test_grpc_code_names_the_problem_when_status_is_coarser() -> None:
    error = error_from_response("PUT", PATH, 400, status_body(9, "failed precondition: cluster is LOCKED"), {})
    assert isinstance(error, InvalidArgumentError)
    assert str(error) == f"PUT {PATH}: HTTP 400 (failed precondition): failed precondition: cluster is LOCKED"


def test_details_are_kept() -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "KMS"}]
    error = error_from_response("POST", PATH, 400, {"code": 3, "message": "m", "details": details}, {})
    assert error.details == details


def test_non_json_body_becomes_the_message() -> None:
    error = error_from_response("GET", PATH, 502, "<html><body>Bad gateway</body></html>\n", {})
    assert isinstance(error, ServerError)
    assert error.grpc_code is None
    assert str(error) == f"GET {PATH}: HTTP 502 (bad gateway): <html><body>Bad gateway</body></html>"
    long = error_from_response("GET", PATH, 500, "x" * 5000, {})
    assert len(long.message) == 500


def test_empty_body_gives_status_only() -> None:
    error = error_from_response("GET", PATH, 503, None, {})
    assert isinstance(error, UnavailableError)
    assert str(error) == f"GET {PATH}: HTTP 503 (unavailable)"


def test_map_shaped_bodies_are_tolerated() -> None:
    # grpc-gateway variants and gateways: code as a string, nested "error", no message at all.
    assert error_from_response("GET", PATH, 404, {"code": "5", "message": "not found: cluster"}, {}).grpc_code == 5
    nested = error_from_response("GET", PATH, 403, {"error": {"code": 7, "message": "permission denied: x"}}, {})
    assert (nested.grpc_code, nested.message) == (7, "permission denied: x")
    odd = error_from_response("GET", PATH, 400, {"reason": "bad"}, {})
    assert isinstance(odd, InvalidArgumentError) and odd.message == '{"reason": "bad"}'
    plain = error_from_response("GET", PATH, 401, {"error": "unauthenticated"}, {})
    assert isinstance(plain, UnauthenticatedError) and plain.message == "unauthenticated"
    listed = error_from_response("GET", PATH, 500, ["a"], {})
    assert isinstance(listed, ServerError) and listed.message == '["a"]'


def test_429_is_rate_limited_with_or_without_retry_after() -> None:
    with_header = error_from_response("GET", PATH, 429, status_body(8, "rate limit exceeded"), {"Retry-After": "4"})
    assert isinstance(with_header, RateLimitedError) and with_header.retry_after == 4.0
    without = error_from_response("GET", PATH, 429, None, {})
    assert isinstance(without, RateLimitedError) and without.retry_after is None


@pytest.mark.parametrize("status", [400, 403, 503, 500])
def test_rate_limit_answer_is_recognised_whatever_the_status(status: int) -> None:
    error = error_from_response(
        "GET", PATH, status, status_body(3, "Rate limit exceeded, slow down"), {"retry-after": "2"})
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 2.0 and error.http_status == status
    text = error_from_response("GET", PATH, status, "rate limit exceeded", {"Retry-After": "1"})
    assert isinstance(text, RateLimitedError)


def test_rate_limit_needs_both_retry_after_and_the_message() -> None:
    assert type(error_from_response("GET", PATH, 400, status_body(3, "rate limit exceeded"), {})) is InvalidArgumentError
    assert type(error_from_response("GET", PATH, 400, status_body(3, "bad region"), {"Retry-After": "2"})) is InvalidArgumentError


def test_parse_retry_after_numbers_dates_and_garbage() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("100000") == cloud_errors.MAX_RETRY_AFTER_SECONDS
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert parse_retry_after(date, now=lambda: now) == 12.0
    assert parse_retry_after(email.utils.formatdate(now - 50, usegmt=True), now=lambda: now) == 0.0


def test_transport_and_missing_key_errors_have_no_status() -> None:
    error = ApiConnectionError("GET", "/api/v1/organization", "no answer from https://x: timed out")
    assert str(error) == "GET /api/v1/organization: no answer from https://x: timed out"
    assert error.http_status is None
    missing = MissingApiKeyError("GET", "/api/v1/organization", MISSING_KEY_MESSAGE)
    assert "pulumi config set --secret cockroach:apiKey <key>" in str(missing)
    assert "COCKROACH_API_KEY" in str(missing)


def test_repr_names_class_call_and_status() -> None:
    error = error_from_response("POST", PATH, 409, status_body(6, "already exists: cmek"), {})
    assert repr(error) == (
        f"ConflictError(method='POST', path='{PATH}', http_status=409, grpc_code=6, message='already exists: cmek')"
    )


def test_backoff_doubles_from_the_factor_with_bounded_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloud_retry, "_jitter", lambda: 0.0)
    assert [backoff_delay(n, 0.5, 30) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    monkeypatch.setattr(cloud_retry, "_jitter", lambda: 1.0)
    assert [backoff_delay(n, 0.5, 30) for n in (1, 2, 3, 4)] == [0.625, 1.25, 2.5, 5.0]
    assert [backoff_delay(n, 1, 3) for n in (1, 2, 3, 4)] == [1.25, 2.5, 3, 3]
