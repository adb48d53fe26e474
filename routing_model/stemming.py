"""A thin, fast wrapper around PySastrawi's stemmer.

Sastrawi (a port of the PHP library) stems one word at a time through dozens of regex rules;
that is by far the slowest step of preprocessing. We build its stemmer once per process,
stem each distinct word once, and spread large batches of new words over worker processes.
The results are Sastrawi's own: ``tests/test_stemming.py`` checks this on the whole
vocabulary of the shared data. The Sastrawi object lives only in this module's per-process
cache, never on an estimator, so it is never pickled into a model file.
"""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from multiprocessing import get_context
from typing import Iterable

# Below this many new words a process pool costs more than it saves.
_PARALLEL_MIN_WORDS = 3000


@lru_cache(maxsize=1)
def sastrawi_stemmer():
    """The process-wide Sastrawi stemmer (its dictionary takes ~20 ms to build)."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    # The factory wraps the real stemmer in a CachedStemmer; we keep our own cache instead.
    return StemmerFactory().create_stemmer().delegatedStemmer


@lru_cache(maxsize=1)
def stem_cache() -> dict[str, str]:
    """Per-process word -> stem cache shared by every preprocessor in the process."""
    return {}


def _stem_words(words: list[str]) -> list[str]:
    stemmer = sastrawi_stemmer()
    dictionary = stemmer.dictionary.words
    # A dictionary word is its own stem in Sastrawi; skip its rule machinery for those.
    return [w if w in dictionary else stemmer.stem_word(w) for w in words]


def _chunks(items: list[str], n: int) -> list[list[str]]:
    size = -(-len(items) // n)
    return [items[i : i + size] for i in range(0, len(items), size)]


def stem_all(words: Iterable[str], n_jobs: int | None = 1) -> dict[str, str]:
    """Return the stem of every word, computing only the ones not seen before in this process."""
    cache = stem_cache()
    new = [w for w in dict.fromkeys(words) if w not in cache]
    if new:
        jobs = (os.cpu_count() or 1) if n_jobs in (None, -1) else max(1, n_jobs)
        if jobs > 1 and len(new) >= _PARALLEL_MIN_WORDS:
            sastrawi_stemmer()  # build before forking so workers inherit it
            with ProcessPoolExecutor(jobs, mp_context=get_context("fork")) as pool:
                stems = [s for part in pool.map(_stem_words, _chunks(new, jobs)) for s in part]
        else:
            stems = _stem_words(new)
        cache.update(zip(new, stems))
    return cache
