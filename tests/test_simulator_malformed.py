"""Malformed requests get a 400 JSON ``Status`` (code 3), never a crash, and the request record
keeps the status they got (issue 16, item 22).

The requests go through werkzeug's test client straight into the WSGI app (no contract
observer: the OpenAPI validator has its own limits on such bodies), so an exception inside the
simulator fails the test instead of becoming the server's HTML 500 page.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.test import Client

from cmek_component.simulator import SEED_API_KEY, ManualClock, Simulator, SimulatorSettings, seeds
from cmek_component.simulator.decoding import MAX_NESTING_DEPTH

HEADERS = {"Authorization": f"Bearer {SEED_API_KEY}", "Cc-Version": "2024-09-16", "Content-Type": "application/json"}
CLUSTER = f"/api/v1/clusters/{seeds.AWS_SINGLE}"


@pytest.fixture
def app() -> Simulator:
    return Simulator(SimulatorSettings(rate_limit_per_second=None), ManualClock())


def send(app: Simulator, method: str, path: str, body: str | None = None, **query: str) -> tuple[int, Any]:
    response = Client(app).open(path, method=method, headers=HEADERS, data=body, query_string=query)
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    return response.status_code, json.loads(response.get_data(as_text=True))


def assert_invalid_argument(app: Simulator, status: int, body: Any, *needles: str) -> None:
    assert status == 400, body
    assert set(body) == {"code", "message", "details"} and body["code"] == 3 and body["details"] == []
    for needle in needles:
        assert needle in body["message"], body["message"]
    assert app.requests[-1].status == 400


@pytest.mark.parametrize(
    "page", ["²", "١٢", "٣", "1_0", "+1", " 1", "9" * 5000],
    ids=["superscript", "arabic-indic", "arabic-indic-3", "underscore", "plus", "space", "5000-digits"],
)
def test_a_page_token_that_is_not_ascii_digits_is_400(app: Simulator, page: str) -> None:
    status, body = send(app, "GET", "/api/v1/clusters", **{"pagination.page": page})
    assert_invalid_argument(app, status, body, "pagination.page: expected a page token from next_page")


@pytest.mark.parametrize(
    "limit", ["²", "١٢", "1_0", "9" * 5000], ids=["superscript", "arabic-indic", "underscore", "5000-digits"]
)
def test_a_page_limit_that_is_not_ascii_digits_is_400(app: Simulator, limit: str) -> None:
    status, body = send(app, "GET", "/api/v1/clusters", **{"pagination.limit": limit})
    assert_invalid_argument(app, status, body, "pagination.limit: expected an integer")


def test_an_integer_of_5000_digits_in_an_int32_field_is_400(app: Simulator) -> None:
    digits = "7" * 5000
    body = '{"dedicated": {"region_nodes": {"us-east-1": ' + digits + "}}}"
    status, answer = send(app, "PATCH", CLUSTER, body)
    assert_invalid_argument(app, status, answer, "invalid value for int32 type: 777")
    assert len(answer["message"]) < 300, "the message does not repeat the whole number"


def test_an_integer_of_5000_digits_in_an_ignored_field_does_not_crash(app: Simulator) -> None:
    body = '{"region_specs": [], "unknown": ' + "7" * 5000 + "}"
    status, answer = send(app, "POST", CLUSTER + "/cmek", body)
    assert_invalid_argument(app, status, answer, "region_specs: expected at least one region spec")


@pytest.mark.parametrize("digits", [309, 400, 4300])
def test_an_int32_field_beyond_float_range_is_400(app: Simulator, digits: int) -> None:
    body = '{"dedicated": {"region_nodes": {"us-east-1": 1' + "0" * digits + "}}}"
    status, answer = send(app, "PATCH", CLUSTER, body)
    assert_invalid_argument(app, status, answer, "invalid value for int32 type")


@pytest.mark.parametrize(
    "number", ['"' + "1" * 5000 + '"', '"١٢"', '"²"', "3.5", "1e400", "-1e400"],
    ids=["5000-digit-string", "arabic-indic-string", "superscript-string", "fraction", "1e400", "-1e400"],
)
def test_other_bad_int32_values_are_400(app: Simulator, number: str) -> None:
    body = '{"dedicated": {"region_nodes": {"us-east-1": ' + number + "}}}"
    status, answer = send(app, "PATCH", CLUSTER, body)
    assert_invalid_argument(app, status, answer, "invalid value for int32 type")


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 500, 100_000])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_400(app: Simulator, depth: int, opening: str) -> None:
    closing = "]" if opening == "[" else "}"
    body = '{"region_specs": [], "unknown": ' + opening * depth + "1" + closing * depth + "}"
    status, answer = send(app, "POST", CLUSTER + "/cmek", body)
    assert_invalid_argument(app, status, answer, "exceeded max recursion depth")
    record = app.requests[-1]
    assert isinstance(record.body, (str, dict)), "the record keeps the body (as text when it cannot be parsed)"


def test_nesting_up_to_the_limit_is_fine(app: Simulator) -> None:
    depth = MAX_NESTING_DEPTH - 3  # the body's own object, region_specs' array and one spec
    body = '{"region_specs": [], "unknown": ' + "[" * depth + "]" * depth + "}"
    status, answer = send(app, "POST", CLUSTER + "/cmek", body)
    assert_invalid_argument(app, status, answer, "region_specs: expected at least one region spec")


def test_an_unexpected_failure_is_a_json_500_and_is_recorded(app: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_cluster_id: str) -> dict[str, Any]:
        raise RuntimeError("a bug in the simulator")

    monkeypatch.setattr(app.world, "get_cluster", broken)
    status, body = send(app, "GET", CLUSTER)
    assert status == 500
    assert body == {"code": 13, "message": "internal: the simulator failed: RuntimeError: a bug in the simulator", "details": []}
    assert app.requests[-1].status == 500
