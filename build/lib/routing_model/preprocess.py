"""scikit-learn transformer: raw complaint text -> normalised, stemmed token string."""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .lexicon import DEFAULT_NORMALISATION, DEFAULT_STOPWORDS, load_normalisation, load_stopwords
from .stemming import stem_all
from .text import MASK_TOKENS
from .tokens import cleaned_tokens


def expand_token(token: str, normalisation: Mapping[str, Sequence[str]], stopwords: frozenset[str]) -> list[str]:
    """The words a cleaned token stands for ("jln" -> ["jalan"]), stopwords removed."""
    return [word for word in normalisation.get(token, (token,)) if word not in stopwords]


def normalised_tokens(
    text: str,
    normalisation: Mapping[str, Sequence[str]],
    stopwords: frozenset[str] = frozenset(),
) -> list[str]:
    """Cleaned tokens with informal spellings expanded and stopwords removed (not yet stemmed)."""
    return [word for token in cleaned_tokens(text) for word in expand_token(token, normalisation, stopwords)]


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

    def token_outputs(self, tokens: Iterable[str]) -> dict[str, str]:
        """Cleaned token -> what it becomes in the output: "" (a stopword), one stem, or
        several ("yg" -> "yang" is dropped; "jln" -> "jalan").

        Work is done per distinct token, not per occurrence: a batch has ~50x fewer distinct
        tokens than tokens, and the per-text step then runs in C (map + join).
        """
        check_is_fitted(self, "normalisation_")
        norm, stop = self.normalisation_, self.stopwords_
        words = {token: expand_token(token, norm, stop) for token in tokens}
        stems = stem_all((w for ws in words.values() for w in ws if w not in MASK_TOKENS), self.n_jobs) if self.stem else {}
        return {token: " ".join([stems.get(w, w) for w in ws]) for token, ws in words.items()}

    def _outputs(self, texts: Iterable[str]) -> dict[str, str]:
        """Distinct text -> its output string."""
        token_lists = {t: cleaned_tokens(t) for t in dict.fromkeys(texts)}
        outputs = self.token_outputs(set().union(*token_lists.values()))
        get = outputs.__getitem__
        return {t: " ".join(filter(None, map(get, tokens))) for t, tokens in token_lists.items()}

    def transform(self, X: Iterable[str]) -> list[str]:
        texts = [("" if x is None else str(x)) for x in X]
        by_text = self._outputs(texts)
        return [by_text[t] for t in texts]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags
