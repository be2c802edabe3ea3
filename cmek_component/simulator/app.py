"""``Simulator``: the WSGI application, its lock, the request record and the admin endpoints.

Request pipeline for paths outside ``/_simulator/``: record -> injected fault -> bearer key
(401) -> rate limit (429) -> Cc-Version (400) -> route (404/501) -> role (403) -> body decoding
(400, protojson style) -> the operation. An unexpected exception anywhere in that pipeline is
answered with a 500 JSON ``Status`` (code 13) naming it, and recorded like any answer. The optional ``exchange_observer`` sees every answered
request with its response (the test fixtures validate them against the OpenAPI document).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from .admin import admin_response
from .clock import Clock, RealClock, format_timestamp
from .decoding import decode_body, parse_json_or_none
from .errors import (
    INTERNAL,
    INVALID_ARGUMENT,
    PERMISSION_DENIED,
    RESOURCE_EXHAUSTED,
    UNAUTHENTICATED,
    UNAVAILABLE,
    ApiError,
    status_body,
)
from .faults import Fault, FaultPlan, RateLimiter, retry_after_header
from .journal import JournalError, PinnableClock, RequestJournal, delays, describe, request_entry
from .kms import UnreachableMode
from .recorder import RecordedRequest, redacted_headers
from .routes import Operation, resolve
from .settings import LATEST_CC_VERSION, SimulatorSettings
from .world import World

ExchangeObserver = Callable[[Request, Response], None]
"""Called with every answered API request and its response (not for dropped connections)."""

FAULT_ENVIRON_KEY = "cmek_simulator.fault"
"""WSGI environ key set to the fault kind when an injected fault answered the request."""
RAW_FAULT_BODY_ENVIRON_KEY = "cmek_simulator.raw_fault_body"
"""WSGI environ key set to True when an injected fault answered with a non-Status raw body."""


class Simulator:
    """The simulated CockroachDB Cloud API (a WSGI app). Thread-safe: one lock guards all state.

    ``settings``: see ``SimulatorSettings``. ``clock``: a ``ManualClock`` for tests (time moves only
    with ``advance()``), default ``RealClock``. ``sleep``: used by ``slow`` faults (tests may pass a
    recorder instead of ``time.sleep``). ``journal``: keep the world in that file across processes
    (see ``journal``): the world it records is rebuilt first (``JournalError`` when it cannot be),
    then every mutating request is added to it.
    """

    def __init__(
        self,
        settings: SimulatorSettings | None = None,
        clock: Clock | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        journal: RequestJournal | None = None,
    ) -> None:
        self.settings = settings or SimulatorSettings()
        self.clock: Clock = clock or RealClock()
        self.exchange_observer: ExchangeObserver | None = None
        self._sleep = sleep
        self._lock = threading.RLock()
        self.journal: RequestJournal | None = None
        if journal is None:
            self.world = World(self.settings, self.clock)
        else:
            self._restore(journal)
        self._requests: list[RecordedRequest] = []
        self._faults = FaultPlan()
        self._limiter = RateLimiter(self.settings.rate_limit_per_second)

    def _restore(self, journal: RequestJournal) -> None:
        """The world ``journal`` records: seeded at its start, each request applied again at its
        time under its delays; then the journal records this process's requests."""
        clock = PinnableClock(self.clock)
        self.clock = clock
        if journal.start is None:
            journal.begin(clock.now())
        assert journal.start is not None
        clock.pin(journal.start)
        self.world = World(self.settings, clock)
        for entry in journal.requests:
            clock.pin(float(entry["at"]))
            with delays(self.settings, entry.get("delays") or {}):
                status = self._replay(entry)
            if status != entry.get("status"):
                raise JournalError(
                    f"{journal.path}: replaying {describe(entry)} gave {status}, not "
                    f"{entry.get('status')} as recorded; the journal belongs to another simulator "
                    "version or was edited (delete it to start from the seeds)"
                )
        clock.release()
        self.journal = journal

    def _replay(self, entry: dict[str, Any]) -> int:
        """Applies one recorded request to the world, without authentication; its status."""
        try:
            operation, params = resolve(str(entry["method"]), str(entry["path"]))
        except (ApiError, KeyError):
            return -1
        self.world.apply_due()
        raw = str(entry.get("body") or "").encode("utf-8", "surrogateescape")
        return self._operate(operation, params, raw, MultiDict(entry.get("query") or {})).status_code

    def __repr__(self) -> str:
        return f"Simulator(clock={self.clock!r}, requests={len(self._requests)})"

    # ------------------------------------------------------------------------------------------
    # Test and demo controls
    # ------------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far (admin calls excluded), oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def mutating_requests(self) -> list[RecordedRequest]:
        """POST, PUT, PATCH and DELETE requests only."""
        return [r for r in self.requests if r.is_mutating]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def advance(self, seconds: float) -> None:
        """Moves the clock forward and completes every operation that has come due."""
        with self._lock:
            self.clock.advance(seconds)
            self.world.apply_due()

    def reset(self) -> None:
        """Seeded clusters again; no CMEK, requests, faults, KMS problems or rate-limit history."""
        with self._lock:
            self.world.reset()
            if self.journal is not None:
                self.journal.begin(self.clock.now())
            self._requests.clear()
            self._faults = FaultPlan()
            self._limiter = RateLimiter(self.settings.rate_limit_per_second)

    def inject_fault(self, method: str, path_suffix: str, kind: str, count: int = 1, **kw: Any) -> None:
        """The next ``count`` requests ``method`` (or ``"*"``) on a path ending with ``path_suffix``
        get fault ``kind``: "429" (kw retry_after), "500", "502", "503", "504" (kw body),
        "drop" (connection closed; kw after_processing=True: only after the request took effect),
        "slow" (kw seconds)."""
        with self._lock:
            self._faults.add(method, path_suffix, kind, count, **kw)

    def mark_key_unreachable(self, uri: str, mode: UnreachableMode = "400") -> None:
        """Requests naming ``uri`` get 400 "insufficient permissions..." (mode "400"), or are accepted
        and end in ENABLE_FAILED / ROTATE_FAILED with a user_message (mode "ENABLE_FAILED")."""
        with self._lock:
            self.world.kms.mark_unreachable(uri, mode)

    def mark_key_reachable(self, uri: str) -> None:
        with self._lock:
            self.world.kms.mark_reachable(uri)

    def set_cluster_state(self, cluster_id: str, state: str, operation_status: str | None = None) -> None:
        """Sets a cluster's state (e.g. LOCKED, later CREATED); mutations get 503 unless CREATED."""
        with self._lock:
            self.world.set_cluster_state(cluster_id, state, operation_status)

    def lock_cluster(self, cluster_id: str, seconds: float, operation_status: str = "CRDB_EDIT_CLUSTER_RUNNING") -> None:
        """LOCKED now (another operation), CREATED again after ``seconds`` of simulated time."""
        with self._lock:
            self.world.lock_cluster(cluster_id, seconds, operation_status)

    def fail_next_revoke(self, cluster_id: str, message: str | None = None) -> None:
        with self._lock:
            self.world.fail_next_revoke(cluster_id, message)

    def support_disable(self, cluster_id: str) -> None:
        """Support-only action: CMEK DISABLING, then DISABLED after ``disable_seconds``."""
        with self._lock:
            self.world.support_disable(cluster_id)

    def rotate_out_of_band(self, cluster_id: str, region_specs: list[dict[str, Any]]) -> dict[str, Any]:
        """A PUT /cmek made by someone else (console, another tool): not recorded, same rules."""
        with self._lock:
            self.world.apply_due()
            return self.world.update_cmek(cluster_id, {"region_specs": region_specs})

    def enable_out_of_band(self, cluster_id: str, region_specs: list[dict[str, Any]]) -> dict[str, Any]:
        """A POST /cmek made by someone else: not recorded, same rules."""
        with self._lock:
            self.world.apply_due()
            return self.world.enable_cmek(cluster_id, {"region_specs": region_specs})

    def cluster(self, cluster_id: str) -> dict[str, Any]:
        """The cluster as GET /api/v1/clusters/{id} would show it now."""
        with self._lock:
            self.world.apply_due()
            return self.world.get_cluster(cluster_id)

    def cmek(self, cluster_id: str) -> dict[str, Any] | None:
        """CMEK as GET .../cmek would show it now; None before the first enable."""
        with self._lock:
            self.world.apply_due()
            if self.world.cluster(cluster_id).cmek is None:
                return None
            return self.world.get_cmek(cluster_id)

    def now(self) -> str:
        """Simulated time, RFC 3339."""
        return format_timestamp(self.clock.now())

    # ------------------------------------------------------------------------------------------
    # WSGI
    # ------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == "/_simulator" or request.path.startswith("/_simulator/"):
            return admin_response(self, request)(environ, start_response)
        raw = request.get_data(cache=True)
        with self._lock:
            record = RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.args.items()),
                headers=redacted_headers(request.headers),
                body=parse_json_or_none(raw),
                at=format_timestamp(self.clock.now()),
            )
            self._requests.append(record)
            fault = self._faults.take(request.method, request.path)
        drop_after = False
        if fault is not None:
            record.fault = fault.kind
            environ[FAULT_ENVIRON_KEY] = fault.kind
            if fault.kind == "drop":
                if not fault.options.get("after_processing"):
                    _drop_connection(environ)
                    raise ConnectionAbortedError("simulated dropped connection")
                drop_after, fault = True, None
            elif fault.kind == "slow":
                self._sleep(float(fault.options["seconds"]))
                fault = None
        with self._lock:
            reached = False
            if fault is not None:
                response = _fault_response(fault, environ)
            else:
                response, reached = self._answer(request, raw, record)
            record.status = response.status_code
            record.response_body = parse_json_or_none(response.get_data())
            if reached and record.is_mutating and self.journal is not None:
                self.journal.append(request_entry(record.method, record.path, record.query, raw,
                                                  record.status, record.at, self.settings))
        if drop_after:
            # The operation happened; the client never hears about it.
            _drop_connection(environ)
            raise ConnectionAbortedError("simulated dropped connection after processing")
        observer = self.exchange_observer
        if observer is not None:
            observer(request, response)
        return response(environ, start_response)

    def _answer(self, request: Request, raw: bytes, record: RecordedRequest) -> tuple[Response, bool]:
        """The API answer, and whether the request reached its operation (caller holds the lock)."""
        self.world.apply_due()
        try:
            key, roles = self._authenticate(request)
            record.role = ",".join(sorted(roles - {"ORG_MEMBER"})) or "ORG_MEMBER"
            wait = self._limiter.acquire(key, self.clock.now())
            if wait is not None:
                raise ApiError(
                    self.settings.rate_limit_status,
                    RESOURCE_EXHAUSTED,
                    "rate limit exceeded",
                    headers={"Retry-After": retry_after_header(wait)},
                    raw_message=True,
                )
            version = request.headers.get("Cc-Version", LATEST_CC_VERSION)
            if version not in self.settings.accepted_cc_versions:
                raise ApiError(400, INVALID_ARGUMENT, "invalid Cc-Version.", raw_message=True)
            operation, params = resolve(request.method, request.path)
            if not roles & operation.roles:
                needed = " or ".join(sorted(operation.roles))
                raise ApiError(
                    403,
                    PERMISSION_DENIED,
                    f"{operation.operation_id} needs role {needed}; this API key has {record.role}",
                )
        except ApiError as exc:
            return json_response(exc.http_status, exc.body(), exc.headers), False
        except Exception as exc:  # noqa: BLE001 - a simulator bug still answers with a JSON Status
            return _internal_error(exc), False
        return self._operate(operation, params, raw, request.args), True

    def _operate(self, operation: Operation, params: dict[str, str], raw: bytes, query: Any) -> Response:
        """The body decoded and the operation carried out on the world (caller holds the lock)."""
        try:
            body: dict[str, Any] = {}
            if operation.body is not None:
                body = decode_body(raw, operation.body, reject_unknown=self.settings.unknown_fields == "reject")
            result = operation.handler(self.world, params, body, query)
        except ApiError as exc:
            return json_response(exc.http_status, exc.body(), exc.headers)
        except Exception as exc:  # noqa: BLE001 - a simulator bug still answers with a JSON Status
            return _internal_error(exc)
        return json_response(200, result)

    def _authenticate(self, request: Request) -> tuple[str, frozenset[str]]:
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        role = self.settings.api_keys.get(key.strip()) if scheme.lower() == "bearer" else None
        if role is None:
            detail = "missing bearer token" if not header else "invalid API key"
            raise ApiError(401, UNAUTHENTICATED, detail)
        roles = frozenset(part.strip() for part in role.split(",")) | {"ORG_MEMBER"}
        return key.strip(), roles


def _internal_error(exc: Exception) -> Response:
    detail = f"the simulator failed: {type(exc).__name__}: {exc}"[:500]
    return json_response(500, status_body(INTERNAL, f"internal: {detail}"))


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=dict(headers or {}), mimetype="application/json")


def _fault_response(fault: Fault, environ: dict[str, Any]) -> Response:
    if "body" in fault.options:
        environ[RAW_FAULT_BODY_ENVIRON_KEY] = True
        return Response(str(fault.options["body"]), status=int(fault.kind), mimetype="text/html")
    if fault.kind == "429":
        retry_after = retry_after_header(float(fault.options.get("retry_after", 1)))
        return json_response(
            429, status_body(RESOURCE_EXHAUSTED, "rate limit exceeded"), {"Retry-After": retry_after}
        )
    headers = {}
    if "retry_after" in fault.options:
        headers["Retry-After"] = retry_after_header(float(fault.options["retry_after"]))
    if fault.kind == "500":
        return json_response(500, status_body(INTERNAL, "internal: injected fault"), headers)
    return json_response(int(fault.kind), status_body(UNAVAILABLE, "unavailable: injected fault"), headers)


def _drop_connection(environ: Mapping[str, Any]) -> None:
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
