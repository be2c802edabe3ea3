"""The rehearsal's one error type."""

from __future__ import annotations


class RehearsalError(Exception):
    """A rehearsal step that failed as the real deployment would (a refused API call, an invalid
    name) or a rehearsal that cannot run (a missing file); the message says which and why."""
