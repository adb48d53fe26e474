"""Split a complaint text into (segment, highlighted) pairs, so templates never need ``|safe``.

A word is highlighted when its cleaned form is one of the words in the model's ``reasons`` (which
are cleaned words and phrases, e.g. "ektp", "rusak parah").
"""

from __future__ import annotations

import re

from routing_model.text.cleaning import clean

_WORD = re.compile(r"[\w-]+", re.UNICODE)


def reason_words(reasons: list[str]) -> set[str]:
    return {w for r in reasons for w in str(r).split() if len(w) >= 2}


def segments(text: str, reasons: list[str]) -> list[tuple[str, bool]]:
    words = reason_words(reasons)
    if not text:
        return []
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _WORD.finditer(text):
        key = clean(m.group(0)).strip().replace(" ", "")
        if key in words:
            if m.start() > pos:
                out.append((text[pos : m.start()], False))
            out.append((m.group(0), True))
            pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out
