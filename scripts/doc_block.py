"""A generated block of a documentation page between two marker lines: read it, or put a new one in.

Shared by the reference generators (``gen_config_reference.py`` writes ``docs/configuration.md``,
``gen_schema_reference.py`` writes ``docs/schema.md``); each names its own page and markers.
Everything outside the markers is left alone.
"""

from __future__ import annotations


def committed_block(page: str, begin: str, end: str) -> str:
    """The block currently in ``page`` (between ``begin`` and ``end``), or ``""``."""
    if begin not in page or end not in page:
        return ""
    return page.split(begin, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def splice(page: str, block: str, begin: str, end: str, name: str = "the page") -> str:
    """``page`` with its block replaced by ``block``; ``SystemExit`` (naming ``name``) when a
    marker is missing."""
    if begin not in page or end not in page:
        raise SystemExit(f"{name} has no {begin!r} ... {end!r} markers")
    head, rest = page.split(begin, 1)
    tail = rest.split(end, 1)[1]
    return f"{head}{begin}\n{block}{end}{tail}"
