"""Memoised cleaning: one complaint is read by several parts of the model (word view,
character view, place finder, agency-name finder, warnings); it is cleaned once for the
character view (``cleaned``) and tokenised once for all the others (``cleaned_tokens``).

The memos are process-wide, so they must not become a store of complaints: they are keyed by
a BLAKE2b digest of the text, never by the text itself, hold only what the masker let through
(the cleaned text, its tokens), and are bounded LRU caches. Pure functions: they change
speed, never results.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from hashlib import blake2b
from typing import Generic, TypeVar

from routing_model.text.cleaning import clean, clean_for_tokens, tokenize

_CACHE_TEXTS = 4096
V = TypeVar("V")


def text_key(text: str) -> bytes:
    """What the memos are keyed by: a 128-bit digest (a collision is not a practical concern)."""
    return blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class DigestMemo(Generic[V]):
    """A bounded, thread-safe LRU memo of ``compute(text)``, keyed by ``text_key(text)``."""

    def __init__(self, compute: Callable[[str], V], maxsize: int = _CACHE_TEXTS):
        self.compute = compute
        self.maxsize = maxsize
        self._items: OrderedDict[bytes, V] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> V:
        key = text_key(text)
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
                return value
        value = self.compute(text)
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def values(self) -> list[V]:
        """A snapshot of what the memo holds (tests check it holds no personal data)."""
        with self._lock:
            return list(self._items.values())

    def keys(self) -> list[bytes]:
        with self._lock:
            return list(self._items)

    def cache_clear(self) -> None:
        with self._lock:
            self._items.clear()


def tokens_of(text: str) -> tuple[str, ...]:
    """``cleaned_tokens`` without the memo: for a batch bigger than the memo, which would only
    churn through it."""
    return tuple(tokenize(clean_for_tokens(text)))


cleaned: DigestMemo[str] = DigestMemo(clean)
cleaned_tokens: DigestMemo[tuple[str, ...]] = DigestMemo(tokens_of)
MEMO_BATCH = _CACHE_TEXTS // 4  # batches up to this many texts go through the memo
