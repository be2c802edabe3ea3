"""CloudApiClient over a real socket against a scripted local server.

The server answers exactly what each test scripts (statuses, headers, bodies, delays), which the
retry and error rules need; the operations against a faithful API live in
tests/test_cloud_api_simulator.py. Waiting goes through an injected sleep and clock, so the
backoff schedule is recorded, not slept (the read-timeout and rate-limit tests are the only ones
that spend real time: under a second, and about 4 seconds).
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import pickle
import socket
import socketserver
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from cmek_component import __version__
from cmek_component.cloud_api import retry as cloud_retry
from cmek_component.cloud_api.client import API_VERSION, CloudApiClient
from cmek_component.cloud_api.errors import (
    ApiConnectionError,
    CloudApiError,
    InvalidApiKeyError,
    InvalidArgumentError,
    MissingApiKeyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnauthenticatedError,
    UnavailableError,
)
from cmek_component.cloud_api.models import CmekInfo
from cmek_component.manifest.problems import SpecError
from cmek_component.manifest.region_specs import KeySpec, RegionSpec
from tests.support.fake_time import FakeTime

API_KEY = "CCDB1_testkey-5f3b2a9c-1d7e4f60-a8b9c0d1e2f3a4b5"
CLUSTER_ID = "35c4abb2-bb66-46d7-afed-25ebef5ed2aa"
CMEK_PATH = f"/api/v1/clusters/{CLUSTER_ID}/cmek"
ORG_PATH = "/api/v1/organization"
AWS_ROLE = "arn:aws:iam::111122223333:role/crdb-cmek"


def aws_spec(region: str, key_id: str = "0b6f1c2e-1a2b-4c3d-8e9f-0123456789ab") -> RegionSpec:
    return RegionSpec(region, KeySpec("AWS_KMS", f"arn:aws:kms:{region}:111122223333:key/{key_id}", AWS_ROLE))


# --------------------------------------------------------------------------------------------
# Scripted server
# --------------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    raw_uri: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float


class ScriptedApi:
    """WSGI app: answers each (method, path) from its script (the last reply repeats), records
    every request with its arrival time (``time.monotonic``)."""

    def __init__(self) -> None:
        self.scripts: dict[tuple[str, str], list[Reply]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.scripts[(method, path)] = list(replies)

    def count(self, method: str, path: str) -> int:
        return sum(1 for s in self.seen if (s.method, s.path) == (method, path))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        arrived = time.monotonic()
        raw = request.get_data()
        with self.lock:
            self.seen.append(Seen(request.method, request.path, environ.get("RAW_URI", ""), dict(request.args), dict(request.headers),
                                  json.loads(raw) if raw else None, arrived))
            script = self.scripts.get((request.method, request.path), [])
            reply = (script.pop(0) if len(script) > 1 else script[0]) if script else Reply(404, {
                "code": 5, "message": "not found: no script", "details": []})
        if reply.delay:
            time.sleep(reply.delay)
        if isinstance(reply.body, bytes):  # sent as is (e.g. gzip with a Content-Encoding header)
            response = Response(reply.body, status=reply.status, headers=reply.headers, content_type="application/json")
        elif isinstance(reply.body, str):
            response = Response(reply.body, status=reply.status, headers=reply.headers, content_type="text/html")
        else:
            response = Response(json.dumps(reply.body), status=reply.status, headers=reply.headers,
                                content_type="application/json")
        return response(environ, start_response)




@pytest.fixture
def api() -> Iterator[tuple[ScriptedApi, str]]:
    app = ScriptedApi()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime(1000.0)


def make_client(url: str, fake: FakeTime, **kw: Any) -> CloudApiClient:
    kw.setdefault("requests_per_second", 1000)
    return CloudApiClient(API_KEY, url, sleep=fake.sleep, clock=fake.clock, **kw)


def error_reply(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"code": code, "message": message, "details": []}, headers or {})


ORG = {"id": "9f1f0c4e-1d2b-4a8c-b1f0-5e8a7c6d5b4a", "name": "acme", "label": "Acme", "created_at": "2024-05-01T00:00:00Z"}


# --------------------------------------------------------------------------------------------
# Request shape
# --------------------------------------------------------------------------------------------


def test_every_request_carries_key_version_agent_and_json_headers(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ORG))
    app.script("POST", CMEK_PATH, Reply(200, {"status": "ENABLING"}))
    client = make_client(url, fake_time)
    client.get_organization()
    client.enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert len(app.seen) == 2
    for seen in app.seen:
        assert seen.headers["Authorization"] == f"Bearer {API_KEY}"
        assert seen.headers["Cc-Version"] == API_VERSION == "2024-09-16"
        assert seen.headers["User-Agent"] == f"cmek-component/{__version__}"
        assert seen.headers["Accept"] == "application/json"
    assert app.seen[1].headers["Content-Type"] == "application/json"


def test_key_and_url_come_from_the_environment(api: tuple[ScriptedApi, str], monkeypatch: pytest.MonkeyPatch) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ORG))
    monkeypatch.setenv("COCKROACH_API_KEY", "env-key-123")
    monkeypatch.setenv("COCKROACH_SERVER", url + "/")
    client = CloudApiClient(requests_per_second=1000)
    assert client.api_url == url
    assert client.get_organization().id == ORG["id"]
    assert app.seen[0].headers["Authorization"] == "Bearer env-key-123"


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCKROACH_SERVER", "http://127.0.0.1:9")
    assert CloudApiClient("k", "https://example.test").api_url == "https://example.test"
    monkeypatch.delenv("COCKROACH_SERVER")
    assert CloudApiClient("k").api_url == "https://cockroachlabs.cloud"


@pytest.mark.parametrize("url", ["http://cockroachlabs.cloud", "http://10.1.2.3:8080", "http://localhost.example.com"])
def test_plain_http_to_a_host_that_is_not_loopback_is_refused_before_any_request(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for given, env in ((url, None), (None, url)):
        if env is None:
            monkeypatch.delenv("COCKROACH_SERVER", raising=False)
        else:
            monkeypatch.setenv("COCKROACH_SERVER", env)
        with pytest.raises(SpecError) as refused:
            CloudApiClient(API_KEY, given)
        assert str(refused.value) == (
            "api_url (cockroach:apiUrl or COCKROACH_SERVER): expected an https:// URL: plain http:// would send "
            "the CockroachDB Cloud API key unencrypted (http:// is allowed only for a loopback host such as "
            f"127.0.0.1 or localhost, e.g. the local simulator), got {url!r}"
        )
        assert API_KEY not in str(refused.value)


@pytest.mark.parametrize(
    "url", ["https://cockroachlabs.cloud", "http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:9", "http://127.9.9.9"]
)
def test_https_and_loopback_http_are_accepted(url: str) -> None:
    assert CloudApiClient(API_KEY, url).api_url == url


def test_missing_key_fails_at_the_first_request_and_says_how_to_set_it(
    api: tuple[ScriptedApi, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = api
    monkeypatch.delenv("COCKROACH_API_KEY", raising=False)
    client = CloudApiClient(None, url)  # constructing is fine
    with pytest.raises(MissingApiKeyError) as caught:
        client.get_cluster(CLUSTER_ID)
    assert str(caught.value) == (
        f"GET /api/v1/clusters/{CLUSTER_ID}: no CockroachDB Cloud API key: run "
        "`pulumi config set --secret cockroach:apiKey <key>` or set COCKROACH_API_KEY"
    )
    assert app.seen == []


class RecordingSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[object] = []

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs.get("timeout"))
        return super().request(*args, **kwargs)


def test_connect_and_read_timeouts_are_sent_with_every_request(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ORG))
    session = RecordingSession()
    client = make_client(url, fake_time, session=session, connect_timeout=2, read_timeout=7)
    client.get_organization()
    assert session.timeouts == [(2.0, 7.0)]
    assert "Authorization" not in session.headers, "the key is added per request, not to the caller's session"


def test_cluster_id_is_escaped_and_required(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    client = make_client(url, fake_time)
    with pytest.raises(NotFoundError):
        client.get_cluster("../organization")
    assert app.seen[0].raw_uri == "/api/v1/clusters/..%2Forganization"
    with pytest.raises(ValueError, match="cluster_id: expected a cluster id"):
        client.get_cmek("")


# --------------------------------------------------------------------------------------------
# Operations that need precise answers (the rest run against the simulator)
# --------------------------------------------------------------------------------------------


def test_list_clusters_follows_next_page(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script(
        "GET", "/api/v1/clusters",
        Reply(200, {"clusters": [{"id": "a", "name": "one"}], "pagination": {"next_page": "tok-2"}}),
        Reply(200, {"clusters": [{"id": "b", "name": "two"}], "pagination": {"next_page": "tok-3"}}),
        Reply(200, {"clusters": [{"id": "c", "name": "three"}], "pagination": {"previous_page": "tok-2"}}),
    )
    clusters = make_client(url, fake_time).list_clusters()
    assert [c.id for c in clusters] == ["a", "b", "c"]
    assert [s.query for s in app.seen] == [{}, {"pagination.page": "tok-2"}, {"pagination.page": "tok-3"}]


def test_list_clusters_stops_when_a_page_token_repeats(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", "/api/v1/clusters", Reply(200, {"clusters": [{"id": "a"}], "pagination": {"next_page": "same"}}))
    assert len(make_client(url, fake_time).list_clusters()) == 2
    assert len(app.seen) == 2


@pytest.mark.parametrize(
    "reply",
    [
        error_reply(404, 5, "not found: cmek config not found"),
        Reply(200, {"status": "DISABLED"}),
        Reply(200, {"status": "DISABLED", "region_infos": []}),
    ],
    ids=["404", "200-disabled", "200-disabled-empty-list"],
)
def test_get_cmek_is_none_when_cmek_was_never_enabled(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, reply: Reply
) -> None:
    app, url = api
    app.script("GET", CMEK_PATH, reply)
    assert make_client(url, fake_time).get_cmek(CLUSTER_ID) is None


def test_get_cmek_keeps_a_disabled_answer_that_lists_regions(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    body = {"status": "DISABLED", "region_infos": [{"region": "us-east-1", "status": "DISABLED"}]}
    app.script("GET", CMEK_PATH, Reply(200, body))
    info = make_client(url, fake_time).get_cmek(CLUSTER_ID)
    assert isinstance(info, CmekInfo) and info.to_api() == body


def test_get_cmek_other_errors_are_raised(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", CMEK_PATH, error_reply(403, 7, "permission denied: requires CLUSTER_ADMIN"))
    with pytest.raises(PermissionDeniedError):
        make_client(url, fake_time).get_cmek(CLUSTER_ID)


def test_success_that_is_not_a_json_object_is_an_error(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, "<html>captive portal</html>"))
    with pytest.raises(CloudApiError, match=r"GET /api/v1/organization: HTTP 200 \(ok\): expected a JSON object"):
        make_client(url, fake_time).get_organization()


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------


def test_get_is_retried_on_5xx_with_the_backoff_schedule(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, *[error_reply(500, 13, "internal: boom")] * 4, Reply(200, ORG))
    assert make_client(url, fake_time).get_organization().id == ORG["id"]
    assert app.count("GET", ORG_PATH) == 5
    # 4 retries: 0.5 s, 1 s, 2 s, 4 s, each plus up to 25% jitter.
    assert len(fake_time.sleeps) == 4
    for delay, base in zip(fake_time.sleeps, [0.5, 1.0, 2.0, 4.0], strict=True):
        assert base <= delay <= base * 1.25


def test_retry_schedule_without_jitter_is_exactly_doubling(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = api
    monkeypatch.setattr(cloud_retry, "_jitter", lambda: 0.0)
    app.script("GET", ORG_PATH, error_reply(502, 14, "unavailable: bad gateway"))
    with pytest.raises(ServerError) as caught:
        make_client(url, fake_time).get_organization()
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert app.count("GET", ORG_PATH) == 5, "1 attempt + max_retries (4) retries"
    assert caught.value.http_status == 502


def test_backoff_is_capped(api: tuple[ScriptedApi, str], fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch) -> None:
    app, url = api
    monkeypatch.setattr(cloud_retry, "_jitter", lambda: 1.0)
    app.script("GET", ORG_PATH, error_reply(503, 14, "unavailable"))
    with pytest.raises(UnavailableError):
        make_client(url, fake_time, backoff_factor=1, backoff_max=3, max_retries=3).get_organization()
    assert fake_time.sleeps == [1.25, 2.5, 3.0]


@pytest.mark.parametrize(
    "refusal",
    [error_reply(503, 14, "unavailable"), error_reply(429, 8, "rate limit exceeded", {"Retry-After": "2"}),
     error_reply(400, 8, "rate limit exceeded", {"Retry-After": "2"})],
    ids=["503", "429", "rate-limit-under-400"],
)
def test_put_is_resent_after_an_answer_saying_it_was_not_processed(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, refusal: Reply
) -> None:
    app, url = api
    app.script("PUT", CMEK_PATH, refusal, Reply(200, {"status": "ROTATING"}))
    info = make_client(url, fake_time).update_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert info.status == "ROTATING"
    assert app.count("PUT", CMEK_PATH) == 2
    assert [s.body for s in app.seen] == [{"region_specs": [aws_spec("us-east-1").to_api()]}] * 2


@pytest.mark.parametrize("status", [500, 502, 504])
def test_put_is_not_resent_after_an_answer_that_may_hide_an_applied_rotation(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, status: int
) -> None:
    app, url = api
    app.script("PUT", CMEK_PATH, error_reply(status, 13, "internal"), Reply(200, {"status": "ROTATING"}))
    with pytest.raises(ServerError):
        make_client(url, fake_time).update_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert app.count("PUT", CMEK_PATH) == 1 and fake_time.sleeps == []


def test_put_is_not_resent_after_a_read_timeout_or_a_dropped_connection(
    api: tuple[ScriptedApi, str], hang_up_server: tuple[list[bytes], str], fake_time: FakeTime
) -> None:
    app, url = api
    app.script("PUT", CMEK_PATH, Reply(200, {"status": "ROTATING"}, delay=0.5))
    with pytest.raises(ApiConnectionError):
        make_client(url, fake_time, read_timeout=0.2).update_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert app.count("PUT", CMEK_PATH) == 1
    received, dropping = hang_up_server
    with pytest.raises(ApiConnectionError):
        make_client(dropping, fake_time).update_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert received == [b"PUT"]
    assert fake_time.sleeps == []


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        ("POST", CMEK_PATH, lambda c: c.enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")])),
        ("PATCH", CMEK_PATH, lambda c: c.revoke_cmek(CLUSTER_ID)),
        ("PATCH", f"/api/v1/clusters/{CLUSTER_ID}",
         lambda c: c.add_regions(CLUSTER_ID, {"us-east-1": 3, "us-west-2": 3}, [aws_spec("us-west-2")])),
    ],
    ids=["enable", "revoke", "add_regions"],
)
@pytest.mark.parametrize("status", [500, 503, 429])
def test_post_and_patch_are_never_retried(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, method: str, path: str,
    call: Callable[[CloudApiClient], object], status: int,
) -> None:
    app, url = api
    app.script(method, path, error_reply(status, 14, "unavailable: try later", {"Retry-After": "1"}), Reply(200, {}))
    with pytest.raises(CloudApiError) as caught:
        call(make_client(url, fake_time))
    assert caught.value.http_status == status
    assert app.count(method, path) == 1
    assert fake_time.sleeps == []


def test_501_is_not_retried(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, error_reply(501, 12, "unimplemented"), Reply(200, ORG))
    with pytest.raises(ServerError, match=r"HTTP 501 \(unimplemented\)"):
        make_client(url, fake_time).get_organization()
    assert app.count("GET", ORG_PATH) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_client_errors_are_not_retried(api: tuple[ScriptedApi, str], fake_time: FakeTime, status: int) -> None:
    app, url = api
    app.script("GET", ORG_PATH, error_reply(status, 3, "no"), Reply(200, ORG))
    with pytest.raises(CloudApiError):
        make_client(url, fake_time).get_organization()
    assert app.count("GET", ORG_PATH) == 1 and fake_time.sleeps == []


def test_retry_after_is_honoured_exactly(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script(
        "GET", ORG_PATH,
        error_reply(429, 8, "rate limit exceeded", {"Retry-After": "7"}),
        error_reply(503, 14, "unavailable", {"Retry-After": "2.5"}),
        Reply(200, ORG),
    )
    make_client(url, fake_time).get_organization()
    assert fake_time.sleeps == [7.0, 2.5]


def test_429_without_retry_after_backs_off(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = api
    monkeypatch.setattr(cloud_retry, "_jitter", lambda: 0.0)
    app.script("GET", ORG_PATH, error_reply(429, 8, "resource exhausted"), error_reply(429, 8, "x"), Reply(200, ORG))
    make_client(url, fake_time).get_organization()
    assert fake_time.sleeps == [0.5, 1.0]


def test_rate_limit_answers_exhaust_into_rate_limited_error(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, error_reply(429, 8, "rate limit exceeded", {"Retry-After": "3"}))
    with pytest.raises(RateLimitedError) as caught:
        make_client(url, fake_time).get_organization()
    assert caught.value.retry_after == 3.0
    assert fake_time.sleeps == [3.0] * 4
    assert app.count("GET", ORG_PATH) == 5


def test_rate_limit_message_under_status_400_is_recognised_and_retried(
    api: tuple[ScriptedApi, str], fake_time: FakeTime
) -> None:
    app, url = api
    limited = error_reply(400, 3, "rate limit exceeded", {"Retry-After": "3"})
    app.script("GET", ORG_PATH, limited, limited, Reply(200, ORG))
    assert make_client(url, fake_time).get_organization().id == ORG["id"]
    assert fake_time.sleeps == [3.0, 3.0]
    assert app.count("GET", ORG_PATH) == 3


def test_rate_limit_message_retries_are_bounded(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("PUT", CMEK_PATH, error_reply(403, 7, "Rate limit exceeded.", {"Retry-After": "1"}))
    with pytest.raises(RateLimitedError) as caught:
        make_client(url, fake_time, max_retries=2).update_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert caught.value.http_status == 403
    assert app.count("PUT", CMEK_PATH) == 3


def test_rate_limit_message_on_post_is_reported_not_retried(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("POST", CMEK_PATH, error_reply(400, 3, "rate limit exceeded", {"Retry-After": "3"}))
    with pytest.raises(RateLimitedError) as caught:
        make_client(url, fake_time).enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert caught.value.retry_after == 3.0
    assert app.count("POST", CMEK_PATH) == 1 and fake_time.sleeps == []


def test_400_with_retry_after_but_another_message_is_not_retried(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, error_reply(400, 3, "invalid argument: bad", {"Retry-After": "3"}))
    with pytest.raises(InvalidArgumentError):
        make_client(url, fake_time).get_organization()
    assert app.count("GET", ORG_PATH) == 1


def test_read_timeout_retries_get_but_not_post(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ORG, delay=0.5), Reply(200, ORG))
    app.script("POST", CMEK_PATH, Reply(200, {}, delay=0.5))
    client = make_client(url, fake_time, read_timeout=0.2)
    assert client.get_organization().id == ORG["id"]
    assert app.count("GET", ORG_PATH) == 2 and len(fake_time.sleeps) == 1
    with pytest.raises(ApiConnectionError, match=f"POST {CMEK_PATH}: no answer from {url}"):
        client.enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert app.count("POST", CMEK_PATH) == 1 and len(fake_time.sleeps) == 1


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_retries_get_then_reports(fake_time: FakeTime) -> None:
    url = f"http://127.0.0.1:{_unused_port()}"
    client = make_client(url, fake_time)
    with pytest.raises(ApiConnectionError) as caught:
        client.get_organization()
    assert caught.value.http_status is None
    assert str(caught.value).startswith(f"GET /api/v1/organization: no answer from {url}: ")
    assert len(fake_time.sleeps) == 4
    with pytest.raises(ApiConnectionError):
        client.enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert len(fake_time.sleeps) == 4, "POST is not retried after a connection error"


class _HangUp(socketserver.BaseRequestHandler):
    """Reads a request, then closes the connection without answering."""

    received: list[bytes]

    def handle(self) -> None:
        data = self.request.recv(65536)
        if data:
            type(self).received.append(data.split(b" ", 1)[0])


@pytest.fixture
def hang_up_server() -> Iterator[tuple[list[bytes], str]]:
    received: list[bytes] = []
    handler = type("HangUp", (_HangUp,), {"received": received})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_dropped_connection_retries_get_but_not_patch(hang_up_server: tuple[list[bytes], str], fake_time: FakeTime) -> None:
    received, url = hang_up_server
    client = make_client(url, fake_time)
    with pytest.raises(ApiConnectionError):
        client.get_cluster(CLUSTER_ID)
    assert received == [b"GET"] * 5
    with pytest.raises(ApiConnectionError):
        client.revoke_cmek(CLUSTER_ID)
    assert received == [b"GET"] * 5 + [b"PATCH"]


class _Trickle(socketserver.BaseRequestHandler):
    """Answers ``GET /api/v1/organization`` a byte every ``gap`` seconds, in the status line and
    headers (``where == "head"``) or in the body only (``where == "body"``)."""

    where = "body"
    gap = 0.25
    stopped: threading.Event

    def handle(self) -> None:
        self.request.recv(65536)
        body = json.dumps(ORG).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        slow, fast = (head + body, b"") if self.where == "head" else (body, head)
        try:
            self.request.sendall(fast)
            for index in range(len(slow)):
                if self.stopped.wait(self.gap):
                    return
                self.request.sendall(slow[index:index + 1])
        except OSError:
            return


@pytest.fixture(params=["head", "body"])
def trickle_server(request: pytest.FixtureRequest) -> Iterator[str]:
    stopped = threading.Event()
    handler = type("Trickle", (_Trickle,), {"where": request.param, "stopped": stopped})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stopped.set()
        server.shutdown()
        server.server_close()


def test_a_server_trickling_its_answer_is_cut_off_at_the_attempt_bound(trickle_server: str, fake_time: FakeTime) -> None:
    # Every gap (0.25 s) is shorter than read_timeout, so only a bound on the whole attempt helps:
    # the answer would take over 20 s to arrive.
    client = make_client(trickle_server, fake_time, connect_timeout=0.5, read_timeout=0.5, max_retries=0)
    started = time.monotonic()
    with pytest.raises(ApiConnectionError) as caught:
        client.get_organization()
    elapsed = time.monotonic() - started
    assert str(caught.value) == (
        f"GET {ORG_PATH}: no answer from {trickle_server}: the attempt took longer than attempt_timeout=1 s "
        "(the server answered too slowly) and was cut off"
    )
    assert 0.9 < elapsed < 2.5


@pytest.mark.parametrize("trickle_server", ["head"], indirect=True)  # a body is read after urllib3's retries
def test_each_retry_gets_its_own_attempt_bound(trickle_server: str, fake_time: FakeTime) -> None:
    client = make_client(trickle_server, fake_time, read_timeout=5, attempt_timeout=0.6, max_retries=1)
    started = time.monotonic()
    with pytest.raises(ApiConnectionError, match=r"attempt_timeout=0\.6 s"):
        client.get_organization()
    elapsed = time.monotonic() - started
    assert len(fake_time.sleeps) == 1 and 1.1 < elapsed < 3.0


def test_a_slow_but_complete_answer_within_the_bound_is_read(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ORG, delay=0.3))
    assert make_client(url, fake_time, attempt_timeout=2).get_organization().id == ORG["id"]
    assert len(fake_time.sleeps) == 0


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan, True])
def test_the_attempt_bound_must_be_a_positive_number(bad: float) -> None:
    with pytest.raises(SpecError, match="attempt_timeout: expected a positive number of seconds"):
        CloudApiClient(API_KEY, "https://cockroachlabs.cloud", attempt_timeout=bad)


# --------------------------------------------------------------------------------------------
# Errors over HTTP
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "error_class", "text"),
    [
        (error_reply(400, 3, "invalid argument: insufficient permissions to access the KMS key"), InvalidArgumentError,
         f"POST {CMEK_PATH}: HTTP 400 (invalid argument): invalid argument: insufficient permissions to access the KMS key"),
        (error_reply(401, 16, "unauthenticated"), UnauthenticatedError,
         f"POST {CMEK_PATH}: HTTP 401 (unauthenticated): unauthenticated"),
        (error_reply(403, 7, "permission denied: x"), PermissionDeniedError,
         f"POST {CMEK_PATH}: HTTP 403 (permission denied): permission denied: x"),
        (error_reply(404, 5, "not found: cluster"), NotFoundError, f"POST {CMEK_PATH}: HTTP 404 (not found): not found: cluster"),
        (Reply(503, "<h1>Service Unavailable</h1>"), UnavailableError,
         f"POST {CMEK_PATH}: HTTP 503 (unavailable): <h1>Service Unavailable</h1>"),
        (Reply(500, {"error": "oops"}), ServerError, f"POST {CMEK_PATH}: HTTP 500 (internal): oops"),
    ],
    ids=["400", "401", "403", "404", "503-html", "500-map"],
)
def test_answers_become_typed_errors(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, reply: Reply, error_class: type[CloudApiError], text: str
) -> None:
    app, url = api
    app.script("POST", CMEK_PATH, reply)
    with pytest.raises(error_class) as caught:
        make_client(url, fake_time).enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert str(caught.value) == text


HOSTILE = "\x1b[2J\x1b[1;31mrefused\x1b[0m:\r\nkey\x00 locked\x07\x08 \x1b]8;;http://evil\x07here\x1b]8;;\x07\u202egnp.exe \x9b2J"
SHOWN = "refused: key locked heregnp.exe "


@pytest.mark.parametrize(
    ("reply", "text"),
    [
        (error_reply(400, 3, HOSTILE), f"GET {ORG_PATH}: HTTP 400 (invalid argument): {SHOWN}"),
        (Reply(502, HOSTILE), f"GET {ORG_PATH}: HTTP 502 (bad gateway): {SHOWN.strip()}"),
        (Reply(500, {"error": {"code": 13, "message": HOSTILE}}), f"GET {ORG_PATH}: HTTP 500 (internal): {SHOWN}"),
        (Reply(200, HOSTILE), f"GET {ORG_PATH}: HTTP 200 (ok): expected a JSON object, got {SHOWN!r}"),
    ],
    ids=["status-message", "text-body", "nested-error", "success-not-json"],
)
def test_server_text_loses_escape_sequences_and_control_characters(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, reply: Reply, text: str
) -> None:
    app, url = api
    app.script("GET", ORG_PATH, reply)
    with pytest.raises(CloudApiError) as caught:
        make_client(url, fake_time, max_retries=0).get_organization()
    assert str(caught.value) == text
    assert caught.value.message.isprintable()


def test_status_details_lose_control_characters(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(400, {"code": 3, "message": "bad", "details": [{"@type\x1b[1m": HOSTILE, "n": [HOSTILE, 3]}]}))
    with pytest.raises(InvalidArgumentError) as caught:
        make_client(url, fake_time).get_organization()
    assert caught.value.details == [{"@type": SHOWN, "n": [SHOWN, 3]}]


# --------------------------------------------------------------------------------------------
# Bounded answers
# --------------------------------------------------------------------------------------------


def test_a_gzip_answer_that_decodes_beyond_the_limit_is_refused_without_decoding_it_all(
    api: tuple[ScriptedApi, str], fake_time: FakeTime
) -> None:
    app, url = api
    bomb = gzip.compress(b'{"clusters": ["' + b"0" * (300 * 1024 * 1024) + b'"]}', compresslevel=1)
    assert len(bomb) < 2 * 1024 * 1024
    app.script("GET", "/api/v1/clusters", Reply(200, bomb, {"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(CloudApiError) as caught:
            make_client(url, fake_time).list_clusters()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (
        "GET /api/v1/clusters: HTTP 200 (ok): the answer decodes to more than the limit of 8388608 bytes (max_response_bytes)"
    )
    assert peak < 64 * 1024 * 1024, f"decoding stopped near the limit (peak {peak} bytes)"


def test_an_answer_larger_than_the_limit_is_refused(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, {"id": "x" * 5000}))
    with pytest.raises(CloudApiError) as caught:
        make_client(url, fake_time, max_response_bytes=4096).get_organization()
    assert caught.value.http_status == 200
    assert caught.value.message == "the answer declares 5010 bytes, more than the limit of 4096 (max_response_bytes)"
    assert make_client(url, fake_time, max_response_bytes=5010).get_organization().id == "x" * 5000


def test_an_error_answer_larger_than_the_limit_is_refused_with_its_status(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("POST", CMEK_PATH, Reply(400, gzip.compress(b" " * 100_000), {"Content-Encoding": "gzip"}))
    with pytest.raises(CloudApiError) as caught:
        make_client(url, fake_time, max_response_bytes=50_000).enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")])
    assert str(caught.value) == (
        f"POST {CMEK_PATH}: HTTP 400 (invalid argument): the answer decodes to more than the limit of 50000 bytes "
        "(max_response_bytes)"
    )


@pytest.mark.parametrize("depth", [65, 1000, 200_000])
def test_deeply_nested_json_in_an_answer_is_a_clear_error(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, depth: int
) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ('{"id": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}").encode()))
    with pytest.raises(CloudApiError) as caught:
        make_client(url, fake_time).get_organization()
    assert str(caught.value) == f"GET {ORG_PATH}: HTTP 200 (ok): the answer's JSON is nested deeper than 64 levels"


def test_nesting_up_to_the_limit_is_read(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ('{"id": "o", "x": ' + "[" * 63 + "]" * 63 + "}").encode()))
    assert make_client(url, fake_time).get_organization().id == "o"


def test_the_response_limit_must_be_a_positive_integer() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(SpecError, match="max_response_bytes: expected a positive integer"):
            CloudApiClient(API_KEY, "https://cockroachlabs.cloud", max_response_bytes=bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# The key stays secret
# --------------------------------------------------------------------------------------------


def test_api_key_never_appears_in_errors_reprs_or_logs(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    app, url = api
    caplog.set_level(logging.DEBUG)
    echoed = Reply(
        401,
        {"code": 16, "message": f"unauthenticated: bad key {API_KEY}", "details": [{"@type": "x", "token": API_KEY}]},
    )
    app.script("GET", ORG_PATH, error_reply(500, 13, "internal"), echoed)
    app.script("POST", CMEK_PATH, Reply(200, {}, delay=0.5))
    client = make_client(url, fake_time, read_timeout=0.2)
    errors: list[BaseException] = []
    for call in (
        client.get_organization,
        lambda: client.enable_cmek(CLUSTER_ID, [aws_spec("us-east-1")]),
        lambda: make_client(f"http://127.0.0.1:{_unused_port()}", fake_time).get_cluster(CLUSTER_ID),
    ):
        with pytest.raises(CloudApiError) as caught:
            call()
        errors.append(caught.value)
    assert "<redacted>" in str(errors[0]), "a server echoing the key is scrubbed"
    assert errors[0].details == [{"@type": "x", "token": "<redacted>"}]  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as pickled:
        pickle.dumps(client)
    texts = [repr(client), str(client), caplog.text, str(pickled.value)]
    for error in errors:
        texts += [str(error), repr(error), repr(error.args), repr(error.__cause__), repr(error.__context__)]
    assert caplog.text, "logging was captured"
    for text in texts:
        assert API_KEY not in text


@pytest.mark.parametrize("given", [API_KEY + "\n", API_KEY + "\r\n", f"  {API_KEY}\t\n", "\ufeff" + API_KEY + " "],
                         ids=["newline", "crlf", "spaces-tab", "bom-space"])
def test_surrounding_whitespace_is_stripped_from_the_key(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, given: str
) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ORG))
    CloudApiClient(given, url, sleep=fake_time.sleep, clock=fake_time.clock).get_organization()
    assert app.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"


@pytest.mark.parametrize(
    ("given", "named"),
    [
        (API_KEY[:10] + "\r\n" + API_KEY[10:], "a line break (U+000D) at position 11 of"),
        (API_KEY[:10] + "\n" + API_KEY[10:], "a line break (U+000A) at position 11 of"),
        (API_KEY[:5] + "\x00" + API_KEY[5:], "a control character (U+0000) at position 6 of"),
        (API_KEY[:5] + "\x1b[31m" + API_KEY[5:], "a control character (U+001B) at position 6 of"),
        (API_KEY[:5] + " " + API_KEY[5:], "a space (U+0020) at position 6 of"),
        (API_KEY[:5] + "\u00e9" + API_KEY[5:], "a non-ASCII character (U+00E9) at position 6 of"),
    ],
    ids=["crlf", "lf", "nul", "ansi", "space", "non-ascii"],
)
def test_a_key_with_a_control_character_inside_is_refused_without_echoing_it(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, given: str, named: str
) -> None:
    app, url = api
    client = CloudApiClient(given, url, sleep=fake_time.sleep, clock=fake_time.clock)
    with pytest.raises(InvalidApiKeyError) as refused:
        client.get_organization()
    message = str(refused.value)
    assert message.startswith(f"GET {ORG_PATH}: the CockroachDB Cloud API key contains {named}")
    assert "pulumi config set --secret cockroach:apiKey <key>" in message
    texts = [message, repr(refused.value), repr(refused.value.args), repr(refused.value.__context__)]
    for text in texts:
        for fragment in (API_KEY[:10], API_KEY[10:], repr(given)[1:-1]):
            assert fragment not in text
    assert app.seen == [], "nothing was sent"


def test_the_key_is_scrubbed_in_every_form_an_answer_can_echo(api: tuple[ScriptedApi, str], fake_time: FakeTime) -> None:
    app, url = api
    key = "CCDB1_quote\"back\\slash'apostrophe-0123456789"
    forms = [key, json.dumps(key)[1:-1], repr(key)[1:-1], repr(key.encode())[2:-1]]
    assert len(set(forms)) == 3, "the forms differ (an ASCII key's str and bytes reprs are alike)"
    app.script("GET", ORG_PATH, Reply(502, "<pre>" + " | ".join(forms) + "</pre>"))
    with pytest.raises(ServerError) as caught:
        CloudApiClient(key, url, sleep=fake_time.sleep, clock=fake_time.clock, max_retries=0).get_organization()
    assert str(caught.value) == f"GET {ORG_PATH}: HTTP 502 (bad gateway): <pre>" + " | ".join(["<redacted>"] * 4) + "</pre>"
    assert "quote" not in repr(caught.value)


@pytest.mark.parametrize(
    "raised",
    [
        lambda key: ValueError(f"Invalid header value {('Bearer ' + key).encode()!r}"),
        lambda key: UnicodeEncodeError("latin-1", "Bearer " + key, 7, 8, "ordinal not in range(256)"),
        lambda key: TypeError(f"unexpected {json.dumps({'Authorization': 'Bearer ' + key})}"),
        lambda key: requests.exceptions.InvalidHeader(f"Invalid return character in header value: {'Bearer ' + key!r}"),
    ],
    ids=["value-error-bytes-repr", "unicode-encode-error", "type-error-json", "requests-invalid-header"],
)
def test_every_exception_around_a_request_becomes_a_cloud_api_error_without_the_key(
    fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch, raised: Callable[[str], Exception]
) -> None:
    key = "CCDB1_it's-a-\"quoted\"-key-0123456789"
    client = CloudApiClient(key, "http://127.0.0.1:9", sleep=fake_time.sleep, clock=fake_time.clock)

    def failing_request(self: requests.Session, *args: Any, **kwargs: Any) -> requests.Response:
        raise raised(key)

    monkeypatch.setattr(requests.Session, "request", failing_request)
    with pytest.raises(CloudApiError) as caught:
        client.get_cluster(CLUSTER_ID)
    error = caught.value
    assert str(error).startswith(f"GET /api/v1/clusters/{CLUSTER_ID}: ")
    assert error.__cause__ is None and error.__context__ is None
    for text in (str(error), repr(error), repr(error.args)):
        for form in (key, json.dumps(key)[1:-1], repr(key)[1:-1], repr(key.encode())[2:-1]):
            assert form not in text


# --------------------------------------------------------------------------------------------
# Client-side rate limit (real time: about 4 seconds)
# --------------------------------------------------------------------------------------------


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t - start <= window) for i, start in enumerate(times))


def test_four_threads_stay_under_ten_requests_per_second(api: tuple[ScriptedApi, str]) -> None:
    app, url = api
    app.script("GET", ORG_PATH, Reply(200, ORG))
    key = "rate-limit-test-key-7c1d"  # its own limiter: no other test shares it
    failures: list[BaseException] = []

    def worker() -> None:
        client = CloudApiClient(key, url)  # one client per thread: the limit is per key, not per client
        try:
            for _ in range(10):
                client.get_organization()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    arrivals = [s.at for s in app.seen]
    assert len(arrivals) == 40
    peak = max_in_any_window(arrivals)
    print(f"observed max requests in any 1-second window (server side, 4 threads): {peak}")
    assert peak <= 10


def test_retries_inside_the_transport_also_wait_for_the_rate_limit(
    api: tuple[ScriptedApi, str], fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = api
    monkeypatch.setattr(cloud_retry, "_jitter", lambda: 0.0)
    app.script("GET", ORG_PATH, error_reply(500, 13, "internal"), Reply(200, ORG))
    make_client(url, fake_time, requests_per_second=1).get_organization()
    # 0.5 s backoff, then the limiter holds the retry until 1 s after the first answer.
    assert fake_time.sleeps[0] == 0.5
    assert sum(fake_time.sleeps) == pytest.approx(1.0, abs=0.01) and sum(fake_time.sleeps) > 1.0
    assert app.count("GET", ORG_PATH) == 2
