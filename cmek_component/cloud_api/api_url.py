"""The CockroachDB Cloud API base URL: what ``cockroach:apiUrl`` and ``COCKROACH_SERVER`` may be.

Valid: ``https://<host>[:<port>][/<path>]``. Plain ``http://`` is accepted only for a loopback
host (``localhost``, ``127.0.0.0/8``, ``::1``), such as the local simulator: anywhere else the
API key, sent in the ``Authorization`` header of every request, would cross the network
unencrypted. Both the stack configuration check and ``CloudApiClient`` apply these rules.

Pure logic: no network, no Pulumi.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

__all__ = ["api_url_problem", "is_loopback_host"]

_URL_SHAPE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/]+(?:/\S*)?", re.ASCII)
SHAPE_RULE = "expected an http(s) URL such as 'https://cockroachlabs.cloud'"
INSECURE_RULE = (
    "expected an https:// URL: plain http:// would send the CockroachDB Cloud API key unencrypted "
    "(http:// is allowed only for a loopback host such as 127.0.0.1 or localhost, e.g. the local simulator)"
)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` (any case) and loopback IP addresses (``127.0.0.0/8``, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_url_problem(url: object) -> str | None:
    """``None`` when ``url`` may be the API base URL; otherwise the rule it breaks, in words
    (``SHAPE_RULE`` or ``INSECURE_RULE``; the caller names the field and the value)."""
    if not isinstance(url, str) or not _URL_SHAPE.fullmatch(url):
        return SHAPE_RULE
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return SHAPE_RULE
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in ("http", "https") or not host or parts.username is not None:
        return SHAPE_RULE
    if scheme == "http" and not is_loopback_host(host):
        return INSECURE_RULE
    return None
