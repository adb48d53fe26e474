"""scikit-learn transformer: raw complaint text -> normalised, stemmed token string."""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .lexicon import DEFAULT_NORMALISATION, DEFAULT_STOPWORDS, load_normalisation, load_stopwords
from .stemming import stem_all
from .text import MASK_TOKENS
from .tokens import cleaned_tokens


def normalised_tokens(
    text: str,
    normalisation: Mapping[str, Sequence[str]],
    stopwords: frozenset[str] = frozenset(),
) -> list[str]:
    """Cleaned tokens with informal spellings expanded and stopwords removed (not yet stemmed)."""
    out: list[str] = []
    for token in cleaned_tokens(text):
        for word in normalisation.get(token, (token,)):
            if word not in stopwords:
                out.append(word)
    return out


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

    def fit(self, X: Iterable[str] | None = None, y=None) -> "ComplaintPreprocessor":
        self.normalisation_ = load_normalisation(self.normalisation_path or DEFAULT_NORMALISATION)
        self.stopwords_ = (
            load_stopwords(self.stopwords_path or DEFAULT_STOPWORDS) if self.remove_stopwords else frozenset()
        )
        return self

    def tokens(self, texts: Iterable[str]) -> dict[str, list[str]]:
        """Distinct text -> its final tokens (stemmed when ``stem``)."""
        check_is_fitted(self, "normalisation_")
        by_text = {t: normalised_tokens(t, self.normalisation_, self.stopwords_) for t in dict.fromkeys(texts)}
        if self.stem:
            words = {w for toks in by_text.values() for w in toks if w not in MASK_TOKENS}
            stems = stem_all(words, self.n_jobs)
            by_text = {t: [stems.get(w, w) for w in toks] for t, toks in by_text.items()}
        return by_text

    def transform(self, X: Iterable[str]) -> list[str]:
        texts = [("" if x is None else str(x)) for x in X]
        by_text = {t: " ".join(toks) for t, toks in self.tokens(texts).items()}
        return [by_text[t] for t in texts]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
