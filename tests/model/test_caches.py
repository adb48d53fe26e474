"""Process-wide caches hold no complaint text and no personal data, and stay within their bounds."""

from __future__ import annotations

import gc
import re

from routing_model.model.predict import vectorize
from routing_model.text import stemming, tokens
from routing_model.text.cleaning import tokenize

NAMES = ["Zulkarnaen Wirabhumi", "Budi Santoso", "Sutarjo Wiryokusumo", "Kurniasih Rahmawati", "Ujang Sukmajaya"]
INTROS = [
    "saya {name} warga Soreang",
    "Nama saya {name}.",
    "pelapor {name}",
    "Bapak {name} di kantor desa",
    "Ibu {name} sakit",
]
TOPICS = [
    "jalan berlubang di desa {i} mohon diperbaiki",
    "sampah menumpuk di pasar {i} tidak diangkut",
    "e-KTP belum jadi sejak bulan {i}",
    "lampu jalan mati di gang {i}",
]


def planted_texts(n: int) -> list[str]:
    out = []
    for i in range(n):
        name, intro, topic = NAMES[i % len(NAMES)], INTROS[(i // 5) % len(INTROS)], TOPICS[i % len(TOPICS)]
        out.append(f"{intro.format(name=name)}. {topic.format(i=i)}, NIK 3204{i:012d} hp 0812{i:08d}")
    return out


SECRET_WORDS = {w.lower() for n in NAMES for w in n.split()} - {"budi"}  # "budi" is also a dictionary word


def _lru_keys(fn) -> list:
    """The keys of a functools.lru_cache (single-argument str keys are stored as they are)."""
    dicts = [r for r in gc.get_referents(fn) if isinstance(r, dict) and "__wrapped__" not in r]
    return [k for d in dicts for k in d]


def _leaks(values) -> list[str]:
    found = []
    for value in values:
        text = " ".join(value) if isinstance(value, tuple) else str(value)
        words = set(tokenize(text.lower()))
        if words & SECRET_WORDS or re.search(r"3204\d{6}|0812\d{4}", text):
            found.append(text)
    return found


def _clear_caches() -> None:
    """Start from empty caches, so the checks below see only what these suggestions left."""
    tokens.cleaned.cache_clear()
    tokens.cleaned_tokens.cache_clear()
    stemming.stem_cache().clear()
    for _, features in list(vectorize._word_features.values()):
        features.cache_clear()


def test_no_cache_holds_planted_personal_data_and_all_stay_bounded(demo_model):
    _clear_caches()
    texts = planted_texts(120)
    for text in texts:
        demo_model.suggest([text])
    demo_model.suggest(texts[:40])
    for memo in (tokens.cleaned, tokens.cleaned_tokens):
        keys = memo.keys()
        assert keys and all(isinstance(k, bytes) and len(k) == 16 for k in keys), "memos are keyed by digests"
        assert not _leaks(memo.values()), _leaks(memo.values())[:3]
        assert len(memo) <= memo.maxsize
    cache = stemming.stem_cache()
    assert not SECRET_WORDS & set(cache) and not [w for w in cache if re.search(r"\d", w)]
    assert len(cache) <= stemming.MAX_CACHED_STEMS
    memos = list(vectorize._word_features.values())  # every fitted vectorizer of the session has one
    used = [features for _, features in memos if _lru_keys(features)]
    assert used, "the character view's word memo was used"
    for features in used:
        words = _lru_keys(features)
        assert not SECRET_WORDS & set(words), sorted(SECRET_WORDS & set(words))
    for _, features in memos:
        info = features.cache_info()
        assert info.currsize <= info.maxsize == vectorize._WORD_CACHE


def test_digest_memo_is_bounded_lru_and_changes_no_result():
    calls = []

    def compute(text: str) -> str:
        calls.append(text)
        return text.upper()

    memo = tokens.DigestMemo(compute, maxsize=3)
    for t in ["a", "b", "c", "a", "d"]:  # "a" is refreshed, so "b" is the one evicted
        assert memo(t) == t.upper()
    assert len(memo) == 3 and calls == ["a", "b", "c", "d"]
    assert memo("a") == "A" and memo("b") == "B" and calls[-1] == "b"
    assert set(memo.values()) <= {"A", "B", "C", "D"} and "a" not in memo.keys()


def test_stem_cache_is_bounded_and_answers_every_word(monkeypatch):
    monkeypatch.setattr(stemming, "MAX_CACHED_STEMS", 20)
    monkeypatch.setattr(stemming, "stem_cache", lambda _d={}: _d)  # a private cache for this test
    words = [f"{p}jalan{s}" for p in ("", "ber", "me", "di", "pe") for s in ("", "an", "kan", "nya", "i", "lah", "kah")]
    stems = stemming.stem_all(words)
    assert set(stems) >= set(words) and len(stemming.stem_cache()) <= 20
    reference = stemming.fast_stemmer()
    assert all(stems[w] == reference.stem_word(w) for w in words)
    again = stemming.stem_all(words[:5])
    assert {w: again[w] for w in words[:5]} == {w: stems[w] for w in words[:5]}
    assert len(stemming.stem_cache()) <= 20
