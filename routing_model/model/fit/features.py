"""Feature extraction: words (stemmed), character n-grams (typos, glued words) and place mentions.

The vocabularies are pruned before anything is fitted on them, because a model file is shared
and kept: a word or character n-gram enters only if at least ``min_df`` complaints use it or a
registry/function document (public text written by the team or the admins) does, and never if
it contains a digit. A name or a number that one citizen wrote cannot end up in a model file.
The vocabulary is chosen on at most ``max_vocab_docs`` complaints, so memory stays flat at the
scale of a province.

Features are computed one way: a view's term counts (``vectorize.term_counts``) weighed by its
fitted TF-IDF (``vectorize.weigh_counts``), with the place columns beside them. Training reads the
texts into ``ReadTexts`` once, then ``feature_rows`` weighs them:
- ``fit`` (``read_texts``, unfitted union): the vocabulary is chosen while counting, and the counts
  serve the held-out fit on the older rows and the final fit on all rows, each pruning the
  vocabulary again to the complaints it learns from (``PrunedTfidf.fit_counts``);
- ``adapt_from`` (``count_texts``, a fitted union): counted over the fitted vocabularies.
Prediction computes the same numbers text by text from the plain views (``plain_views``) of the
fitted union, without scikit-learn.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from routing_model.model.fit.preprocess import ComplaintPreprocessor
from routing_model.model.predict.predictor import WORDS, PlaceView, TextView, clean_all
from routing_model.model.predict.vectorize import TermView, term_counts, weigh_counts

_DIGIT = re.compile(r"\d")


class PlaceMentionFeatures(TransformerMixin, BaseEstimator):
    """``predictor.PlaceView`` as a step of the scikit-learn feature union."""

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
        return PlaceView(self.scale).columns(places)

    def get_feature_names_out(self, input_features=None):
        return np.array(PlaceView.names, dtype=object)


def _analysis(analyzer: str) -> dict:
    """How a view cuts text into terms: stemmed words as they come, or char_wb n-grams."""
    if analyzer == "word":
        return {"token_pattern": r"\S+", "lowercase": False}
    return {"analyzer": "char_wb"}


def shared_vocabulary(
    analyzer: str,
    ngram_range: tuple[int, int],
    complaints: list[str],
    documents: list[str],
    min_df: int,
    max_features: int | None,
    max_docs: int,
    seed: int = 0,
) -> tuple[list[str], sp.csr_matrix | None]:
    """Terms used by at least ``min_df`` complaints or by any document, without digits; the
    ``max_features`` most frequent (document terms first) when there are more. Also the counts
    of those terms in ``complaints + documents`` when every complaint was read (no sample), so
    the caller need not analyse the texts again."""
    sampled = len(complaints) > max_docs
    if sampled:
        pick = np.random.default_rng(seed).choice(len(complaints), size=max_docs, replace=False)
        complaints = [complaints[i] for i in np.sort(pick)]
    counter = CountVectorizer(ngram_range=ngram_range, dtype=np.float32, **_analysis(analyzer))
    counts = counter.fit_transform(complaints + documents)
    terms = counter.get_feature_names_out()
    del counter  # it knows every rare n-gram; it never leaves this function
    n = len(complaints)
    in_complaints = np.asarray((counts[:n] > 0).sum(axis=0)).ravel()
    in_documents = np.asarray((counts[n:] > 0).sum(axis=0)).ravel()
    keep = ((in_complaints >= min_df) | (in_documents > 0)) & np.array(
        [_DIGIT.search(t) is None for t in terms], dtype=bool
    )
    idx = np.flatnonzero(keep)
    if max_features is not None and len(idx) > max_features:
        total = np.asarray(counts.sum(axis=0)).ravel()[idx] + 1e9 * (in_documents[idx] > 0)
        idx = np.sort(idx[np.argsort(-total, kind="stable")[:max_features]])
    return [str(terms[i]) for i in idx], (None if sampled else counts[:, idx].tocsr())


_ROWS_PER_SLICE = 8192


def row_slices(n_rows: int) -> list[tuple[int, int]]:
    """(start, stop) of consecutive slices of ``_ROWS_PER_SLICE`` rows: how big matrices are walked."""
    size = _ROWS_PER_SLICE
    return [(start, min(start + size, n_rows)) for start in range(0, n_rows, size)]


@dataclass(frozen=True)
class ViewCounts:
    """One view's term counts (float32) of the texts read, complaints first, then
    ``n_documents`` public documents; ``terms`` names the columns. ``rows`` picks the rows
    this view stands for (a subset of the complaints, then every document; None: all), so a
    subset costs an index, not a copy of the counts. Made by ``PrunedTfidf.count``."""

    terms: np.ndarray
    counts: sp.csr_matrix
    n_documents: int
    rows: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return self.counts.shape[0] if self.rows is None else len(self.rows)

    def of_complaints(self, index) -> ViewCounts:
        """This view for the complaints ``index`` of it (in that order) and every document."""
        n = self.n_rows - self.n_documents
        picked = np.concatenate([np.asarray(index, dtype=np.int64), np.arange(n, self.n_rows)])
        return replace(self, rows=picked if self.rows is None else self.rows[picked])

    def document_frequencies(self) -> tuple[np.ndarray, np.ndarray]:
        """(how many of the complaints, how many of the documents use each term), read a slice
        of rows at a time (a subset's rows are scattered over the counts)."""
        n, in_complaints, in_documents = (
            self.n_rows - self.n_documents,
            np.zeros(len(self.terms), np.int64),
            np.zeros(len(self.terms), np.int64),
        )
        for start, stop in row_slices(self.n_rows):
            part = self.slice(start, stop)
            cut = part.indptr[min(max(n - start, 0), stop - start)]  # entries of complaint rows come first
            in_complaints += np.bincount(part.indices[:cut], minlength=len(self.terms))
            in_documents += np.bincount(part.indices[cut:], minlength=len(self.terms))
        return in_complaints, in_documents

    def slice(self, start: int, stop: int, columns: np.ndarray | None = None) -> sp.csr_matrix:
        """Rows ``start:stop`` of this view, only ``columns`` (None: all; none: one empty
        column, as ``PrunedTfidf`` keeps when nothing is shared); a copy of its own."""
        part = self.counts[start:stop] if self.rows is None else self.counts[self.rows[start:stop]]
        if columns is not None and not len(columns):
            return sp.csr_matrix((part.shape[0], 1), dtype=part.dtype)
        return part if columns is None else part[:, columns]


class PrunedTfidf(TransformerMixin, BaseEstimator):
    """TF-IDF over a vocabulary no single complaint can add to (see the module docstring).

    ``fit(X)`` takes complaints followed by ``n_documents`` public documents (set before fit by
    the classifier); the documents' terms are always kept.
    """

    def __init__(
        self,
        analyzer: str = "word",
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int = 2,
        max_features: int | None = None,
        max_vocab_docs: int = 20000,
        n_documents: int = 0,
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
        texts when no sample was needed)."""
        view = self.count(X)
        return weigh_counts(view.slice(0, view.n_rows, self.fit_counts(view)).astype(np.float64), self.vectorizer_)

    def count(self, X) -> ViewCounts:
        """The vocabulary (see the module docstring) and its terms' counts in ``X``: complaints
        followed by ``n_documents`` public documents."""
        texts = list(X)
        split = len(texts) - self.n_documents
        vocabulary, counts = shared_vocabulary(
            self.analyzer,
            tuple(self.ngram_range),
            texts[:split],
            texts[split:],
            self.min_df,
            self.max_features,
            self.max_vocab_docs,
        )
        if counts is None and vocabulary:  # chosen on a sample: count every text now, with the fast path
            counts = term_counts(self._vectorizer(vocabulary), texts, dtype=np.float32)
        if not vocabulary:  # nothing shared yet (a handful of rows): one empty column
            vocabulary, counts = ["<kosong>"], sp.csr_matrix((len(texts), 1), dtype=np.float32)
        return ViewCounts(np.array(vocabulary, dtype=object), counts, self.n_documents)

    def fit_counts(self, view: ViewCounts) -> np.ndarray | None:
        """Fit on counts already taken (``count``): the terms these complaints or the documents
        share (a subset of the rows keeps only its own) and their idf. Returns the columns of
        ``view`` kept (None: all), for ``view.slice``."""
        in_complaints, in_documents = view.document_frequencies()
        keep = (in_complaints >= self.min_df) | (in_documents > 0)
        vocabulary = [str(t) for t in view.terms[keep]] or ["<kosong>"]  # nothing shared: one empty column
        df = (in_complaints + in_documents)[keep] if keep.any() else np.zeros(1)
        vectorizer = self._vectorizer(vocabulary)
        vectorizer.idf_ = np.log((1 + view.n_rows) / (1 + df)) + 1.0  # scikit-learn's smoothed idf
        # transform reads vocabulary_; the list it was built from would be a second copy in the file
        vectorizer.vocabulary = None
        self.vectorizer_ = vectorizer
        return None if keep.all() else np.flatnonzero(keep)

    def _vectorizer(self, vocabulary: list[str]) -> TfidfVectorizer:
        """The TfidfVectorizer this view predicts with, over ``vocabulary`` (idf not set yet)."""
        vectorizer = TfidfVectorizer(
            vocabulary=vocabulary, ngram_range=tuple(self.ngram_range), sublinear_tf=True, **_analysis(self.analyzer)
        )
        vectorizer._validate_vocabulary()  # sets vocabulary_, which the counting reads
        return vectorizer

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


@dataclass(frozen=True)
class ReadTexts:
    """Texts read once by every view of a feature union (``read_texts``): each TF-IDF view's
    term counts and the place columns, complaints first, then ``n_documents`` documents.
    ``rows`` gives a subset of the complaints, so one reading serves several fits."""

    views: dict[str, ViewCounts]
    places: sp.csr_matrix
    n_documents: int
    settings: tuple = ()  # what the texts were read with; a fit checks it reads the same way

    @property
    def n_complaints(self) -> int:
        return self.places.shape[0] - self.n_documents

    def rows(self, index) -> ReadTexts:
        """The complaints ``index`` (in that order) and every document."""
        index = np.asarray(index, dtype=np.int64)
        keep = np.concatenate([index, np.arange(self.n_complaints, self.places.shape[0])])
        views = {name: view.of_complaints(index) for name, view in self.views.items()}
        return ReadTexts(views, self.places[keep], self.n_documents, self.settings)


def read_texts(features: FeatureUnion, texts: list[str], n_documents: int, settings: tuple = ()) -> ReadTexts:
    """``texts`` (complaints, then ``n_documents`` public documents) through every view of an
    unfitted ``build_features`` union: preprocessed, counted over the pruned vocabulary and
    searched for places, once. Each intermediate text list is dropped as soon as it is counted."""
    views, places = {}, None
    for name, part in features.transformer_list:
        if isinstance(part, PlaceMentionFeatures):
            places = part.fit(texts).transform(texts)
            continue
        docs = texts
        for _, step in part.steps[:-1]:
            docs = step.fit_transform(docs)
        views[name] = part.steps[-1][1].count(docs)
        del docs
    return ReadTexts(views, places, n_documents, settings)


def count_texts(views: list, place_index, texts: list[str], n_documents: int) -> ReadTexts:
    """``texts`` (complaints, then ``n_documents`` documents) read by the plain views of a fitted union
    (``plain_views``): each TF-IDF view's term counts over its fitted vocabulary, and the place columns."""
    counts, places = {}, None
    for view in views:
        if isinstance(view, PlaceView):
            places = PlaceMentionFeatures(place_index, view.scale).transform(texts)
            continue
        found = term_counts(view.terms, view.documents(texts), dtype=np.float32)
        counts[view.name] = ViewCounts(view.terms.feature_names(), found, n_documents)
    return ReadTexts(counts, places, n_documents)


def feature_rows(features: FeatureUnion, read: ReadTexts, fit: bool) -> sp.csr_matrix:
    """The feature rows of texts already read (float32, the union's columns, in ``read``'s row order). ``fit``:
    fit the unfitted ``build_features`` union on them first (``read`` from ``read_texts``); otherwise the union is
    fitted and ``read`` came from ``count_texts``. ``read`` is unchanged."""
    blocks = []  # per part: (its counts, the columns kept, the fitted TF-IDF; None for places)
    for name, part in features.transformer_list:
        if isinstance(part, PlaceMentionFeatures):
            if fit:
                part.fit([])
            blocks.append((ViewCounts(part.get_feature_names_out(), read.places, read.n_documents), None, None))
            continue
        tfidf = part.steps[-1][1]
        if fit:
            for _, step in part.steps[:-1]:
                step.fit([""])  # word lists and the like: nothing is learned from the texts
        blocks.append((read.views[name], tfidf.fit_counts(read.views[name]) if fit else None, tfidf.vectorizer_))
    return _weighed_side_by_side(blocks, read.places.shape[0])


def _weighed_side_by_side(blocks: list, n_rows: int) -> sp.csr_matrix:
    """The parts' (TF-IDF-weighed) rows side by side, as ``sp.hstack`` would give them, built a
    slice of rows at a time into arrays allocated once: scipy's hstack would hold two more
    copies of a province's matrix, and the counts would need a weighed copy each."""

    def piece(start: int, stop: int) -> sp.csr_matrix:
        parts = []
        for view, columns, vectorizer in blocks:
            part = view.slice(start, stop, columns).astype(np.float32)
            parts.append(part if vectorizer is None else weigh_counts(part, vectorizer))
        return sp.hstack(parts, format="csr")

    slices = row_slices(n_rows)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    for start, stop in slices:  # first pass: how long each row is (weighing keeps every entry)
        indptr[start + 1 : stop + 1] = sum(
            np.diff(view.slice(start, stop, columns).indptr) for view, columns, _ in blocks
        )
    np.cumsum(indptr, out=indptr)
    data, indices = np.empty(indptr[-1], dtype=np.float32), np.empty(indptr[-1], dtype=np.int32)
    for start, stop in slices:
        part = piece(start, stop)
        data[indptr[start] : indptr[stop]], indices[indptr[start] : indptr[stop]] = part.data, part.indices
    width = sum(
        len(view.terms) if vectorizer is None else len(vectorizer.vocabulary_) for view, _, vectorizer in blocks
    )
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, width))


