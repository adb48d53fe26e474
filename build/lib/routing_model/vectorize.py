"""Prediction-time TF-IDF and linear scores from fitted scikit-learn objects, without the
per-call overhead.

For one complaint, scikit-learn's ``TfidfVectorizer.transform`` spends more time validating
input and building intermediate matrices than counting, and its ``char_wb`` analyzer builds
every character n-gram of every word of every text again. These functions compute the same
numbers from the fitted attributes (``vocabulary_``, ``idf_``, ``coef_``), with each word's
``char_wb`` features looked up once per vectorizer. ``tests/model/test_inference_paths.py``
compares them with scikit-learn's own ``transform`` on the shared data. Any configuration
not handled here falls back to scikit-learn.
"""
from __future__ import annotations

import weakref
from functools import lru_cache
from itertools import chain
from typing import Callable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline


def char_wb_grams(word: str, min_n: int, max_n: int) -> tuple[str, ...]:
    """The ``char_wb`` n-grams of one word, as scikit-learn's ``_char_wb_ngrams`` emits them:
    the word padded with a space each side; a padded word no longer than n counts once."""
    padded = f" {word} "
    size = len(padded)
    out: list[str] = []
    for n in range(min_n, max_n + 1):
        if size <= n:
            out.append(padded)
            break
        out.extend(padded[i : i + n] for i in range(size - n + 1))
    return tuple(out)


_WORD_CACHE = 50_000  # distinct words per vectorizer; ~1 KB each
_word_features: "weakref.WeakKeyDictionary[TfidfVectorizer, tuple[dict, Callable]]" = weakref.WeakKeyDictionary()


def word_features(vectorizer: TfidfVectorizer) -> Callable[[str], tuple[int, ...]]:
    """word -> the vocabulary indices of its ``char_wb`` n-grams, memoised per fitted vectorizer
    (a complaint repeats its words, and complaints share most of theirs). A refit vectorizer has
    a new ``vocabulary_`` and gets a new memo."""
    entry = _word_features.get(vectorizer)
    if entry is None or entry[0] is not vectorizer.vocabulary_:
        vocabulary = vectorizer.vocabulary_
        min_n, max_n = vectorizer.ngram_range

        @lru_cache(maxsize=_WORD_CACHE)
        def features(word: str) -> tuple[int, ...]:
            return tuple(j for j in map(vocabulary.get, char_wb_grams(word, min_n, max_n)) if j is not None)

        entry = _word_features[vectorizer] = (vocabulary, features)
    return entry[1]


def _handled(vectorizer: TfidfVectorizer) -> bool:
    return (
        isinstance(vectorizer, TfidfVectorizer)
        and vectorizer.norm in ("l2", None)
        and not vectorizer.binary
        and vectorizer.dtype in (np.float64, float)
        and vectorizer.input == "content"
        and vectorizer.analyzer in ("word", "char_wb")
    )


def _row_features(vectorizer: TfidfVectorizer, docs: Sequence[str]) -> Iterator[list[int]]:
    """Per document: the vocabulary index of every feature occurrence."""
    if vectorizer.analyzer == "char_wb":
        preprocess = vectorizer.build_preprocessor()
        features = word_features(vectorizer)
        for doc in docs:
            yield list(chain.from_iterable(map(features, preprocess(doc).split())))
    else:
        analyze, vocabulary = vectorizer.build_analyzer(), vectorizer.vocabulary_
        for doc in docs:
            yield [vocabulary[f] for f in analyze(doc) if f in vocabulary]


def tfidf_transform(vectorizer: TfidfVectorizer, docs: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(docs)``, the same numbers, a fraction of the per-call cost."""
    if not _handled(vectorizer):
        return sp.csr_matrix(vectorizer.transform(docs))
    indptr, indices, counts = [0], [], []
    for found in _row_features(vectorizer, docs):
        cols, times = np.unique(np.asarray(found, dtype=np.int64), return_counts=True)
        indices.append(cols)
        counts.append(times)
        indptr.append(indptr[-1] + len(cols))
    cols = np.concatenate(indices).astype(np.int32) if indices else np.zeros(0, np.int32)
    data = np.concatenate(counts).astype(np.float64) if counts else np.zeros(0)
    if vectorizer.sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    if vectorizer.use_idf:
        data *= vectorizer.idf_[cols]
    if vectorizer.norm == "l2":
        rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(indptr) - 1))
        norms[norms == 0.0] = 1.0
        data /= norms[rows]
    shape = (len(indptr) - 1, len(vectorizer.vocabulary_))
    return sp.csr_matrix((data, cols, np.asarray(indptr, dtype=np.int32)), shape=shape)


def view_transform(view, texts: Sequence[str]):
    """Transform by one view of the feature union; a pipeline ending in TF-IDF takes the fast path."""
    if isinstance(view, Pipeline) and isinstance(view.steps[-1][1], TfidfVectorizer):
        docs = texts
        for _, step in view.steps[:-1]:
            docs = step.transform(docs)
        return tfidf_transform(view.steps[-1][1], docs)
    return view.transform(texts)


def linear_scores(model, X) -> np.ndarray:
    """A fitted multi-class linear model's ``decision_function(X)``: ``X @ coef_.T + intercept_``."""
    return np.asarray(X @ model.coef_.T) + model.intercept_
