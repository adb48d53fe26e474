"""Is this input text something a person wrote? One check for every command that reads texts:
``validate_text`` (model.py) refuses missing, empty, over-long texts and texts that are only
control characters, each with its own code; here it is turned into ``(code, message)``."""
from __future__ import annotations

from .model import ComplaintTextError, has_visible_text, validate_text

__all__ = ["check_text", "has_visible_text"]


def check_text(text) -> tuple[str, str] | None:
    """``(code, message)`` of what is wrong with ``text``, or None when it can be classified."""
    try:
        validate_text(text)
    except ComplaintTextError as exc:
        return exc.code, str(exc)
    return None
