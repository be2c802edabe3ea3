"""Simulator fixtures: the Cloud API simulator on a real socket, every exchange checked against
the vendored OpenAPI document (``tests/data/cockroach-cloud-openapi.json``).

Fixtures:

- ``simulator``: a started ``SimulatorServer`` with a ``ManualClock`` and default settings except
  that the rate limit is off (``sim_factory(SimulatorSettings())`` for the 10 req/s limit). Move
  time with ``simulator.simulator.advance(seconds)``.
- ``sim_factory(settings=None, clock=None, sleep=time.sleep)``: more servers with other settings
  (defaults: ``SimulatorSettings()``, a fresh ``ManualClock``); all stopped at teardown.
- ``realtime_simulator``: ``RealClock`` and 0.2 s delays (rate limit off), for the gRPC tests.
- ``contract``: the ``ContractChecker`` the servers above report to. Every request is validated
  against the OpenAPI operation (path, method, security, body) and every response against its
  declared schema; error bodies must have the ``Status`` shape ``{code, message, details}`` with
  a gRPC code that fits the HTTP status. Violations fail the test at teardown. A test that sends
  a deliberately invalid request wraps it in ``with contract.expect_request_violation(): ...``
  (the block must produce one, so the expectation itself is checked).

The spec's one known defect (``Cluster.required`` lists ``is_customer_cloud_account``, which it
never defines) is tolerated by removing only that entry from the loaded document
(``load_contract_spec``); validation stays on for everything else.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.exceptions import OpenAPIError
from openapi_core.templating.paths.exceptions import PathError, ServerNotFound
from werkzeug.wrappers import Request, Response

from cmek_component.simulator import (
    SEED_API_KEY,
    Clock,
    ManualClock,
    RealClock,
    Simulator,
    SimulatorServer,
    SimulatorSettings,
)
from cmek_component.simulator.app import RAW_FAULT_BODY_ENVIRON_KEY

SPEC_PATH = Path(__file__).resolve().parent.parent / "data" / "cockroach-cloud-openapi.json"
API_VERSION = "2024-09-16"

# HTTP status -> gRPC codes a Status body may carry (grpc-gateway's mapping).
GRPC_CODES_FOR_STATUS: dict[int, set[int]] = {
    400: {3, 9, 11},
    401: {16},
    403: {7},
    404: {5},
    409: {6, 10},
    412: {9},
    429: {8},
    500: {2, 13, 15},
    501: {12},
    502: {14},
    503: {14},
    504: {4, 14},
}
RESOURCE_EXHAUSTED = 8


def load_contract_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The vendored OpenAPI document, patched for its one known defect and for a local server."""
    spec: dict[str, Any] = json.loads(path.read_text())
    cluster = spec["components"]["schemas"]["Cluster"]
    defect = "is_customer_cloud_account"
    if defect not in cluster.get("required", []) or defect in cluster.get("properties", {}):
        raise AssertionError(
            f"{path.name}: Cluster.required no longer lists the undefined field {defect!r}; "
            "remove the tolerance in load_contract_spec"
        )
    cluster["required"] = [name for name in cluster["required"] if name != defect]
    spec["servers"] = [*spec.get("servers", []), {"url": "/"}]
    return spec


def build_openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


@dataclass(frozen=True)
class Violation:
    kind: str
    """request or response."""
    method: str
    path: str
    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} {self.method} {self.path} -> {self.status}: {self.detail}"


def _describe(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}".rstrip(": ")]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for schema_error in getattr(current, "schema_errors", None) or ():
            location = "/".join(str(p) for p in getattr(schema_error, "absolute_path", ()))
            parts.append(f"[{location or '<root>'}] {getattr(schema_error, 'message', schema_error)}")
        nxt = current.__cause__ or current.__context__
        if nxt is not None and id(nxt) not in seen and not getattr(current, "schema_errors", None):
            parts.append(f"{type(nxt).__name__}: {nxt}")
        current = nxt
    return "; ".join(parts)


