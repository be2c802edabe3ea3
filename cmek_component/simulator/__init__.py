"""A local CockroachDB Cloud API simulator for the CMEK endpoints (a werkzeug WSGI app).

Usage
=====

In tests (real socket, simulated time)::

    from cmek_component.simulator import ManualClock, Simulator, SimulatorServer, SEED_API_KEY, seeds

    with SimulatorServer(Simulator(clock=ManualClock())) as server:
        requests.post(f"{server.url}/api/v1/clusters/{seeds.AWS_SINGLE}/cmek",
                      headers={"Authorization": f"Bearer {SEED_API_KEY}", "Cc-Version": "2024-09-16"},
                      json={"region_specs": seeds.region_specs(seeds.AWS_SINGLE)})
        server.simulator.advance(30)      # ENABLING -> ENABLED

Standalone (real time): ``python -m cmek_component.simulator --port 8085 [--api-key KEY[=ROLE]]
[--enable-seconds 5 ...]`` prints its base URL (e.g. ``http://127.0.0.1:8085``); point
``COCKROACH_SERVER`` at it. Every setting below is also a flag (``--enable-seconds``,
``--cmek-absent DISABLED``, ``--rate-limit-per-second 0`` to disable the limit ...).
``--journal FILE`` keeps the world across restarts (``journal``: the mutating requests are applied
again at start); ``--api-key-env NAME`` reads an accepted key from the environment.

Served: ``GET /api/v1/organization``, ``GET /api/v1/clusters``, ``GET|PATCH /api/v1/clusters/{id}``,
``GET|POST|PUT|PATCH /api/v1/clusters/{id}/cmek``. Seeded clusters: see ``seeds`` (AWS and GCP,
one and three regions, plus BASIC, STANDARD, PUBLIC, CREATING and LOCKED clusters that fail a
CMEK prerequisite). Admin endpoints outside ``/api/`` (no key): ``GET /_simulator/requests``,
``POST /_simulator/advance?seconds=N``, ``POST /_simulator/reset``, ``POST /_simulator/faults``,
``POST /_simulator/keys``, ``POST /_simulator/clusters/<id>/state`` (see ``admin``).

Behaviour (contract notes §6; D documented, C seen in client code, I inferred, G guessed)
=========================================================================================

* Auth (T2, T3): ``Authorization: Bearer <key>`` from ``api_keys``; missing/unknown -> 401
  ``{"code": 16, "message": "unauthenticated: ...", "details": []}``. Roles per operation as the
  OpenAPI document lists them (CMEK: CLUSTER_ADMIN or CLUSTER_OPERATOR_WRITER) -> 403 code 7.
  Every key also holds ORG_MEMBER. Default keys: ``sim-admin-key`` (CLUSTER_ADMIN),
  ``sim-operator-key`` (CLUSTER_OPERATOR_WRITER), ``sim-developer-key`` (CLUSTER_DEVELOPER).
* Cc-Version (T4): missing -> latest (2024-09-16); not in ``accepted_cc_versions`` -> 400
  ``invalid Cc-Version.``. Responses always use the 2024-09-16 shapes.
* Rate limit (T5): token bucket of ``rate_limit_per_second`` per key on the simulator's clock
  (with a ManualClock: at most that many requests between ``advance()`` calls) ->
  ``rate_limit_status`` + ``Retry-After`` + message ``rate limit exceeded`` (code 8).
* Errors (T6): every non-2xx body is ``{code, message, details: []}``; messages start with the
  gRPC code text (``invalid argument: ...``, ``not found: ...``) and name field, rule and value.
  Unknown cluster -> 404 code 5 (T7). Unknown path -> 404; unserved method -> 501 code 12.
  Malformed input (bad query integers, numbers beyond int/float range, JSON nested deeper than
  100 levels) -> 400 code 3; an unexpected failure -> 500 code 13; both are recorded.
* Bodies (T8, T10): decoded like protojson: bad JSON, wrong types and unknown enum values ->
  400 ``proto: (line 1:42): invalid value for enum type: "HAHA"``; lowerCamelCase names accepted;
  unknown fields per ``unknown_fields``. Timestamps RFC 3339 with microseconds (T9).
* Faults (T11): ``Simulator.inject_fault(method, path_suffix, kind, count, **kw)``: "429"
  (retry_after), "500", "502"/"503"/"504" (optional raw ``body``), "drop", "slow" (seconds).
  ``set_cluster_state``/``lock_cluster``: mutations on a LOCKED/CREATING cluster -> 503 code 14
  (K7), message mentions the lock.
* Clusters (C1-C3): full ``Cluster`` objects; ``account_id`` 12 digits (AWS) or a project id (GCP);
  organization ``{id, name, label, created_at}``.
* Region changes (C4-C9): ``PATCH cluster`` with ``dedicated.region_nodes`` (the complete region
  map; an omitted region is removed) and ``dedicated.cmek_region_specs`` (new regions only).
  Existing region in cmek_region_specs -> 400 (C4); fewer than ``min_nodes_per_region`` -> 400
  (C7); a region spelled for the other cloud -> 400 ``invalid region name 'us-east-1' for GCP. Did
  you mean to use 'us-east1'`` (C9). Accepted: cluster LOCKED with operation_status
  CRDB_SCALE_RUNNING, new CMEK regions ENABLING; after ``add_region_seconds`` CREATED and
  ENABLED (C8). labels / delete_protection / parent_id apply at once; the documented fields it
  does not model (``cockroach_version``, ``plan``, ``serverless``, ``upgrade_status``,
  ``dedicated.hardware``) -> 400 code 3 naming each one, and nothing in the request is applied.
* Enable (K1-K10): POST needs a CREATED (else 503), ADVANCED + PRIVATE cluster (else 400 with
  ``ineligible_cluster_grpc_code``), a spec for every cluster region exactly once (missing,
  unknown or duplicate region -> 400), key type matching the cloud (AWS_KMS / GCP_CLOUD_KMS;
  NULL_KMS refused), and well-formed keys (AWS key ARN + role ARN; GCP crypto key name without
  version + service account email; the ``cmek_component.manifest`` validators). 200 with
  ENABLING everywhere, ENABLED after ``enable_seconds``.
* KMS access (K6): a (uri, auth_principal) pair is refused with 400 ``invalid argument:
  insufficient permissions to access the KMS key '...' as '...'`` until
  ``iam_propagation_seconds`` after the simulator first saw it; ``mark_key_unreachable(uri, "400")``
  refuses it for good, ``mark_key_unreachable(uri, "ENABLE_FAILED")`` lets the request through and
  ends the operation in ENABLE_FAILED (ROTATE_FAILED for a rotation) with ``user_message``.
* Rotate (K12-K15): PUT lists a subset of regions, each already ENABLED (or ROTATE_FAILED).
  New spec: region ROTATING, new key ENABLING, old key DISABLING; after ``rotate_seconds`` the
  new key is ENABLED and the old one DISABLED (kept in ``key_infos``). Same spec: a re-wrap
  (ROTATING -> ENABLED), see ``same_uri_rotation``.
* Revoke (K16-K18): PATCH /cmek ``{"action": "REVOKE"}``: REVOKING, then REVOKED at every level
  after ``revoke_seconds`` (``fail_next_revoke`` -> REVOKE_FAILED). After a revoke, POST, PUT and
  adding regions -> 400 FAILED_PRECONDITION "... contact support ...".
* Busy (K19), aggregation (K20, K21): mutations during a CMEK operation -> ``cmek_busy_status``;
  cluster operation_status CRDB_CMEK_OPERATION_RUNNING while one runs, CRDB_CMEK_OPERATION_FAILED
  after a failure; region_infos sorted by region; cluster status = any failure, else any
  operation in progress, else the common status.
* Keys (K22, K23): key_infos keep created_at/updated_at per key and user_message on failures;
  DISABLING/DISABLED only through ``Simulator.support_disable`` (support action).
* Not modelled: audit log events (K25), Azure clusters, cluster create/delete.
* Time (K24): ``ManualClock`` (tests: ``Simulator.advance``) or ``RealClock`` (standalone);
  operations complete lazily when time has reached their due time.
* Record: ``Simulator.requests`` / ``GET /_simulator/requests``: method, path, query, headers
  (``Authorization: Bearer <redacted>``), parsed body, status, response body, role, fault.

Settings (``SimulatorSettings``; guesses marked G)
==================================================

=================================  ================  ===========================================
setting                            default           meaning
=================================  ================  ===========================================
``enable_seconds``                 30                POST: ENABLING -> ENABLED (0 = by next request)
``rotate_seconds``                 30                PUT: ROTATING -> ENABLED
``revoke_seconds``                 10                REVOKE: REVOKING -> REVOKED
``add_region_seconds``             60                region change: LOCKED -> CREATED, ENABLING -> ENABLED
``disable_seconds``                30                support disable: DISABLING -> DISABLED
``iam_propagation_seconds``        0                 (uri, principal) refused with 400 this long after first seen
``api_keys``                       3 sim-* keys      key -> role (comma-separated roles allowed)
``accepted_cc_versions``           4 known dates     G (older dates): other values -> 400 "invalid Cc-Version."
``rate_limit_per_second``          10                per key; None (flag: 0) disables
``rate_limit_status``              429               G: status of rate-limited answers
``unknown_fields``                 "ignore"          G: "reject" -> 400 ``proto: ... unknown field "x"``
``failed_precondition_status``     400               G: HTTP status of FAILED_PRECONDITION (400 or 412)
``cmek_absent``                    "404"             G: GET /cmek before enable: 404, or "DISABLED" (200, no regions)
``enable_twice_status``            400               G: POST when enabled: 400 code 9, or 409 code 6
``put_when_disabled``              "reject"          G: PUT before enable: 400 code 9, or "enable" (acts as POST)
``cmek_busy_status``               409               G: mutation during a CMEK operation: 409 code 10, 400 code 9, 503 code 14
``lock_cluster_during_cmek``       False             G: cluster LOCKED while a CMEK operation runs
``same_uri_rotation``              "new_key_info"    G: unchanged spec appends a key_info, or "in_place" re-wrap
``revoke_when_absent_status``      404               G: REVOKE before enable: 404 code 5, or 400 code 9
``revoke_twice_status``            400               G: REVOKE when REVOKING/REVOKED: 400 code 9, or 409 code 10
``validate_key_formats``           True              G: URI/principal formats checked (400), or any string accepted
``kms_check_operations``           enable, rotate,   G (rotate, add_region): operations with the synchronous KMS check
                                   add_region
``ineligible_cluster_grpc_code``   9                 G: CMEK on BASIC/STANDARD/PUBLIC: 9 FAILED_PRECONDITION or 3
``add_region_without_cmek_spec``   "reject"          G (C5): new region on a CMEK cluster without a spec -> 400
``cmek_spec_outside_region_nodes`` "reject"          G (C6): spec for a region not in region_nodes -> 400, or "ignore"
``empty_cluster_update``           "reject"          G: PATCH cluster changing nothing -> 400, or "accept"
``min_nodes_per_region``           3                 D: fewer nodes in region_nodes -> 400
``include_is_customer_cloud_account`` False          G: emit the field the spec requires but never defines
=================================  ================  ===========================================
"""

from __future__ import annotations

from . import seeds
from .app import ExchangeObserver, Simulator
from .clock import Clock, ManualClock, RealClock, format_timestamp
from .recorder import RecordedRequest
from .server import SimulatorServer
from .settings import DEVELOPER_API_KEY, OPERATOR_API_KEY, SEED_API_KEY, SimulatorSettings

__all__ = [
    "DEVELOPER_API_KEY",
    "OPERATOR_API_KEY",
    "SEED_API_KEY",
    "Clock",
    "ExchangeObserver",
    "ManualClock",
    "RealClock",
    "RecordedRequest",
    "Simulator",
    "SimulatorServer",
    "SimulatorSettings",
    "format_timestamp",
    "seeds",
]
