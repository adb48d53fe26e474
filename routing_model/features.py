"""Feature extraction: words (stemmed), character n-grams (typos, glued words) and place mentions.

The vocabularies are pruned before anything is fitted on them, because a model file is shared
and kept: a word or character n-gram enters only if at least ``min_df`` complaints use it or a
registry/function document (public text written by the team or the admins) does, and never if
it contains a digit. A name or a number that one citizen wrote cannot end up in a model file.
The vocabulary is chosen on at most ``max_vocab_docs`` complaints, so memory stays flat at the
scale of a province.
"""
from __future__ import annotations

import copy
import re

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from .preprocess import ComplaintPreprocessor
from .tokens import cleaned

WORDS = "words"
_DIGIT = re.compile(r"\d")


def clean_all(texts) -> list[str]:
    """Cleaned (masked, lower-cased) texts for the character n-gram view."""
    return [cleaned("" if t is None else str(t)) for t in texts]


class PlaceMentionFeatures(TransformerMixin, BaseEstimator):
    """Two columns: does the text name a kecamatan, does it name a desa/kelurahan of the region.

    Admins send place-bound complaints to the local office; whether a place is named at all is a
    signal the topic words cannot carry.
    """

    def __init__(self, place_index=None, scale: float = 1.0):
        self.place_index = place_index
        self.scale = scale

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        index = self.place_index
        return self.from_matches([index.find(text) if index is not None else [] for text in X])

    def from_matches(self, places: list[list]) -> sp.csr_matrix:
        """The two columns from place matches already found (``PlaceIndex.find`` per text)."""
        rows = []
        for matches in places:
            best = matches[0].score if matches else 0.0
            rows.append((self.scale * (best >= 2.0), self.scale * (0 < best < 2.0)))
        return sp.csr_matrix(np.asarray(rows, dtype=float).reshape(-1, 2))

    def get_feature_names_out(self, input_features=None):
        return np.array(["place__kecamatan_named", "place__desa_named"], dtype=object)


def _analysis(analyzer: str) -> dict:
    """How a view cuts text into terms: stemmed words as they come, or char_wb n-grams."""
    if analyzer == "word":
        return {"token_pattern": r"\S+", "lowercase": False}
    return {"analyzer": "char_wb"}


def shared_vocabulary(
    analyzer: str, ngram_range: tuple[int, int], complaints: list[str], documents: list[str], min_df: int,
    max_features: int | None, max_docs: int, seed: int = 0,
) -> tuple[list[str], sp.csr_matrix | None]:
    """Terms used by at least ``min_df`` complaints or by any document, without digits; the
    ``max_features`` most frequent (document terms first) when there are more. Also the counts
    of those terms in ``complaints + documents`` when every complaint was read (no sample), so
    the caller need not analyse the texts again."""
    sampled = len(complaints) > max_docs
    if sampled:
        pick = np.random.default_rng(seed).choice(len(complaints), size=max_docs, replace=False)
        complaints = [complaints[i] for i in np.sort(pick)]
    counter = CountVectorizer(ngram_range=ngram_range, **_analysis(analyzer))
    counts = counter.fit_transform(complaints + documents)
    terms = counter.get_feature_names_out()
    del counter  # it knows every rare n-gram; it never leaves this function
    n = len(complaints)
    in_complaints = np.asarray((counts[:n] > 0).sum(axis=0)).ravel()
    in_documents = np.asarray((counts[n:] > 0).sum(axis=0)).ravel()
    keep = ((in_complaints >= min_df) | (in_documents > 0)) & np.array([_DIGIT.search(t) is None for t in terms], dtype=bool)
    idx = np.flatnonzero(keep)
    if max_features is not None and len(idx) > max_features:
        total = np.asarray(counts.sum(axis=0)).ravel()[idx] + 1e9 * (in_documents[idx] > 0)
        idx = np.sort(idx[np.argsort(-total, kind="stable")[:max_features]])
    return [str(terms[i]) for i in idx], (None if sampled else counts[:, idx].tocsr())


class PrunedTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF over a vocabulary no single complaint can add to (see the module docstring).

    ``fit(X)`` takes complaints followed by ``n_documents`` public documents (set before fit by
    the classifier); the documents' terms are always kept.
    """

    def __init__(
        self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2), min_df: int = 2,
        max_features: int | None = None, max_vocab_docs: int = 20000, n_documents: int = 0,
    ):
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.max_vocab_docs = max_vocab_docs
        self.n_documents = n_documents

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        """Fit, and transform from the counts the vocabulary was chosen on (one pass over the
        texts instead of three when no sample was needed)."""
        texts = list(X)
        split = len(texts) - self.n_documents
        vocabulary, counts = shared_vocabulary(
            self.analyzer, tuple(self.ngram_range), texts[:split], texts[split:], self.min_df, self.max_features, self.max_vocab_docs
        )
        if not vocabulary:  # nothing shared yet (a handful of rows): one empty column
            vocabulary, counts = ["<kosong>"], None
        vectorizer = TfidfVectorizer(vocabulary=vocabulary, ngram_range=tuple(self.ngram_range), sublinear_tf=True, **_analysis(self.analyzer))
        if counts is None:
            counts = CountVectorizer(vocabulary=vocabulary, ngram_range=tuple(self.ngram_range), **_analysis(self.analyzer)).transform(texts)
        df = np.bincount(counts.indices, minlength=len(vocabulary))
        vectorizer.idf_ = np.log((1 + len(texts)) / (1 + df)) + 1.0  # scikit-learn's smoothed idf
        # transform reads vocabulary_; the list it was built from would be a second copy in the file
        vectorizer.vocabulary = None
        self.vectorizer_ = vectorizer
        return vectorizer._tfidf.transform(counts.astype(np.float64), copy=False)

    def transform(self, X):
        return self.vectorizer_.transform(list(X))

    # A model file stores the vocabulary as one array of terms: as a dict it would be written as
    # tens of thousands of typed JSON entries (most of the file, and of the memory to load it).
    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # object.__getstate__ hands out the live __dict__
        vectorizer = state.get("vectorizer_")
        if vectorizer is not None and hasattr(vectorizer, "vocabulary_"):
            vocabulary = vectorizer.vocabulary_
            state["terms_"] = np.array(sorted(vocabulary, key=vocabulary.__getitem__), dtype=str)
            vectorizer = copy.copy(vectorizer)
            del vectorizer.vocabulary_
            state["vectorizer_"] = vectorizer
        return state

    def __setstate__(self, state: dict) -> None:
        terms = state.pop("terms_", None)
        super().__setstate__(state)
        if terms is not None:
            self.vectorizer_.vocabulary_ = {str(t): i for i, t in enumerate(terms)}

    def get_feature_names_out(self, input_features=None):
        return self.vectorizer_.get_feature_names_out()


def build_features(
    place_index=None, char_ngrams: bool = True, place_scale: float = 1.0, n_jobs: int | None = 1,
    char_max_features: int = 20000, word_max_features: int | None = 50000, min_df: int = 2,
    max_vocab_docs: int = 20000, n_documents: int = 0,
) -> FeatureUnion:
    """The feature union used by the routing classifier (word view first: reasons read it)."""
    parts = [
        (
            WORDS,
            Pipeline(
                [
                    ("preprocess", ComplaintPreprocessor(n_jobs=n_jobs)),
                    ("tfidf", PrunedTfidf("word", (1, 2), min_df, word_max_features, max_vocab_docs, n_documents)),
                ]
            ),
        )
    ]
    if char_ngrams:
        parts.append(
            (
                "chars",
                Pipeline(
                    [
                        ("clean", FunctionTransformer(clean_all)),
                        ("tfidf", PrunedTfidf("char_wb", (2, 5), min_df, char_max_features, max_vocab_docs, n_documents)),
                    ]
                ),
            )
        )
    parts.append(("places", PlaceMentionFeatures(place_index, place_scale)))
    return FeatureUnion(parts)


def fitted_tfidf(view) -> TfidfVectorizer:
    """The fitted TfidfVectorizer at the end of one view of the feature union."""
    last = view.steps[-1][1] if isinstance(view, Pipeline) else view
    return last.vectorizer_ if isinstance(last, PrunedTfidf) else last
