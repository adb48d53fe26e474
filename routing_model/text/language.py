"""Is a complaint written in Indonesian? A text in English (or another language) is routed all the
same but flagged for review: the model learned from Indonesian complaints."""

from __future__ import annotations

from functools import lru_cache

from routing_model.text.lexicon import (
    DEFAULT_NORMALISATION,
    DEFAULT_STOPWORDS,
    RESOURCES,
    load_normalisation,
    load_stopwords,
)
from routing_model.text.stemming import sastrawi_words
from routing_model.text.tokens import cleaned_tokens


@lru_cache(maxsize=1)
def _word_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(Indonesian words: Sastrawi's dictionary, the informal spellings of the normalisation
    table (jln, bnyk, tlg …) and stopwords; English function words)."""
    informal = frozenset(load_normalisation(DEFAULT_NORMALISATION))
    indonesian = sastrawi_words() | informal | load_stopwords(DEFAULT_STOPWORDS)
    english = frozenset((RESOURCES / "english_function_words.txt").read_text(encoding="utf-8").split())
    return indonesian, english - indonesian


def language_shares(text: str) -> tuple[float, float]:
    """(Indonesian, English) share of a text's words."""
    words = [t for t in cleaned_tokens(text) if len(t) >= 2 and t.isalpha()]
    if not words:
        return 0.0, 0.0
    indonesian, english = _word_lists()
    return sum(w in indonesian for w in words) / len(words), sum(w in english for w in words) / len(words)


def not_indonesian(text: str) -> bool:
    """English (or another language) rather than informal Indonesian: few Indonesian words and
    clearly more English function words than Indonesian ones."""
    indonesian, english = language_shares(text)
    return indonesian < 0.5 and english > indonesian
