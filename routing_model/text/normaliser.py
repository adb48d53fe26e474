"""Raw complaint text -> normalised, stemmed token string, from word lists held as plain data.

The word view of the model reads complaints through this: training through
``preprocess.ComplaintPreprocessor`` (the scikit-learn step, which reads the word lists at
``fit``), serving through the same lists stored in the served model (``artifact.served``), without
scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from routing_model.text.cleaning import MASK_TOKENS
from routing_model.text.stemming import stem_all
from routing_model.text.tokens import MEMO_BATCH, cleaned_tokens, tokens_of


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


class WordNormaliser:
    """Complaints -> space-separated stems, with fixed word lists (informal spellings, stopwords).

    Identical texts are processed once per call, which matters for backlogs full of re-sent
    complaints.
    """

    def __init__(
        self,
        normalisation: Mapping[str, Sequence[str]],
        stopwords: frozenset[str],
        stem: bool = True,
        n_jobs: int | None = 1,
    ):
        self.normalisation = normalisation
        self.stopwords = stopwords
        self.stem = stem
        self.n_jobs = n_jobs

    def token_outputs(self, tokens: Iterable[str]) -> dict[str, str]:
        """Cleaned token -> what it becomes in the output: "" (a stopword), one stem, or
        several ("yg" -> "yang" is dropped; "jln" -> "jalan").

        Work is done per distinct token, not per occurrence: a batch has ~50x fewer distinct
        tokens than tokens, and the per-text step then runs in C (map + join).
        """
        norm, stop = self.normalisation, self.stopwords
        words = {token: expand_token(token, norm, stop) for token in tokens}
        stems = (
            stem_all((w for ws in words.values() for w in ws if w not in MASK_TOKENS), self.n_jobs) if self.stem else {}
        )
        return {token: " ".join([stems.get(w, w) for w in ws]) for token, ws in words.items()}

    def outputs(self, texts: Iterable[str]) -> dict[str, str]:
        """Distinct text -> its output string.

        A small batch (one suggest call) shares the memo with the other views of the same
        texts; a big one (training, a backlog) bypasses it: it would only evict everything.
        """
        distinct = dict.fromkeys(texts)
        tokens = cleaned_tokens if len(distinct) <= MEMO_BATCH else tokens_of
        token_lists = {t: tokens(t) for t in distinct}
        outputs = self.token_outputs(set().union(*token_lists.values()))
        get = outputs.__getitem__
        return {t: " ".join(filter(None, map(get, tokens))) for t, tokens in token_lists.items()}

    def transform(self, X: Iterable[str]) -> list[str]:
        texts = [("" if x is None else str(x)) for x in X]
        by_text = self.outputs(texts)
        return [by_text[t] for t in texts]
