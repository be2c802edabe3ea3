"""Whether CockroachDB Cloud can use a customer key: IAM propagation and unreachable keys.

* IAM propagation (contract K6): a (key uri, auth_principal) pair is refused with 400
  "insufficient permissions to access the KMS key ..." until ``iam_propagation_seconds`` after
  the simulator first saw that pair in a request.
* ``mark_unreachable(uri, "400")``: every request naming the key is refused the same way.
* ``mark_unreachable(uri, "ENABLE_FAILED")``: requests are accepted, and the asynchronous
  operation ends in ENABLE_FAILED (ROTATE_FAILED for a rotation) with a ``user_message``.
"""

from __future__ import annotations

from typing import Literal

UnreachableMode = Literal["400", "ENABLE_FAILED"]
UNREACHABLE_MODES = ("400", "ENABLE_FAILED")


class KmsAccess:
    """Simulated KMS reachability. Not thread-safe on its own: the simulator's lock guards it."""

    def __init__(self) -> None:
        self.first_seen: dict[tuple[str, str], float] = {}
        self.unreachable: dict[str, UnreachableMode] = {}

    def mark_unreachable(self, uri: str, mode: UnreachableMode) -> None:
        if mode not in UNREACHABLE_MODES:
            raise ValueError(f"mode: expected one of {', '.join(UNREACHABLE_MODES)}, got {mode!r}")
        self.unreachable[uri] = mode

    def mark_reachable(self, uri: str) -> None:
        self.unreachable.pop(uri, None)

    def synchronous_refusal(self, uri: str, principal: str, now: float, propagation_seconds: float) -> str | None:
        """The 400 detail when the key cannot be used right now, else None."""
        first = self.first_seen.setdefault((uri, principal), now)
        if self.unreachable.get(uri) == "400":
            return _insufficient(uri, principal, "the key policy or IAM grants do not allow this principal")
        if now < first + propagation_seconds:
            return _insufficient(
                uri, principal, "IAM changes can take a few minutes to propagate; retry shortly"
            )
        return None

    def asynchronous_failure(self, uri: str, principal: str) -> str | None:
        """The ``user_message`` when an accepted operation on this key fails later, else None."""
        if self.unreachable.get(uri) != "ENABLE_FAILED":
            return None
        return (
            f"CockroachDB Cloud could not use the KMS key {uri} as {principal}: access denied. "
            "Check the key policy (or the Encrypter/Decrypter grant), the role trust or service account "
            "impersonation grant, and that the key is enabled, then retry."
        )


def _insufficient(uri: str, principal: str, reason: str) -> str:
    return f"insufficient permissions to access the KMS key '{uri}' as '{principal}': {reason}"
