"""scikit-learn transformer: raw complaint text -> normalised, stemmed token string
(``normaliser.WordNormaliser`` does the work; this step reads its word lists at ``fit``)."""

from __future__ import annotations

from collections.abc import Iterable

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from routing_model.text.lexicon import DEFAULT_NORMALISATION, DEFAULT_STOPWORDS, load_normalisation, load_stopwords
from routing_model.text.normaliser import WordNormaliser


class ComplaintPreprocessor(TransformerMixin, BaseEstimator):
    """Turn raw complaints into space-separated stems for a downstream vectoriser.

    The word lists are read at ``fit`` and kept as learned state, so a saved model does not
    depend on files that may change later. Identical texts are processed once per call,
    which matters for backlogs full of re-sent complaints.
    """

    def __init__(
        self,
        normalisation_path: str | None = None,
        stopwords_path: str | None = None,
        stem: bool = True,
        remove_stopwords: bool = True,
        n_jobs: int | None = 1,
    ):
        self.normalisation_path = normalisation_path
        self.stopwords_path = stopwords_path
        self.stem = stem
        self.remove_stopwords = remove_stopwords
        self.n_jobs = n_jobs

    def fit(self, X: Iterable[str] | None = None, y=None) -> ComplaintPreprocessor:
        self.normalisation_ = load_normalisation(self.normalisation_path or DEFAULT_NORMALISATION)
        self.stopwords_ = (
            load_stopwords(self.stopwords_path or DEFAULT_STOPWORDS) if self.remove_stopwords else frozenset()
        )
        return self

    def normaliser(self) -> WordNormaliser:
        """The fitted word lists as the plain ``WordNormaliser`` that does the work (and is served)."""
        check_is_fitted(self, "normalisation_")
        return WordNormaliser(self.normalisation_, self.stopwords_, self.stem, self.n_jobs)

    def transform(self, X: Iterable[str]) -> list[str]:
        return self.normaliser().transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
