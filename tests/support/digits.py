"""Digits of other scripts, which ``str.isdigit`` and ``\\d`` accept and identifiers must not."""

from __future__ import annotations

_FULL_WIDTH_ZERO = 0xFF10
_ARABIC_INDIC_ZERO = 0x0660


def full_width(text: str) -> str:
    """``text`` with every ASCII digit replaced by its full-width form (U+FF10-U+FF19)."""
    return text.translate({ord("0") + d: _FULL_WIDTH_ZERO + d for d in range(10)})


def arabic_indic(text: str) -> str:
    """``text`` with every ASCII digit replaced by its Arabic-Indic form (U+0660-U+0669)."""
    return text.translate({ord("0") + d: _ARABIC_INDIC_ZERO + d for d in range(10)})