def status_shape_problems(status: int, body: Any) -> list[str]:
    """Problems with an error body: the Status shape and a gRPC code that fits ``status``."""
    if not isinstance(body, dict):
        return [f"error body is not a JSON object: {body!r}"]
    problems = []
    code, message, details = body.get("code"), body.get("message"), body.get("details")
    if not isinstance(code, int) or isinstance(code, bool):
        problems.append(f"Status.code must be an integer, got {code!r}")
    if not isinstance(message, str) or not message:
        problems.append(f"Status.message must be a non-empty string, got {message!r}")
    if not isinstance(details, list):
        problems.append(f"Status.details must be a list, got {details!r}")
    extra = set(body) - {"code", "message", "details"}
    if extra:
        problems.append(f"Status has unexpected fields {sorted(extra)}")
    rate_limited = code == RESOURCE_EXHAUSTED and isinstance(message, str) and "rate limit exceeded" in message
    allowed = GRPC_CODES_FOR_STATUS.get(status)
    if isinstance(code, int) and not rate_limited and allowed is not None and code not in allowed:
        problems.append(f"gRPC code {code} does not fit HTTP {status} (expected one of {sorted(allowed)})")
    return problems


class ContractChecker:
    """Validates exchanges against the OpenAPI document; install as ``Simulator.exchange_observer``."""

    def __init__(self, openapi: OpenAPI) -> None:
        self.openapi = openapi
        self.violations: list[Violation] = []
        self.expected: list[Violation] = []
        self.checked = 0
        self._lock = threading.Lock()
        self._expecting: list[str] = []

    def check(self, request: Request, response: Response) -> list[Violation]:
        """Every contract problem with one exchange (empty when it conforms)."""
        method, path, status = request.method, request.path, response.status_code

        def violation(kind: str, detail: str) -> Violation:
            return Violation(kind, method, path, status, detail)

        found: list[Violation] = []
        openapi_request = WerkzeugOpenAPIRequest(request)
        route_known = True
        try:
            self.openapi.validate_request(openapi_request)
        except OpenAPIError as exc:
            found.append(violation("request", _describe(exc)))
            route_known = not isinstance(exc, (PathError, ServerNotFound))
        raw_fault = bool(request.environ.get(RAW_FAULT_BODY_ENVIRON_KEY))
        if route_known and not raw_fault:
            try:
                self.openapi.validate_response(openapi_request, WerkzeugOpenAPIResponse(response))
            except OpenAPIError as exc:
                found.append(violation("response", _describe(exc)))
        if status >= 400 and not raw_fault:
            try:
                body = json.loads(response.get_data(as_text=True))
            except ValueError:
                body = response.get_data(as_text=True)
            found.extend(violation("response", p) for p in status_shape_problems(status, body))
        if status < 400 and response.mimetype != "application/json":
            found.append(violation("response", f"content type {response.mimetype!r}, expected application/json"))
        return found

    def observe(self, request: Request, response: Response) -> None:
        found = self.check(request, response)
        with self._lock:
            self.checked += 1
            for item in found:
                if item.kind in self._expecting:
                    self.expected.append(item)
                else:
                    self.violations.append(item)

    @contextmanager
    def _expect(self, kind: str) -> Iterator[None]:
        with self._lock:
            before = len([v for v in self.expected if v.kind == kind])
            self._expecting.append(kind)
        try:
            yield
        finally:
            with self._lock:
                self._expecting.remove(kind)
                after = len([v for v in self.expected if v.kind == kind])
        if after == before:
            raise AssertionError(f"expected the contract checker to flag a {kind}, but it flagged none")

    @contextmanager
    def expect_request_violation(self) -> Iterator[None]:
        """Requests in the block may break the contract (and at least one must)."""
        with self._expect("request"):
            yield

    @contextmanager
    def expect_response_violation(self) -> Iterator[None]:
        """Responses in the block may break the contract (and at least one must)."""
        with self._expect("response"):
            yield


