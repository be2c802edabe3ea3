"""Admin endpoints outside ``/api/`` for the standalone server (no key needed, never recorded).

=========================================  ==================================================
``GET /_simulator``                        index: simulated time and these endpoints
``GET /_simulator/requests``               ``{"requests": [...]}`` every recorded API request
``POST /_simulator/advance?seconds=N``     moves the clock (also ``{"seconds": N}``)
``POST /_simulator/reset``                 seeded state again, record and faults cleared
``POST /_simulator/faults``                ``{"method", "path_suffix", "kind", "count", ...}``
``POST /_simulator/keys``                  ``{"uri", "mode": "400"|"ENABLE_FAILED"|"reachable"}``
``POST /_simulator/clusters/<id>/state``   ``{"state", "operation_status"?, "seconds"?}``
``POST /_simulator/clusters/<id>/revoke-failure``   ``{"message"?}``: next revoke fails
``POST /_simulator/clusters/<id>/support-disable``  support-only CMEK disable
=========================================  ==================================================

Errors answer 400 ``{"error": "..."}`` (404 for an unknown admin path).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .errors import ApiError

if TYPE_CHECKING:
    from .app import Simulator

ENDPOINTS = (
    "GET /_simulator/requests",
    "POST /_simulator/advance?seconds=N",
    "POST /_simulator/reset",
    "POST /_simulator/faults",
    "POST /_simulator/keys",
    "POST /_simulator/clusters/<id>/state",
    "POST /_simulator/clusters/<id>/revoke-failure",
    "POST /_simulator/clusters/<id>/support-disable",
)

_CLUSTER_ACTION = re.compile(r"^/_simulator/clusters/(?P<cluster_id>[^/]+)/(?P<action>[a-z-]+)$")


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def admin_response(simulator: Simulator, request: Request) -> Response:
    try:
        return _dispatch(simulator, request)
    except KeyError as exc:
        return _json(400, {"error": f"body: missing field {exc}"})
    except (ValueError, TypeError) as exc:
        return _json(400, {"error": str(exc)})
    except ApiError as exc:
        return _json(400, {"error": exc.message})


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"body: expected a JSON object, got {data!r}")
    return data


def _dispatch(simulator: Simulator, request: Request) -> Response:
    method, path = request.method, request.path.rstrip("/")
    if method == "GET" and path == "/_simulator":
        return _json(200, {"now": simulator.now(), "endpoints": list(ENDPOINTS)})
    if method == "GET" and path == "/_simulator/requests":
        return _json(200, {"requests": [r.to_json() for r in simulator.requests]})
    if method == "POST" and path == "/_simulator/advance":
        seconds = request.args.get("seconds") or _body(request).get("seconds")
        if seconds is None:
            raise ValueError("seconds: expected ?seconds=N or {\"seconds\": N}, got nothing")
        simulator.advance(float(seconds))
        return _json(200, {"now": simulator.now()})
    if method == "POST" and path == "/_simulator/reset":
        simulator.reset()
        return _json(200, {"now": simulator.now()})
    if method == "POST" and path == "/_simulator/faults":
        body = _body(request)
        simulator.inject_fault(
            str(body.pop("method", "*")),
            str(body.pop("path_suffix", "")),
            str(body.pop("kind")),
            int(body.pop("count", 1)),
            **body,
        )
        return _json(200, {})
    if method == "POST" and path == "/_simulator/keys":
        body = _body(request)
        uri, mode = str(body["uri"]), str(body.get("mode", "400"))
        if mode == "reachable":
            simulator.mark_key_reachable(uri)
        elif mode in ("400", "ENABLE_FAILED"):
            simulator.mark_key_unreachable(uri, "400" if mode == "400" else "ENABLE_FAILED")
        else:
            raise ValueError(f"mode: expected 400, ENABLE_FAILED or reachable, got {mode!r}")
        return _json(200, {})
    match = _CLUSTER_ACTION.match(path)
    if method == "POST" and match:
        cluster_id, action = match["cluster_id"], match["action"]
        body = _body(request)
        if action == "state":
            if "seconds" in body:
                simulator.lock_cluster(cluster_id, float(body["seconds"]),
                                       str(body.get("operation_status", "CRDB_EDIT_CLUSTER_RUNNING")))
            else:
                simulator.set_cluster_state(cluster_id, str(body["state"]), body.get("operation_status"))
            return _json(200, simulator.cluster(cluster_id))
        if action == "revoke-failure":
            simulator.fail_next_revoke(cluster_id, body.get("message"))
            return _json(200, {})
        if action == "support-disable":
            simulator.support_disable(cluster_id)
            return _json(200, {})
    return _json(404, {"error": f"no admin endpoint {method} {path}; see GET /_simulator"})