def build_features(
    place_index=None,
    char_ngrams: bool = True,
    place_scale: float = 1.0,
    n_jobs: int | None = 1,
    char_max_features: int = 20000,
    word_max_features: int | None = 50000,
    min_df: int = 2,
    max_vocab_docs: int = 20000,
    n_documents: int = 0,
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
                        (
                            "tfidf",
                            PrunedTfidf("char_wb", (2, 5), min_df, char_max_features, max_vocab_docs, n_documents),
                        ),
                    ]
                ),
            )
        )
    parts.append(("places", PlaceMentionFeatures(place_index, place_scale)))
    return FeatureUnion(parts)


def plain_views(features: FeatureUnion) -> list:
    """A fitted ``build_features`` union as the plain views prediction reads (``predictor``):
    the same vocabularies, idf and word lists, without scikit-learn objects."""
    return [
        PlaceView(part.scale) if isinstance(part, PlaceMentionFeatures) else plain_view(name, part)
        for name, part in features.transformer_list
    ]


def plain_view(name: str, part: Pipeline) -> TextView:
    """One fitted TF-IDF view of the union (text preparation, then ``PrunedTfidf``) as a ``TextView``."""
    stemmer = None
    for step_name, step in part.steps[:-1]:
        if isinstance(step, ComplaintPreprocessor):
            stemmer = step.normaliser()
        elif not (isinstance(step, FunctionTransformer) and step.func is clean_all):
            raise ValueError(
                f"view {name!r}: step {step_name!r} has no plain form; a view prepares text by "
                "ComplaintPreprocessor or clean_all"
            )
    return TextView(name, TermView.of(part.steps[-1][1].vectorizer_), stemmer)
