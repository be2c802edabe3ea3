"""A generated block of README.md between two marker lines: read it, or put a new one in.

Shared by the reference generators (``gen_config_reference.py``, ``gen_schema_reference.py``);
each names its own markers. Everything outside the markers is left alone.
"""

from __future__ import annotations


def committed_block(readme: str, begin: str, end: str) -> str:
    """The block currently in ``readme`` (between ``begin`` and ``end``), or ``""``."""
    if begin not in readme or end not in readme:
        return ""
    return readme.split(begin, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def splice(readme: str, block: str, begin: str, end: str) -> str:
    """``readme`` with its block replaced by ``block``; ``SystemExit`` when a marker is missing."""
    if begin not in readme or end not in readme:
        raise SystemExit(f"README.md has no {begin!r} ... {end!r} markers")
    head, rest = readme.split(begin, 1)
    tail = rest.split(end, 1)[1]
    return f"{head}{begin}\n{block}{end}{tail}"
