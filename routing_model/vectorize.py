"""Prediction-time TF-IDF and linear scores from fitted scikit-learn objects, without the
per-call overhead.

For one complaint, scikit-learn's ``TfidfVectorizer.transform`` spends more time validating
input and building intermediate matrices than counting, and its ``char_wb`` analyzer builds
every character n-gram of every word of every text again. These functions compute the same
numbers from the fitted attributes (``vocabulary_``, ``idf_``, ``coef_``): counts per
distinct word, each word's n-grams built once per process. ``tests/model/test_vectorize.py``
compares them with scikit-learn's own ``transform`` on the shared data. Any configuration
not handled here falls back to scikit-learn.
"""
from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline


@lru_cache(maxsize=100_000)
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


def _handled(vectorizer: TfidfVectorizer) -> bool:
    return (
        isinstance(vectorizer, TfidfVectorizer)
        and vectorizer.norm in ("l2", None)
        and not vectorizer.binary
        and vectorizer.dtype in (np.float64, float)
        and vectorizer.input == "content"
        and vectorizer.analyzer in ("word", "char_wb")
    )


def _row_counts(vectorizer: TfidfVectorizer, docs: Sequence[str]):
    """Per document: {feature index: count} over the fitted vocabulary."""
    vocabulary = vectorizer.vocabulary_
    if vectorizer.analyzer == "char_wb":
        preprocess = vectorizer.build_preprocessor()
        min_n, max_n = vectorizer.ngram_range
        for doc in docs:
            counts: dict[int, int] = {}
            for word, times in Counter(preprocess(doc).split()).items():
                for gram in char_wb_grams(word, min_n, max_n):
                    j = vocabulary.get(gram)
                    if j is not None:
                        counts[j] = counts.get(j, 0) + times
            yield counts
    else:
        analyze = vectorizer.build_analyzer()
        for doc in docs:
            yield {vocabulary[f]: n for f, n in Counter(analyze(doc)).items() if f in vocabulary}


def tfidf_transform(vectorizer: TfidfVectorizer, docs: Sequence[str]) -> sp.csr_matrix:
    """``vectorizer.transform(docs)``, the same numbers, a fraction of the per-call cost."""
    if not _handled(vectorizer):
        return sp.csr_matrix(vectorizer.transform(docs))
    indptr, indices, values = [0], [], []
    for counts in _row_counts(vectorizer, docs):
        for j in sorted(counts):
            indices.append(j)
            values.append(counts[j])
        indptr.append(len(indices))
    data = np.asarray(values, dtype=np.float64)
    cols = np.asarray(indices, dtype=np.int32)
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
