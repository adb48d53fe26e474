"""Memoised cleaning: one complaint is read by several parts of the model (word view,
character view, place finder, agency-name finder, warnings); it is cleaned once for the
character view (``cleaned``) and tokenised once for all the others (``cleaned_tokens``).

Bounded LRU caches of pure functions: they change speed, never results.
"""
from __future__ import annotations

from functools import lru_cache

from .text import clean, clean_for_tokens, tokenize

_CACHE_TEXTS = 4096


@lru_cache(maxsize=_CACHE_TEXTS)
def cleaned(text: str) -> str:
    return clean(text)


@lru_cache(maxsize=_CACHE_TEXTS)
def cleaned_tokens(text: str) -> tuple[str, ...]:
    return tuple(tokenize(clean_for_tokens(text)))
