"""CockroachDB Cloud API client for the CMEK operations.

``CloudApiClient`` talks to ``https://cockroachlabs.cloud`` (or ``COCKROACH_SERVER``) with a
service account API key (argument or ``COCKROACH_API_KEY``) and pins the API version with
``Cc-Version: 2024-09-16``. Every answer that is not a success raises one ``CloudApiError``
subclass, chosen by ``error_from_response`` from the HTTP status and the ``Status`` body. Server
text in an error (message, details, a non-JSON body) goes through ``cloud_models.printable``:
no terminal escape sequences, control characters or line breaks reach a message.

Retries (transport layer):

- GET is retried on connection errors, timeouts, HTTP 429 and every 5xx except 501: up to
  ``max_retries`` times, waiting ``Retry-After`` when the server sends it, else
  ``backoff_factor * 2**(n-1)`` seconds for the n-th retry plus up to 25% jitter, never more than
  ``backoff_max`` (defaults: 0.5-0.625 s, 1-1.25 s, 2-2.5 s, 4-5 s);
- PUT (rotate) is retried the same way on HTTP 429 and 503 only, the answers of a request that
  was not processed. After a connection error, a timeout or another 5xx the rotation may have
  been applied (a lost answer), and a second PUT would re-wrap the cluster again: the caller
  looks first (``ActivationRunner``);
- an answer with ``Retry-After`` and the message "rate limit exceeded" is a rate-limit answer
  whatever its status (the Cloud API does not promise 429), and is retried like a 429 (GET, PUT);
- POST (enable CMEK) and PATCH (revoke, add regions) are never resent: the server may have
  acted on them. Their callers decide what is safe to repeat.

All requests of one API key in a process share a client-side limit of ``requests_per_second``
(see ``cmek_component.cloud_api.rate_limit``).

The API key never appears in an error, a log line or a ``repr``, and a client refuses to be
pickled. Surrounding whitespace is stripped from it; a key with a control character, a space or
a non-ASCII character inside is refused (``InvalidApiKeyError``, naming the character, not the
key) before anything is sent. Every exception raised around a request becomes a
``CloudApiError`` whose text has lost the key in each spelling it can take (as is, JSON- or
``repr``-escaped, in a bytes ``repr``, percent-encoded), with no chained original.
"""

from __future__ import annotations

import email.utils
import http
import json
import logging
import math
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Self
from urllib.parse import quote

import requests
import urllib3.exceptions
from urllib3.util.retry import Retry

from cmek_component import __version__
from cmek_component.cloud_api.api_url import api_url_problem
from cmek_component.cloud_api.models import (
    Cluster,
    ClusterRegion,
    CmekInfo,
    KeyInfo,
    Organization,
    RegionInfo,
    printable,
)
from cmek_component.cloud_api.rate_limit import RequestRateLimiter, shared_limiter
from cmek_component.cloud_api.transport import (
    BodyError,
    WatchedAdapter,
    end_current_attempt,
    parse_json,
    read_body,
    watched_attempts,
)
from cmek_component.manifest.specs import RegionSpec, SpecError, region_specs_to_api

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool

__all__ = [
    "API_KEY_ENV",
    "API_URL_ENV",
    "API_VERSION",
    "DEFAULT_API_URL",
    "ApiConnectionError",
    "CloudApiClient",
    "CloudApiError",
    "Cluster",
    "ClusterRegion",
    "CmekInfo",
    "ConflictError",
    "InvalidApiKeyError",
    "InvalidArgumentError",
    "KeyInfo",
    "MissingApiKeyError",
    "NotFoundError",
    "Organization",
    "PermissionDeniedError",
    "RateLimitedError",
    "RegionInfo",
    "ServerError",
    "UnauthenticatedError",
    "UnavailableError",
    "error_from_response",
]

DEFAULT_API_URL = "https://cockroachlabs.cloud"
API_VERSION = "2024-09-16"
"""Sent as ``Cc-Version`` on every request (without it the API answers with its latest version)."""
API_KEY_ENV = "COCKROACH_API_KEY"
API_URL_ENV = "COCKROACH_SERVER"
USER_AGENT = f"cmek-component/{__version__}"

