"""Fast stemming with PySastrawi's algorithm and dictionary.

Sastrawi (a port of the PHP library) stems one word at a time through a Context object, ~45
visitor objects and dozens of regex calls; that was by far the slowest step of preprocessing.
``routing_model.text.fast_stem`` re-expresses Sastrawi's algorithm as tables and plain functions
for speed (~40x faster per word); Sastrawi's dictionary is used as-is (the very dictionary of
the Sastrawi stemmer built here). Its output is verified word for word against Sastrawi by
tests (``tests/model/test_fast_stem.py``: the whole vocabulary of the shared data plus a
generated affix stress set; ``tests/model/test_stemming.py``). We also skip dictionary words
(their own stem in Sastrawi) and stem each distinct word once per process. The Sastrawi
object lives only in this module's per-process cache, never on an estimator, so it is never
pickled into a model file; it stays the reference for the tests.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from itertools import islice
from multiprocessing import get_context

# Below this many new words a process pool costs more than it saves. With the fast stemmer
# (~3 µs median per new word) the pool's fork and pickling cost more than the stemming:
# measured on 2 cores, 7.8k new words 0.11 s vs 0.29 s pooled, 113k words 1.2 s vs 1.7 s.
# So the pool is kept only for very large batches on many-core machines.
_PARALLEL_MIN_WORDS = 500_000


@lru_cache(maxsize=1)
def sastrawi_stemmer():
    """The process-wide Sastrawi stemmer (its dictionary takes ~20 ms to build)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    # The factory wraps the real stemmer in a CachedStemmer; we keep our own cache instead.
    return StemmerFactory().create_stemmer().delegatedStemmer


@lru_cache(maxsize=1)
def sastrawi_words() -> frozenset[str]:
    """Sastrawi's dictionary, read by Sastrawi's own loader and kept as ArrayDictionary keeps
    it (every non-blank line), without building a whole Sastrawi stemmer (~2x faster)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return frozenset(w for w in StemmerFactory().get_words() if w and w.strip())


def _sastrawi_stem_word(word: str) -> str:
    return sastrawi_stemmer().stem_word(word)


@lru_cache(maxsize=1)
def fast_stemmer():
    """The process-wide FastStemmer over Sastrawi's dictionary; words it does not handle
    itself go to a real Sastrawi stemmer, built only if one such word turns up."""
    from routing_model.text.fast_stem import FastStemmer

    return FastStemmer(sastrawi_words(), fallback=_sastrawi_stem_word)


# Bound of the word -> stem cache: ~4x the whole vocabulary of the shared data (LAPOR! +
# KAI121, ~25k words), ~15 MB at most. Oldest words go first.
MAX_CACHED_STEMS = 100_000
_CACHE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def stem_cache() -> dict[str, str]:
    """Per-process word -> stem cache shared by every preprocessor in the process, at most
    ``MAX_CACHED_STEMS`` words (insertion order = age)."""
    return {}


def _stem_words(words: list[str]) -> list[str]:
    # FastStemmer.stem_word returns a dictionary word as-is at once (Sastrawi's own first
    # step), except a hyphenated one, which Sastrawi stems as a plural ("ambah-ambah" ->
    # "ambah") even when the dictionary lists it.
    stem_word = fast_stemmer().stem_word
    return [stem_word(w) for w in words]


def _chunks(items: list[str], n: int) -> list[list[str]]:
    size = -(-len(items) // n)
    return [items[i : i + size] for i in range(0, len(items), size)]


def stem_all(words: Iterable[str], n_jobs: int | None = 1) -> dict[str, str]:
    """word -> stem for every word, computing only the ones not in this process's bounded
    cache. The answer is a dict of its own: another thread's eviction cannot empty it."""
    cache = stem_cache()
    wanted = dict.fromkeys(words)
    with _CACHE_LOCK:
        known = {w: s for w in wanted if (s := cache.get(w)) is not None}
    new = [w for w in wanted if w not in known]
    if not new:
        return known
    jobs = (os.cpu_count() or 1) if n_jobs in (None, -1) else max(1, n_jobs)
    if jobs > 1 and len(new) >= _PARALLEL_MIN_WORDS:
        fast_stemmer()  # build before forking so workers inherit it
        with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
            stems = [s for part in pool.map(_stem_words, _chunks(new, jobs)) for s in part]
    else:
        stems = _stem_words(new)
    known.update(zip(new, stems))
    with _CACHE_LOCK:
        _remember(cache, new[-MAX_CACHED_STEMS:], stems[-MAX_CACHED_STEMS:])
    return known


def _remember(cache: dict[str, str], new: list[str], stems: list[str]) -> None:
    """Add ``new`` to the cache, first dropping its oldest words to stay within the bound."""
    excess = len(cache) + len(new) - MAX_CACHED_STEMS
    for w in list(islice(cache, max(0, excess))):
        del cache[w]
    cache.update(zip(new, stems))
