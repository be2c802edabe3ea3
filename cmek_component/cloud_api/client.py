"""CockroachDB Cloud API client for the CMEK operations.

``CloudApiClient`` talks to ``https://cockroachlabs.cloud`` (or ``COCKROACH_SERVER``) with a
service account API key (argument or ``COCKROACH_API_KEY``) and pins the API version with
``Cc-Version: 2024-09-16``. Every answer that is not a success raises one ``CloudApiError``
subclass (``cmek_component.cloud_api.errors``). GET and PUT are resent by the rules of
``cmek_component.cloud_api.retry``; a rate-limit answer under another status than 429 is retried
here (GET, PUT); POST and PATCH are never resent.

All requests of one API key in a process share a client-side limit of ``requests_per_second``
(see ``cmek_component.cloud_api.rate_limit``).

The API key never appears in an error, a log line or a ``repr``, and a client refuses to be
pickled. A key that cannot be one is refused before anything is sent
(``cmek_component.cloud_api.api_key``). Every exception raised around a request becomes a
``CloudApiError`` whose text has lost the key in each spelling it can take
(``api_key.secret_forms``), with no chained original.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import quote

import requests

from cmek_component import __version__
from cmek_component.cloud_api.api_key import (
    API_KEY_ENV,
    MISSING_KEY_MESSAGE,
    api_key_problem,
    secret_forms,
)
from cmek_component.cloud_api.api_url import api_url_problem
from cmek_component.cloud_api.attempt import attempt
from cmek_component.cloud_api.errors import (
    CloudApiError,
    InvalidApiKeyError,
    MissingApiKeyError,
    NotFoundError,
    RateLimitedError,
    error_from_response,
    map_json_strings,
)
from cmek_component.cloud_api.models import Cluster, CmekInfo, Organization, printable
from cmek_component.cloud_api.rate_limit import RequestRateLimiter, shared_limiter
from cmek_component.cloud_api.retry import (
    RETRIED_METHODS,
    RETRIED_ONLY_WHEN_UNPROCESSED,
    RETRIED_STATUSES,
    UNPROCESSED_STATUSES,
    CloudRetry,
    backoff_delay,
)
from cmek_component.cloud_api.transport import WatchedAdapter, end_current_attempt
from cmek_component.manifest.problems import SpecError
from cmek_component.manifest.region_specs import RegionSpec, region_specs_to_api

__all__ = ["API_URL_ENV", "API_VERSION", "DEFAULT_API_URL", "CloudApiClient"]

DEFAULT_API_URL = "https://cockroachlabs.cloud"
API_VERSION = "2024-09-16"
"""Sent as ``Cc-Version`` on every request (without it the API answers with its latest version)."""
API_URL_ENV = "COCKROACH_SERVER"
USER_AGENT = f"cmek-component/{__version__}"
DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
"""The largest answer the client takes in (as sent and decoded). The biggest answer it asks for is
a page of ``GET /api/v1/clusters``, a few KB per cluster; 8 MiB is thousands of clusters, and
keeps a broken or hostile server (or a 2 MB gzip answer decoding to 2 GB) from exhausting memory."""

log = logging.getLogger(__name__)


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
        self.__key_forms = secret_forms(given, self.__api_key)
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
                    lambda: attempt(
                        self._session, self.api_url, method, path, params, body, headers, api_key,
                        timeout=self.timeout, attempt_timeout=self.attempt_timeout,
                        max_response_bytes=self.max_response_bytes, scrub=self._scrub,
                    ))
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
            error.details = map_json_strings(error.details, self._scrub)
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
        every spelling it can take there (see ``api_key.secret_forms``)."""
        for form in self.__key_forms:
            text = text.replace(form, "<redacted>")
        return text
