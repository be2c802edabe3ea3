"""GET /api/v1/clusters: the query parameters (show_inactive, pagination) and the page they select.

Query integers and page tokens are ASCII digits only; a malformed value is a 400 naming the
parameter, cut to 40 characters when it is long.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import invalid_argument
from .model import ClusterRecord


def list_clusters(
    clusters: Iterable[ClusterRecord], query: Mapping[str, str], render: Callable[[ClusterRecord], dict[str, Any]]
) -> dict[str, Any]:
    """``ListClustersResponse``: sorted by name unless ``pagination.sort_by`` says otherwise."""
    show_inactive = _query_bool(query, "show_inactive")
    limit = _query_int(query, "pagination.limit")
    page = query.get("pagination.page", "")
    sort_by = query.get("pagination.sort_by", "NAME")
    order = query.get("pagination.sort_order", "ASC")
    if sort_by not in ("NAME", "CREATED_AT", "DELETED_AT"):
        raise invalid_argument(f"pagination.sort_by: expected NAME, CREATED_AT or DELETED_AT, got '{sort_by}'")
    if order not in ("ASC", "DESC"):
        raise invalid_argument(f"pagination.sort_order: expected ASC or DESC, got '{order}'")
    listed = [c for c in clusters if show_inactive or c.state not in ("DELETED", "CREATION_FAILED")]
    listed.sort(key=(lambda c: c.name) if sort_by == "NAME" else (lambda c: (c.created_at, c.name)),
                reverse=order == "DESC")
    start = 0
    if page:
        if not _ASCII_DIGITS.fullmatch(page):
            raise invalid_argument(f"pagination.page: expected a page token from next_page, got '{_shown(page)}'")
        start = int(page)
    end = len(listed) if not limit else start + limit
    body: dict[str, Any] = {"clusters": [render(c) for c in listed[start:end]], "pagination": {}}
    if end < len(listed):
        body["pagination"]["next_page"] = str(end)
    if start > 0:
        body["pagination"]["previous_page"] = str(max(0, start - (limit or start)))
    return body


def _query_bool(query: Mapping[str, str], name: str) -> bool:
    value = query.get(name, "false").lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise invalid_argument(f"{name}: expected true or false, got '{value}'")


def _query_int(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    assert value is not None
    if not _ASCII_DIGITS.fullmatch(value):
        raise invalid_argument(f"{name}: expected an integer >= 0 (ASCII digits), got '{_shown(value)}'")
    return int(value)


_ASCII_DIGITS = re.compile(r"[0-9]{1,18}")
"""Query integers and page tokens: ASCII digits only (``str.isdigit`` and ``int`` also take
``²``, ``١٢`` or ``1_0``), and few enough that ``int`` never refuses them."""


def _shown(value: str, limit: int = 40) -> str:
    """A query value for an error message, cut to ``limit`` characters."""
    return value if len(value) <= limit else value[:limit] + f"... ({len(value)} characters)"
