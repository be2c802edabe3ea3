"""moto in server mode on 127.0.0.1 for the AWS stand-in, with AWS's rules and its state kept.

Run as ``python -m cmek_component.rehearsal.standins.moto_server --journal <file>``: the first
line on stdout is the URL (``http://127.0.0.1:<port>``); SIGTERM stops it. The harness
(:func:`cmek_component.rehearsal.standins.harness.standin_backends`) starts and stops it.

moto keeps its world in memory only, and each CLI command of a stack starts a fresh provider
process, so the server, not the provider, keeps the state across stops and starts: every
mutating request moto answered with 2xx is appended to the journal (method, path, the headers
that route it, body) and replayed into the fresh moto at the next start, with moto's random
generator seeded by the request's position, so the same key ids, role ids and ARNs come back.
Mutating requests are served one at a time for that reason.

Before moto sees a request, the server applies AWS's rules moto lacks
(:mod:`.moto_fixes`): trust policies checked on ``CreateRole`` (``MalformedPolicyDocument``),
key policies checked for JSON and KMS's lockout safety check on ``CreateKey``, ``PutKeyPolicy``
and ``ReplicateKey`` (``MalformedPolicyDocumentException``); after ``ReplicateKey`` the replica
gets the requested policy and description; key ids have AWS's format (``mrk-`` + 32 hex digits).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from moto.moto_api._internal import mock_random
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from ..calls import Journal, is_mutating_aws
from .moto_fixes import fix_replica, install_key_id_format, key_policy_problem, trust_policy_problem

ROUTING_HEADERS = ("Authorization", "X-Amz-Target", "Content-Type", "Host", "X-Amz-Date")
"""The request headers moto routes by (service and region come from the credential scope)."""
KMS_POLICY_OPERATIONS = ("CreateKey", "PutKeyPolicy", "ReplicateKey")

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def operation_of(environ: Mapping[str, Any], body: bytes) -> str:
    """The AWS operation of a request: ``X-Amz-Target`` (JSON protocols) or ``Action`` (query)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    if target:
        return target.rsplit(".", 1)[-1]
    query = parse_qs(str(environ.get("QUERY_STRING") or ""))
    form = parse_qs(body.decode("utf-8", "replace")) if body else {}
    return (form.get("Action") or query.get("Action") or [""])[0]


def _iam_error(code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{_xml_escape(message)}</Message></Error>"
        "<RequestId>standin</RequestId></ErrorResponse>"
    )
    return "400 Bad Request", [("Content-Type", "text/xml")], body.encode()


def _kms_error(code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return "400 Bad Request", [("Content-Type", "application/x-amz-json-1.1")], body


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def refusal(operation: str, body: bytes) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """AWS's answer to a request moto would accept but AWS refuses, or ``None``."""
    if operation == "CreateRole":
        form = parse_qs(body.decode("utf-8", "replace"))
        documents = form.get("AssumeRolePolicyDocument") or []
        document = documents[0] if documents else None
        problem = trust_policy_problem(document)
        return _iam_error("MalformedPolicyDocument", problem) if problem else None
    if operation in KMS_POLICY_OPERATIONS:
        params = json.loads(body or b"{}")
        if "Policy" not in params:
            return None
        problem = key_policy_problem(params["Policy"], bool(params.get("BypassPolicyLockoutSafetyCheck")))
        return _kms_error("MalformedPolicyDocumentException", problem) if problem else None
    return None


class JournaledMoto:
    """moto's WSGI app with AWS's rules in front and a journal of the mutating requests behind."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.inner = DomainDispatcherApplication(create_backend_app)
        self.lock = threading.Lock()

    def replay(self) -> None:
        """Every journaled request again, in order and seeded as first served."""
        for sequence, entry in enumerate(self.journal, start=1):
            builder = EnvironBuilder(
                method=entry["method"], path=entry["path"], query_string=entry.get("query") or None,
                headers=entry["headers"], data=entry["body"].encode(),
            )
            status, _, _ = self._serve(builder.get_environ(), entry["body"].encode(), entry["operation"], sequence)
            if not status.startswith("2"):
                raise SystemExit(
                    f"{self.journal.path}: replaying {entry['operation']} gave {status}; the journal no longer "
                    "matches moto: delete it to start over"
                )

    def _serve(
        self, environ: Environ, body: bytes, operation: str, sequence: int
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """One mutating request to moto, seeded by its journal position: status, headers, body."""
        mock_random.seed(int(hashlib.sha256(f"aws-call-{sequence}".encode()).hexdigest()[:12], 16))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        answer: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            answer["status"], answer["headers"] = status, headers
            return lambda _data: None

        chunks: Iterable[bytes] = self.inner(environ, start)
        payload = b"".join(chunks)
        status = str(answer.get("status", "500"))
        if status.startswith("2") and operation == "ReplicateKey":
            fix_replica(json.loads(body), json.loads(payload))
        return status, list(answer.get("headers", [])), payload

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        operation = operation_of(environ, body)
        if not is_mutating_aws(operation):
            environ["wsgi.input"] = io.BytesIO(body)
            answer: Iterable[bytes] = self.inner(environ, start_response)
            return answer
        refused = refusal(operation, body)
        if refused is not None:
            status, headers, payload = refused
            start_response(status, headers)
            return [payload]
        with self.lock:
            routing = {name: str(environ[key]) for name in ROUTING_HEADERS
                       if (key := "HTTP_" + name.upper().replace("-", "_")) in environ}
            if "CONTENT_TYPE" in environ:
                routing["Content-Type"] = str(environ["CONTENT_TYPE"])
            status, response_headers, payload = self._serve(environ, body, operation, len(self.journal) + 1)
            if status.startswith("2"):
                self.journal.append({
                    "operation": operation, "method": environ["REQUEST_METHOD"], "path": environ.get("PATH_INFO", "/"),
                    "query": environ.get("QUERY_STRING", ""), "headers": routing, "body": body.decode("utf-8"),
                })
        start_response(status, response_headers)
        return [payload]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="moto on 127.0.0.1 for the AWS stand-in provider")
    parser.add_argument("--journal", type=Path, required=True, help="replay journal (created if missing)")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    install_key_id_format()
    app = JournaledMoto(Journal.load(options.journal))
    app.replay()
    server = make_server("127.0.0.1", options.port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    sys.stdout.write(f"http://127.0.0.1:{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
