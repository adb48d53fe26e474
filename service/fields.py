"""Request fields made safe to store: identifiers sanitised, free text masked.

Applied by the API before anything else looks at a feedback, and again by the store (so no
caller can write an unsanitised record). A lone UTF-16 surrogate or a control character in an
identifier is refused (the client gets a 400, nothing is written): silently dropping it could
make two different ids equal. Free text keeps its line breaks and tabs; other control
characters are dropped, personal data is masked, and a confidential record keeps none.
"""

from __future__ import annotations

import unicodedata

from routing_model.errors import DisposisiError
from routing_model.text.cleaning import mask_identifier, mask_personal_data

MAX_ID_CHARS = 200
MAX_NAME_CHARS = 300  # agency names
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})
_TEXT_KEEPS = frozenset("\n\t")


class FieldError(DisposisiError, ValueError):
    """A request field that cannot be stored as it is; ``code`` is the API's error code."""

    def __init__(self, field: str, message: str, code: str = "invalid_characters"):
        super().__init__(f"'{field}' {message}")
        self.field = field
        self.code = code


def has_lone_surrogate(value: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in value)


def identifier(value: str, field: str, max_chars: int = MAX_ID_CHARS) -> str:
    """A stripped, non-empty, bounded identifier without control characters, NIK/phone/e-mail masked."""
    if not isinstance(value, str):
        raise FieldError(field, "must be a string", "invalid_request")
    if any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in value):
        raise FieldError(field, "contains control characters or lone surrogates; send printable text")
    value = value.strip()
    if not value:
        raise FieldError(field, "must not be empty", "invalid_request")
    if len(value) > max_chars:
        raise FieldError(field, f"is longer than {max_chars} characters", "invalid_request")
    return mask_identifier(value)


def free_text(value: str | None, field: str) -> str | None:
    """Free text as it may be stored: control characters (other than line breaks and tabs)
    dropped, personal data masked. A lone surrogate is refused."""
    if value is None:
        return None
    if has_lone_surrogate(value):
        raise FieldError(field, "contains a lone UTF-16 surrogate; send valid Unicode text")
    if not value.isprintable():
        value = "".join(c for c in value if c in _TEXT_KEEPS or unicodedata.category(c) not in _UNSAFE_CATEGORIES)
    return mask_personal_data(value)
