"""One attempt of a Cloud API call: the request, its answer read in, and every failure as a ``CloudApiError``.

``attempt`` sends the request with the key as a bearer token, bounded by ``attempt_timeout``
(``transport.watched_attempts``), reads at most ``max_response_bytes`` of the answer and parses its
JSON. It never raises: every exception becomes a ``CloudApiError`` whose text went through
``scrub`` (the client's redaction of the key) and that keeps no chained original.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
import urllib3.exceptions

from cmek_component.cloud_api.errors import ApiConnectionError, CloudApiError
from cmek_component.cloud_api.models import printable
from cmek_component.cloud_api.transport import BodyError, parse_json, read_body, watched_attempts

__all__ = ["MAX_JSON_DEPTH", "AttemptOutcome", "attempt"]

MAX_JSON_DEPTH = 64
"""Deepest JSON nesting taken in: the API's objects nest fewer than 10 levels (a Status's details
a few more), and deeper input would make ``json`` and ``copy.deepcopy`` raise RecursionError."""

AttemptOutcome = tuple[int, Any, Mapping[str, str], CloudApiError | None]
"""(HTTP status, parsed answer, answer headers, the ``CloudApiError`` for a failure or ``None``)."""

log = logging.getLogger(__name__)


class _BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer <key>``; also stops requests from using ~/.netrc."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(<redacted>)"


def attempt(
    session: requests.Session,
    api_url: str,
    method: str,
    path: str,
    params: Mapping[str, str] | None,
    body: object,
    headers: dict[str, str],
    api_key: str,
    *,
    timeout: tuple[float, float],
    attempt_timeout: float,
    max_response_bytes: int,
    scrub: Callable[[str], str],
) -> AttemptOutcome:
    """One attempt of a call, bounded by ``attempt_timeout``. Every exception is turned into a
    ``CloudApiError`` whose text has lost the key (``scrub``), and returned rather than raised in
    the except block, so that neither __cause__ nor __context__ keeps the original (requests
    puts header values, hence the key, in some messages)."""
    status = 0
    parsed: Any = None
    answer_headers: Mapping[str, str] = {}
    failure: CloudApiError | None = None
    with watched_attempts(attempt_timeout) as watch:
        try:
            response = session.request(
                method,
                api_url + path,
                params=params,
                json=body,
                headers=headers,
                auth=_BearerAuth(api_key),
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
            status = response.status_code
            answer_headers = response.headers
            log.debug("Cloud API: %s %s -> HTTP %d", method, path, status)
            try:
                content = read_body(response, max_response_bytes)
            finally:
                response.close()
            parsed = parse_json(content, MAX_JSON_DEPTH)
        except BodyError as exc:
            log.info("Cloud API: %s %s -> HTTP %d, answer refused (%s)", method, path, status, type(exc).__name__)
            failure = CloudApiError(method, path, str(exc), http_status=status)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            reason = printable(scrub(str(exc)))[:300]
            if watch.expired:
                reason = (
                    f"the attempt took longer than attempt_timeout={attempt_timeout:g} s "
                    "(the server answered too slowly) and was cut off"
                )
            log.info("Cloud API: %s %s -> no answer (%s)", method, path, type(exc).__name__)
            failure = ApiConnectionError(method, path, f"no answer from {api_url}: {reason}")
        except Exception as exc:  # noqa: BLE001 - anything else, scrubbed the same way
            reason = printable(scrub(f"{type(exc).__name__}: {exc}"))[:300]
            log.info("Cloud API: %s %s -> failed (%s)", method, path, type(exc).__name__)
            failure = CloudApiError(method, path, f"the request failed: {reason}")
    return status, parsed, answer_headers, failure
