"""Fingerprints of training rows: which complaints a model has seen, without keeping their text.

The promotion gate must compare champion and challenger only on complaints neither trained on
(a model scored on its own training rows looks better than it is). A model's card therefore
records the set of its training rows as fingerprints: sha256 of the masked, normalised text
(``routing_model.text.cleaning.clean``, whitespace collapsed), truncated to 16 hex characters (64 bits:
no accidental collision among millions of rows; no way back to the text). Stored packed,
sorted and concatenated, so 10,000 rows cost 160 KB of card.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from routing_model.text.cleaning import clean

HEX_CHARS = 16
METHOD = f"sha256(clean(text), whitespace collapsed)[:{HEX_CHARS}]"


def fingerprint(text: str) -> str:
    """The fingerprint of one complaint text (the same for texts that differ only in case, spacing or personal data)."""
    normalised = " ".join(clean(str(text)).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:HEX_CHARS]


def fingerprints(texts: Iterable[str]) -> list[str]:
    """Fingerprints in the order of ``texts`` (non-strings, such as missing cells, are skipped)."""
    return [fingerprint(t) for t in texts if isinstance(t, str)]


def pack(prints: Iterable[str]) -> dict:
    """A card block for a set of fingerprints: method, count and the sorted prints concatenated."""
    unique = sorted(set(prints))
    return {"method": METHOD, "n": len(unique), "hex": "".join(unique)}


def split(concatenated: str) -> list[str]:
    """Concatenated fingerprints back into a list (order kept)."""
    if not isinstance(concatenated, str) or len(concatenated) % HEX_CHARS:
        raise ValueError("fingerprints must be a string of 16-hex-character blocks")
    return [concatenated[i : i + HEX_CHARS] for i in range(0, len(concatenated), HEX_CHARS)]


def unpack(block: dict | None) -> set[str] | None:
    """The set recorded by ``pack``; None when there is no (usable) block."""
    if not isinstance(block, dict) or block.get("method") != METHOD:
        return None
    try:
        return set(split(block.get("hex", "")))
    except ValueError:
        return None
