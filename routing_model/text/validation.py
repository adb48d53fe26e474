"""Is this input text something a person wrote, and can it be routed? One check for every command
that reads texts: ``validate_text`` refuses missing, empty, over-long texts and texts that are only
control characters, each with its own code; ``check_text`` turns that into ``(code, message)``."""

from __future__ import annotations

import unicodedata

from routing_model.errors import DisposisiError
from routing_model.text.tokens import cleaned_tokens

# The one definition of the text limit (service/config.py's DISPOSISI_MAX_TEXT_CHARS default should read it).
MAX_TEXT_CHARS = 20_000
MIN_ROUTABLE_WORDS = 2  # fewer words than this: the suggestion is flagged "too_few_words"

__all__ = [
    "MAX_TEXT_CHARS",
    "MIN_ROUTABLE_WORDS",
    "ComplaintTextError",
    "check_text",
    "has_visible_text",
    "routable_words",
    "validate_text",
]


class ComplaintTextError(DisposisiError, ValueError):
    """A complaint text that cannot be routed at all (empty, too long, not text)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def has_visible_text(text: str) -> bool:
    """True when some character is neither whitespace nor a control/format/unassigned code point
    (a broken export or a binary file read as text brings texts that are only a NUL byte)."""
    return any(not ch.isspace() and unicodedata.category(ch)[0] != "C" for ch in text)


def validate_text(text) -> str:
    """The text as a string, or ComplaintTextError with a stable ``code``."""
    if text is None or (isinstance(text, float) and text != text):  # NaN: pandas' missing cell
        raise ComplaintTextError("empty_text", "complaint text is missing")
    if not isinstance(text, str):
        raise ComplaintTextError("not_text", f"complaint text must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise ComplaintTextError(
            "text_too_long", f"complaint text has {len(text):,} characters; the limit is {MAX_TEXT_CHARS:,}"
        )
    if not text.strip():
        raise ComplaintTextError("empty_text", "complaint text is empty")
    if not has_visible_text(text):
        raise ComplaintTextError(
            "no_visible_text", "complaint text holds only control characters (e.g. NUL) or whitespace"
        )
    return text


def check_text(text) -> tuple[str, str] | None:
    """``(code, message)`` of what is wrong with ``text``, or None when it can be classified."""
    try:
        validate_text(text)
    except ComplaintTextError as exc:
        return exc.code, str(exc)
    return None


def routable_words(text: str) -> int:
    """How many alphabetic words of at least two letters the text has."""
    return sum(1 for t in cleaned_tokens(text) if len(t) >= 2)