@pytest.fixture(scope="session")
def cloud_api_openapi() -> OpenAPI:
    """The parsed, patched OpenAPI document (parsed once per session)."""
    return build_openapi(load_contract_spec())


@pytest.fixture
def contract(cloud_api_openapi: OpenAPI) -> Iterator[ContractChecker]:
    checker = ContractChecker(cloud_api_openapi)
    yield checker
    if checker.violations:
        listed = "\n  ".join(str(v) for v in checker.violations)
        pytest.fail(f"{len(checker.violations)} Cloud API contract violation(s):\n  {listed}", pytrace=False)


SimFactory = Callable[..., SimulatorServer]


@pytest.fixture
def sim_factory(contract: ContractChecker) -> Iterator[SimFactory]:
    servers: list[SimulatorServer] = []

    def make(
        settings: SimulatorSettings | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> SimulatorServer:
        simulator = Simulator(settings or SimulatorSettings(), clock or ManualClock(), sleep=sleep)
        simulator.exchange_observer = contract.observe
        server = SimulatorServer(simulator).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def simulator(sim_factory: SimFactory) -> SimulatorServer:
    return sim_factory(SimulatorSettings(rate_limit_per_second=None))


REALTIME_DELAYS = 0.2


@pytest.fixture
def realtime_simulator(sim_factory: SimFactory) -> SimulatorServer:
    settings = SimulatorSettings(
        enable_seconds=REALTIME_DELAYS,
        rotate_seconds=REALTIME_DELAYS,
        revoke_seconds=REALTIME_DELAYS,
        add_region_seconds=REALTIME_DELAYS,
        disable_seconds=REALTIME_DELAYS,
        rate_limit_per_second=None,
    )
    return sim_factory(settings, RealClock())


def api_session(api_key: str | None = SEED_API_KEY, version: str | None = API_VERSION) -> requests.Session:
    """A requests session with the bearer key and Cc-Version the Cloud API expects."""
    session = requests.Session()
    if api_key is not None:
        session.headers["Authorization"] = f"Bearer {api_key}"
    if version is not None:
        session.headers["Cc-Version"] = version
    return session


class SimApi:
    """Raw HTTP calls to a running simulator (no client library); every method returns the
    ``requests.Response`` so tests can assert status, headers and body."""

    def __init__(
        self, server: SimulatorServer, api_key: str | None = SEED_API_KEY, version: str | None = API_VERSION
    ) -> None:
        self.server = server
        self.session = api_session(api_key, version)

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.session.request(method, f"{self.server.url}{path}", **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def organization(self) -> requests.Response:
        return self.get("/api/v1/organization")

    def clusters(self, **params: Any) -> requests.Response:
        return self.get("/api/v1/clusters", params=params)

    def cluster(self, cluster_id: str) -> requests.Response:
        return self.get(f"/api/v1/clusters/{cluster_id}")

    def update_cluster(self, cluster_id: str, body: Any) -> requests.Response:
        return self.request("PATCH", f"/api/v1/clusters/{cluster_id}", json=body)

    def add_regions(self, cluster_id: str, region_nodes: dict[str, int], specs: list[dict[str, Any]]) -> requests.Response:
        return self.update_cluster(cluster_id, {"dedicated": {"region_nodes": region_nodes, "cmek_region_specs": specs}})

    def cmek(self, cluster_id: str) -> requests.Response:
        return self.get(f"/api/v1/clusters/{cluster_id}/cmek")

    def enable(self, cluster_id: str, specs: list[dict[str, Any]]) -> requests.Response:
        return self.request("POST", f"/api/v1/clusters/{cluster_id}/cmek", json={"region_specs": specs})

    def rotate(self, cluster_id: str, specs: list[dict[str, Any]]) -> requests.Response:
        return self.request("PUT", f"/api/v1/clusters/{cluster_id}/cmek", json={"region_specs": specs})

    def revoke(self, cluster_id: str) -> requests.Response:
        return self.request("PATCH", f"/api/v1/clusters/{cluster_id}/cmek", json={"action": "REVOKE"})
