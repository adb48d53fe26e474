"""Is this input text something a person wrote? One check for every command that reads texts.

``validate_text`` (model.py) refuses missing, empty and over-long texts; files and terminals
also bring texts that are only a NUL byte or control characters (a broken export, a binary
file read as text). Those have nothing to route and are rejected here with their own code,
instead of being classified.
"""
from __future__ import annotations

import unicodedata

from .model import ComplaintTextError, validate_text


def has_visible_text(text: str) -> bool:
    """True when some character is neither whitespace nor a control/format/unassigned code point."""
    return any(not ch.isspace() and unicodedata.category(ch)[0] != "C" for ch in text)


def check_text(text) -> tuple[str, str] | None:
    """``(code, message)`` of what is wrong with ``text``, or None when it can be classified."""
    try:
        validate_text(text)
    except ComplaintTextError as exc:
        return exc.code, str(exc)
    if not has_visible_text(text):
        return "no_visible_text", "complaint text holds only control characters (e.g. NUL) or whitespace"
    return None
