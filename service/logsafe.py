"""Request data in log lines: always escaped, bounded and masked.

A value from a request is logged as ``repr`` of its masked, shortened form: CR, LF and every
other control or invisible character become escapes (``\\r``, ``\\x00``, ``\\u202e``), so a
client can never start a new log line or hide text in one.
"""

from __future__ import annotations

from routing_model.text.cleaning import mask_identifier

MAX_LOGGED_CHARS = 120


def escaped(value: object, limit: int = MAX_LOGGED_CHARS) -> str:
    """``value`` for a log line: masked, cut to ``limit`` characters, repr-escaped (quoted)."""
    text = value if isinstance(value, str) else str(value)
    cut = len(text) > limit
    text = mask_identifier(text[:limit])
    return repr(text) + ("…" if cut else "")