RETRIED_METHODS = frozenset({"GET", "PUT"})
RETRIED_STATUSES = frozenset({429} | {code for code in range(500, 600) if code != 501})
UNPROCESSED_STATUSES = frozenset({429, 503})
"""Answers that say the request was not acted on: the only ones after which PUT is resent."""
RETRIED_ONLY_WHEN_UNPROCESSED = frozenset({"PUT"})
"""Methods resent only after an ``UNPROCESSED_STATUSES`` answer, never after a connection error,
a timeout or another 5xx (the server may have applied them)."""
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""The largest answer the client takes in (as sent and decoded). The biggest answer it asks for is
a page of ``GET /api/v1/clusters``, a few KB per cluster; 8 MiB is thousands of clusters, and
keeps a broken or hostile server (or a 2 MB gzip answer decoding to 2 GB) from exhausting memory."""
MAX_JSON_DEPTH = 64
"""Deepest JSON nesting taken in: the API's objects nest fewer than 10 levels (a Status's details
a few more), and deeper input would make ``json`` and ``copy.deepcopy`` raise RecursionError."""
MAX_RETRY_AFTER_SECONDS = 300
"""A longer ``Retry-After`` is shortened to this (the retry then usually fails fast)."""
JITTER_FRACTION = 0.25
RATE_LIMIT_MESSAGE = "rate limit exceeded"
MISSING_KEY_MESSAGE = (
    "no CockroachDB Cloud API key: run `pulumi config set --secret cockroach:apiKey <key>` "
    f"or set {API_KEY_ENV}"
)
_KEY_CHARACTER = re.compile(r"[!-~]", re.ASCII)
"""What an API key is made of: printable ASCII without spaces (keys look like ``CCDB1_...``)."""

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

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
    return printable(message), grpc_code, _printable_json(details) if isinstance(details, list) else []


def _printable_json(value: Any) -> Any:
    """``printable`` through the strings of a decoded JSON value (the Status ``details``)."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [_printable_json(item) for item in value]
    if isinstance(value, Mapping):
        return {printable(str(k)): _printable_json(v) for k, v in value.items()}
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


# --------------------------------------------------------------------------------------------
# Retry policy (urllib3)
# --------------------------------------------------------------------------------------------


def _jitter() -> float:
    """A number in [0, 1) scaling the jitter (tests replace it to pin the schedule)."""
    return random.random()


def backoff_delay(retry_number: int, factor: float, maximum: float) -> float:
    """Seconds before retry ``retry_number`` (1, 2, ...) when the server gave no ``Retry-After``:
    ``factor * 2**(retry_number-1)`` plus up to 25% jitter, capped at ``maximum``."""
    base = factor * (2 ** max(retry_number - 1, 0))
    return float(min(maximum, base * (1 + JITTER_FRACTION * _jitter())))


