"""The HTTP layer under ``CloudApiClient``: bounded answers.

- ``read_body``: the body of an answer, at most ``max_bytes`` as sent and as decoded (gzip,
  deflate ...), read in chunks so a small compressed answer cannot expand in memory; a
  ``Content-Length`` above the limit is refused before reading.
- ``parse_json``: JSON, or the text when the body is not JSON; nesting deeper than
  ``max_depth`` is refused (also where ``json`` would raise ``RecursionError``).

``BodyTooLarge`` and ``BodyTooDeep`` carry a message for the user; the client turns them into
a ``CloudApiError``. No Pulumi here.
"""

from __future__ import annotations

import json
from typing import Any

import requests

__all__ = [
    "BodyError",
    "BodyTooDeep",
    "BodyTooLarge",
    "parse_json",
    "read_body",
]

READ_CHUNK_BYTES = 64 * 1024
"""Decoded bytes asked for per read; urllib3 (2.6 and later) decompresses only about that much
per read, so the size check runs before a compressed answer can grow in memory."""


class BodyError(Exception):
    """An answer the client will not take in; the message says why (no server text in it)."""


class BodyTooLarge(BodyError):
    """More than the allowed bytes, as sent or as decoded."""


class BodyTooDeep(BodyError):
    """JSON nested deeper than allowed."""


def _declared_length(response: requests.Response) -> int | None:
    value = (response.headers.get("Content-Length") or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def read_body(response: requests.Response, max_bytes: int) -> bytes:
    """The whole body of a streamed ``response``, decoded (``Content-Encoding``), or
    ``BodyTooLarge`` when it declares, sends or decodes to more than ``max_bytes``."""
    declared = _declared_length(response)
    if declared is not None and declared > max_bytes:
        raise BodyTooLarge(f"the answer declares {declared} bytes, more than the limit of {max_bytes} (max_response_bytes)")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(READ_CHUNK_BYTES):
        size += len(chunk)
        sent = response.raw.tell() if response.raw is not None else 0
        if size > max_bytes or sent > max_bytes:
            how = "decodes to" if size > max_bytes else "sends"
            raise BodyTooLarge(f"the answer {how} more than the limit of {max_bytes} bytes (max_response_bytes)")
        chunks.append(chunk)
    return b"".join(chunks)


def _nesting_exceeds(value: object, max_depth: int) -> bool:
    """True when objects/arrays in ``value`` nest more than ``max_depth`` levels (iterative)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def parse_json(body: bytes, max_depth: int) -> object:
    """The JSON value of ``body``; its text when it is not JSON (an HTML error page, or numbers
    Python will not parse); ``None`` when empty. ``BodyTooDeep`` beyond ``max_depth`` levels."""
    if not body:
        return None
    try:
        value = json.loads(body)
    except RecursionError:
        raise BodyTooDeep(f"the answer's JSON is nested deeper than {max_depth} levels") from None
    except ValueError:
        return body.decode("utf-8", "replace")
    if _nesting_exceeds(value, max_depth):
        raise BodyTooDeep(f"the answer's JSON is nested deeper than {max_depth} levels")
    return value
