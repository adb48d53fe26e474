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
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2


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


def term_counts(vectorizer: TfidfVectorizer, docs: Sequence[str], dtype=np.float64, chunk: int = 4096) -> sp.csr_matrix:
    """How often each vocabulary term occurs in each document (``CountVectorizer.transform``'s
    numbers), read ``chunk`` documents at a time so that a province's texts never hold more
    than one chunk's occurrences as Python objects. Only for configurations ``_handled``."""
    n_terms, data, indices, indptr = len(vectorizer.vocabulary_), [], [], [np.zeros(1, np.int64)]
    for start in range(0, len(docs), chunk):
        found = list(_row_features(vectorizer, docs[start : start + chunk]))
        lengths = np.fromiter(map(len, found), np.int64, len(found))
        cells = np.fromiter(chain.from_iterable(found), np.int64, int(lengths.sum()))
        cells += np.repeat(np.arange(len(found), dtype=np.int64) * n_terms, lengths)  # row * n_terms + column, sortable
        cells, times = np.unique(cells, return_counts=True)
        rows, cols = np.divmod(cells, n_terms)
        indices.append(cols.astype(np.int32))
        data.append(times.astype(dtype))
        indptr.append(np.cumsum(np.bincount(rows, minlength=len(found))) + indptr[-1][-1])
    if not data:
        return sp.csr_matrix((0, n_terms), dtype=dtype)
    return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), np.concatenate(indptr)), shape=(len(docs), n_terms))


_WEIGH_SLICE = 1 << 22  # occurrences weighed at a time: the idf gathered for them is the only temporary


def weigh_counts(counts: sp.csr_matrix, vectorizer: TfidfVectorizer) -> sp.csr_matrix:
    """``counts`` made into the vectorizer's TF-IDF rows in place (sublinear tf, idf, unit
    rows), in slices so that a matrix of 10^8 occurrences needs no second copy of itself."""
    data, cols = counts.data, counts.indices
    if vectorizer.sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    if vectorizer.use_idf:
        idf = vectorizer.idf_.astype(data.dtype, copy=False)
        for start in range(0, len(data), _WEIGH_SLICE):
            data[start : start + _WEIGH_SLICE] *= idf[cols[start : start + _WEIGH_SLICE]]
    if vectorizer.norm == "l2":
        inplace_csr_row_normalize_l2(counts)
    return counts


def tfidf_transform(vectorizer: TfidfVectorizer, docs: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(docs)``, the same numbers, a fraction of the per-call cost."""
    if not _handled(vectorizer):
        return sp.csr_matrix(vectorizer.transform(docs))
    return weigh_counts(term_counts(vectorizer, docs), vectorizer)


def view_transform(view, texts: Sequence[str]):
    """Transform by one view of the feature union; a pipeline ending in TF-IDF takes the fast path."""
    if isinstance(view, Pipeline):
        last = view.steps[-1][1]
        vectorizer = getattr(last, "vectorizer_", last)  # PrunedTfidf wraps a TfidfVectorizer
        if isinstance(vectorizer, TfidfVectorizer):
            docs = texts
            for _, step in view.steps[:-1]:
                docs = step.transform(docs)
            return tfidf_transform(vectorizer, docs)
    return view.transform(texts)


def linear_scores(model, X) -> np.ndarray:
    """A fitted multi-class linear model's ``decision_function(X)``: ``X @ coef_.T + intercept_``."""
    return np.asarray(X @ model.coef_.T) + model.intercept_