class CloudRetry(Retry):
    """urllib3 ``Retry`` with this client's rules; it sees statuses and headers, not bodies.

    - only the ``allowed_methods`` (GET, PUT) are ever resent, also after connection errors
      (plain urllib3 resends any method whose connection failed before sending); PUT only after
      a 429 or 503 answer (``RETRIED_ONLY_WHEN_UNPROCESSED``);
    - backoff from ``backoff_delay`` (urllib3's own has no wait before the first retry);
    - ``Retry-After`` accepts fractional seconds, and an unreadable value falls back to backoff;
    - waiting goes through ``pause(seconds)``, so the client can release its rate-limit place,
      use its injected sleep, and take a new place before the retry.
    """

    def __init__(self, *args: Any, pause: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pause = pause

    def new(self, **kw: Any) -> Self:
        kw.setdefault("pause", self.pause)
        return super().new(**kw)

    def get_backoff_time(self) -> float:
        return backoff_delay(len(self.history), self.backoff_factor, self.backoff_max)

    def get_retry_after(self, response: urllib3.BaseHTTPResponse) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"))

    def sleep(self, response: urllib3.BaseHTTPResponse | None = None) -> None:
        delay: float | None = None
        if self.respect_retry_after_header and response is not None:
            delay = self.get_retry_after(response)
        if not delay:
            delay = self.get_backoff_time()
        self.pause(delay)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() in RETRIED_ONLY_WHEN_UNPROCESSED and status_code not in UNPROCESSED_STATUSES:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: urllib3.BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        never = method is not None and not self._is_method_retryable(method)
        if method is not None and method.upper() in RETRIED_ONLY_WHEN_UNPROCESSED:
            never = never or response is None or response.status not in UNPROCESSED_STATUSES
        if never:
            # Never resend POST/PATCH, nor PUT after an answer that may hide an applied request:
            # spend the whole budget so urllib3 gives up right away.
            return Retry.increment(self.new(total=0), method, url, response, error, _pool, _stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


class _BearerAuth(requests.auth.AuthBase):
    """Adds ``Authorization: Bearer <key>``; also stops requests from using ~/.netrc."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._api_key}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(<redacted>)"


def _in_this_thread(attempt: Callable[[], Any]) -> Any:
    return attempt()


class CloudApiClient:
    """A CockroachDB Cloud API client for the CMEK operations.

    ``api_key``: a service account API key; default env ``COCKROACH_API_KEY``. Surrounding
    whitespace and a byte-order mark are stripped (a key file's trailing newline, a CRLF line). A missing key raises
    ``MissingApiKeyError`` and a key with a control, space or non-ASCII character inside raises
    ``InvalidApiKeyError`` (naming the character, not the key) at the first request, not here. ``api_url``: default env
    ``COCKROACH_SERVER``, then ``https://cockroachlabs.cloud``; ``https://``, or ``http://`` for
    a loopback host only (see ``cmek_component.cloud_api.api_url``), else ``SpecError`` here.
    ``connect_timeout``/``read_timeout``: seconds to connect and to wait for each read (5, 30).
    ``attempt_timeout``: seconds one attempt may take in all, from sending the request to the
    last byte of the answer, however slowly the server trickles it (default ``connect_timeout +
    read_timeout``); a slower attempt fails like a read timeout (GET retried, others not).
    ``max_retries`` (4), ``backoff_factor`` (0.5 s), ``backoff_max`` (30 s): GET/PUT retries.
    ``requests_per_second`` (10): the shared client-side limit for this key.
    ``max_response_bytes`` (8 MiB): the largest answer taken in, as sent and as decoded; a
    bigger one, or JSON nested deeper than ``MAX_JSON_DEPTH`` levels, is a ``CloudApiError``.
    ``session``: a ``requests.Session`` to use; the client mounts its retrying adapter on it
    for ``api_url`` and sends its headers per request (the session's own headers are left alone).
    ``sleep``/``clock``: injectable for tests (``time.sleep``/``time.monotonic``).
    ``offload``: runs one attempt (the request and the reading of its answer) and returns its
    result; default: in the calling thread. The plugin runs attempts in a thread pool while its
    activations wait as coroutines (``cmek_component/plugin/green.py``).
    """

    def __init__(
        self,
        api_key: str | None = None,
        api_url: str | None = None,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 30,
        attempt_timeout: float | None = None,
        max_retries: int = 4,
        backoff_factor: float = 0.5,
        backoff_max: float = 30,
        requests_per_second: float = 10.0,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        offload: Callable[[Callable[[], Any]], Any] | None = None,
    ) -> None:
        given = api_key if api_key else os.environ.get(API_KEY_ENV) or None
        self.__api_key = given.strip().strip("\ufeff").strip() if given else None
        self.__key_problem = api_key_problem(self.__api_key) if self.__api_key else None
        self.__key_forms = _secret_forms(given, self.__api_key)
        self.api_url: str = (api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")
        url_problem = api_url_problem(self.api_url)
        if url_problem is not None:
            raise SpecError(f"api_url (cockroach:apiUrl or {API_URL_ENV})", url_problem, self.api_url)
        if not requests_per_second > 0:
            raise SpecError("requests_per_second", "expected a positive number", requests_per_second)
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or max_response_bytes < 1:
            raise SpecError("max_response_bytes", "expected a positive integer", max_response_bytes)
        self.max_response_bytes = max_response_bytes
        self.timeout = (float(connect_timeout), float(read_timeout))
        total = sum(self.timeout) if attempt_timeout is None else attempt_timeout
        if isinstance(total, bool) or not isinstance(total, (int, float)) or not 0 < total < math.inf:
            raise SpecError("attempt_timeout", "expected a positive number of seconds", attempt_timeout)
        self.attempt_timeout = float(total)
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max
        self.requests_per_second = requests_per_second
        self._sleep = sleep
        self._clock = clock
        self._offload: Callable[[Callable[[], Any]], Any] = offload or _in_this_thread
        self._limiter: RequestRateLimiter | None = None
        self._retry = CloudRetry(
            total=max_retries,
            allowed_methods=RETRIED_METHODS,
            status_forcelist=RETRIED_STATUSES,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            raise_on_status=False,
            respect_retry_after_header=True,
            pause=self._pause_between_attempts,
        )
        self._session = session if session is not None else requests.Session()
        self._session.mount(self.api_url + "/", WatchedAdapter(max_retries=self._retry))

    def __repr__(self) -> str:
        return f"CloudApiClient(api_url={self.api_url!r})"

    def __getstate__(self) -> NoReturn:
        raise TypeError("CloudApiClient holds an API key and cannot be pickled; create one where it is used")

    # -- operations ---------------------------------------------------------------------------

    def get_organization(self) -> Organization:
        """``GET /api/v1/organization``: the organization of the API key (its ``id`` is the AWS
        external ID CockroachDB Cloud presents)."""
        return Organization.from_api(self._object("GET", "/api/v1/organization"))

    def get_cluster(self, cluster_id: str) -> Cluster:
        """``GET /api/v1/clusters/{cluster_id}``. Raises ``NotFoundError`` for an unknown id."""
        return Cluster.from_api(self._object("GET", self._cluster_path(cluster_id)))

    def list_clusters(self) -> list[Cluster]:
        """``GET /api/v1/clusters``, every page (follows ``pagination.next_page``)."""
        clusters: list[Cluster] = []
        seen_pages: set[str] = set()
        page: str | None = None
        while True:
            params = {"pagination.page": page} if page else None
            body = self._object("GET", "/api/v1/clusters", params=params)
            items = body.get("clusters")
            clusters.extend(Cluster.from_api(item) for item in (items if isinstance(items, list) else []))
            pagination = body.get("pagination")
            next_page = pagination.get("next_page") if isinstance(pagination, Mapping) else None
            if not isinstance(next_page, str) or not next_page or next_page in seen_pages:
                return clusters
            seen_pages.add(next_page)
            page = next_page

    def get_cmek(self, cluster_id: str) -> CmekInfo | None:
        """``GET /api/v1/clusters/{cluster_id}/cmek``; ``None`` when CMEK was never enabled.

        "Never enabled" is either answer servers give: 404, or 200 with status ``DISABLED`` and
        no ``region_infos``. An unknown cluster id therefore also gives ``None``; check the
        cluster with ``get_cluster`` first when that matters.
        """
        try:
            info = CmekInfo.from_api(self._object("GET", self._cluster_path(cluster_id) + "/cmek"))
        except NotFoundError:
            return None
        return None if info.never_enabled else info

    def enable_cmek(self, cluster_id: str, region_specs: Sequence[RegionSpec]) -> CmekInfo:
        """``POST /api/v1/clusters/{cluster_id}/cmek`` with one spec per cluster region.

        Never resent by the transport. A 400 "insufficient permissions to access the KMS key"
        can mean cloud IAM has not propagated yet; retrying is the caller's decision.
        """
        body = {"region_specs": region_specs_to_api(region_specs)}
        return CmekInfo.from_api(self._object("POST", self._cluster_path(cluster_id) + "/cmek", body))

    def update_cmek(self, cluster_id: str, region_specs: Sequence[RegionSpec]) -> CmekInfo:
        """``PUT /api/v1/clusters/{cluster_id}/cmek`` with only the regions to rotate (the same
        URI again re-encrypts with the key's newest version). Resent by the transport only after
        429 or 503; after no answer or another 5xx the caller must look before resending."""
        body = {"region_specs": region_specs_to_api(region_specs)}
        return CmekInfo.from_api(self._object("PUT", self._cluster_path(cluster_id) + "/cmek", body))

    def revoke_cmek(self, cluster_id: str) -> CmekInfo:
        """``PATCH /api/v1/clusters/{cluster_id}/cmek`` ``{"action": "REVOKE"}``. Irreversible
        without CockroachDB support; never resent by the transport."""
        body = {"action": "REVOKE"}
        return CmekInfo.from_api(self._object("PATCH", self._cluster_path(cluster_id) + "/cmek", body))

    def add_regions(
        self, cluster_id: str, region_nodes: Mapping[str, int], cmek_region_specs: Sequence[RegionSpec]
    ) -> Cluster:
        """``PATCH /api/v1/clusters/{cluster_id}`` adding regions to a CMEK cluster.

        ``region_nodes``: the complete region -> node count map the cluster should have (a
        region left out is removed). ``cmek_region_specs``: key specs for the new regions only
        (a spec for an existing region makes the API reject the request). Never resent.
        """
        body = {
            "dedicated": {
                "region_nodes": {str(name): int(count) for name, count in region_nodes.items()},
                "cmek_region_specs": region_specs_to_api(cmek_region_specs),
            }
        }
        return Cluster.from_api(self._object("PATCH", self._cluster_path(cluster_id), body))

    # -- transport ----------------------------------------------------------------------------

    @staticmethod
    def _cluster_path(cluster_id: str) -> str:
        if not isinstance(cluster_id, str) or not cluster_id.strip():
            raise SpecError("cluster_id", "expected a cluster id (a UUID)", cluster_id)
        return f"/api/v1/clusters/{quote(cluster_id, safe='')}"

    def _rate_limiter(self, api_key: str) -> RequestRateLimiter:
        if self._limiter is None:
            self._limiter = shared_limiter(api_key, self.requests_per_second, self._clock)
        return self._limiter

    def _pause_between_attempts(self, seconds: float) -> None:
        """Between two attempts of one call: end the attempt's time bound, give back the
        rate-limit place, wait, take a new one."""
        end_current_attempt()
        limiter = self._limiter
        if limiter is not None:
            limiter.release()
        log.info("Cloud API: retrying in %.3g s", seconds)
        if seconds > 0:
            self._sleep(seconds)
        if limiter is not None:
            limiter.acquire(self._sleep)

    def _attempt(
        self, method: str, path: str, params: Mapping[str, str] | None, body: object, headers: dict[str, str],
        api_key: str,
    ) -> tuple[int, Any, Mapping[str, str], CloudApiError | None]:
        """One attempt of a call, bounded by ``attempt_timeout``: (HTTP status, parsed answer,
        answer headers, the ``CloudApiError`` for a failure or ``None``). Every exception is turned into a
        ``CloudApiError`` whose text has lost the key, and returned rather than raised in the
        except block, so that neither __cause__ nor __context__ keeps the original (requests
        puts header values, hence the key, in some messages)."""
        status = 0
        parsed: Any = None
        answer_headers: Mapping[str, str] = {}
        failure: CloudApiError | None = None
        with watched_attempts(self.attempt_timeout) as watch:
            try:
                response = self._session.request(
                    method,
                    self.api_url + path,
                    params=params,
                    json=body,
                    headers=headers,
                    auth=_BearerAuth(api_key),
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                status = response.status_code
                answer_headers = response.headers
                log.debug("Cloud API: %s %s -> HTTP %d", method, path, status)
                try:
                    content = read_body(response, self.max_response_bytes)
                finally:
                    response.close()
                parsed = parse_json(content, MAX_JSON_DEPTH)
            except BodyError as exc:
                log.info("Cloud API: %s %s -> HTTP %d, answer refused (%s)", method, path, status, type(exc).__name__)
                failure = CloudApiError(method, path, str(exc), http_status=status)
            except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
                reason = printable(self._scrub(str(exc)))[:300]
                if watch.expired:
                    reason = (
                        f"the attempt took longer than attempt_timeout={self.attempt_timeout:g} s "
                        "(the server answered too slowly) and was cut off"
                    )
                log.info("Cloud API: %s %s -> no answer (%s)", method, path, type(exc).__name__)
                failure = ApiConnectionError(method, path, f"no answer from {self.api_url}: {reason}")
            except Exception as exc:  # noqa: BLE001 - anything else, scrubbed the same way
                reason = printable(self._scrub(f"{type(exc).__name__}: {exc}"))[:300]
                log.info("Cloud API: %s %s -> failed (%s)", method, path, type(exc).__name__)
                failure = CloudApiError(method, path, f"the request failed: {reason}")
        return status, parsed, answer_headers, failure

    def _object(
        self, method: str, path: str, body: object = None, *, params: Mapping[str, str] | None = None
    ) -> Mapping[str, Any]:
        """Sends one call and returns its JSON object, or raises the ``CloudApiError`` for it."""
        api_key = self.__api_key
        if not api_key:
            raise MissingApiKeyError(method, path, MISSING_KEY_MESSAGE)
        if self.__key_problem is not None:
            raise InvalidApiKeyError(method, path, self.__key_problem)
        limiter = self._rate_limiter(api_key)
        headers = {
            "Cc-Version": API_VERSION,
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        rate_limit_retries = 0
        while True:
            limiter.acquire(self._sleep)
            try:
                status, parsed, answer_headers, failure = self._offload(
                    lambda: self._attempt(method, path, params, body, headers, api_key))
            finally:
                limiter.release()
            if failure is not None:
                raise failure
            if 200 <= status <= 299:
                if isinstance(parsed, Mapping):
                    return parsed
                raise CloudApiError(
                    method, path, f"expected a JSON object, got {printable(self._scrub(str(parsed)))[:200]!r}",
                    http_status=status,
                )
            error = error_from_response(method, path, status, parsed, answer_headers)
            error.message = self._scrub(error.message)
            error.details = _scrub_json(error.details, self._scrub)
            error.args = (str(error),)
            # urllib3's Retry has retried what it can judge from status and headers. A rate-limit
            # answer under another status (e.g. 400 + Retry-After + "rate limit exceeded") can
            # only be recognised from the body, so this loop retries it, for GET and PUT only.
            transport_retried = UNPROCESSED_STATUSES if method in RETRIED_ONLY_WHEN_UNPROCESSED else RETRIED_STATUSES
            if (
                isinstance(error, RateLimitedError)
                and method in RETRIED_METHODS
                and status not in transport_retried
                and rate_limit_retries < self.max_retries
            ):
                rate_limit_retries += 1
                delay = error.retry_after or backoff_delay(rate_limit_retries, self.backoff_factor, self.backoff_max)
                log.info("Cloud API: %s %s rate limited (HTTP %d); retrying in %.3g s", method, path, status, delay)
                self._sleep(delay)
                continue
            raise error

    def _scrub(self, text: str) -> str:
        """Defence in depth: an answer or transport message that echoes the key loses it, in
        every spelling it can take there (see ``_secret_forms``)."""
        for form in self.__key_forms:
            text = text.replace(form, "<redacted>")
        return text


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


def _secret_forms(*keys: str | None) -> tuple[str, ...]:
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


def _scrub_json(value: Any, scrub: Callable[[str], str]) -> Any:
    """``scrub`` through the strings of a decoded JSON value (the Status ``details``)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_json(item, scrub) for item in value]
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_json(v, scrub) for k, v in value.items()}
    return value
