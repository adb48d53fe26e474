"""The fast stemming wrapper gives Sastrawi's own stems, caches them, and is never saved in a model."""

from __future__ import annotations

import random
import string
import zipfile

import pandas as pd
import pytest
import skops.io as sio
from model_helpers import KAI_CSV, LAPOR_CSV

from routing_model.text import stemming
from routing_model.text.cleaning import clean, tokenize


def _shared_vocabulary() -> list[str]:
    words: set[str] = set()
    for path in (LAPOR_CSV, KAI_CSV):
        assert path.is_file(), f"shared data missing: {path}"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for text in frame["text"]:
            words.update(tokenize(clean(text)))
    return sorted(words)


@pytest.mark.slow
def test_stems_equal_sastrawi_on_whole_shared_vocabulary(shared_data):
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    words = _shared_vocabulary()
    assert len(words) > 5000  # the whole vocabulary, not a sample
    ours = stemming.stem_all(words)
    reference = StemmerFactory().create_stemmer()
    mismatches = [(w, ours.get(w), reference.stem(w)) for w in words if ours.get(w) != reference.stem(w)]
    assert not mismatches, f"{len(mismatches)} of {len(words)} stems differ from Sastrawi, e.g. {mismatches[:10]}"


@pytest.mark.slow
def test_parallel_stemming_equals_sastrawi(shared_data):
    """The process-pool path (used for big batches of new words) gives the same stems."""
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    reference = StemmerFactory().create_stemmer()
    words = _shared_vocabulary()[: stemming._PARALLEL_MIN_WORDS + 500]
    chunks = stemming._chunks(words, 2)
    assert sum(len(c) for c in chunks) == len(words)
    stems = [s for chunk in chunks for s in stemming._stem_words(chunk)]
    assert stems == [reference.stem(w) for w in words]


def _fresh_words(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"di{''.join(rng.choices(string.ascii_lowercase, k=8))}kan" for _ in range(n)]


def test_stem_all_is_cached(monkeypatch):
    assert stemming.sastrawi_stemmer() is stemming.sastrawi_stemmer(), "Sastrawi must be built once per process"
    stemmer = stemming.fast_stemmer()
    assert stemming.fast_stemmer() is stemmer, "the stemmer must be built once per process"
    calls: list[str] = []
    original = stemmer.stem_word

    def counting_stem_word(word):
        calls.append(word)
        return original(word)

    monkeypatch.setattr(stemmer, "stem_word", counting_stem_word)
    words = _fresh_words(50, seed=20261123)
    assert not set(words) & set(stemming.stem_cache()), "test words must be new to the cache"
    size = len(stemming.stem_cache())

    first = stemming.stem_all(words + words[:10])
    assert len(stemming.stem_cache()) == size + len(words)
    assert sorted(calls) == sorted(words), "each new word is stemmed exactly once"

    calls.clear()
    second = stemming.stem_all(list(reversed(words)))
    assert calls == [], "cached words must not be stemmed again"
    assert len(stemming.stem_cache()) == size + len(words)
    assert {w: first[w] for w in words} == {w: second[w] for w in words}


def test_stemming_examples_match_sastrawi():
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    words = ["jalanan", "diperbaiki", "pelayanan", "berlubang", "menumpuk", "kependudukan", "pengaduan"]
    reference = StemmerFactory().create_stemmer()
    stems = stemming.stem_all(words)
    assert [stems[w] for w in words] == [reference.stem(w) for w in words]
    assert stems["jalanan"] == "jalan"


def test_sastrawi_is_not_pickled_into_the_model_file(demo_model_dir):
    model_file = demo_model_dir / "model.skops"
    untrusted = sio.get_untrusted_types(file=model_file)
    assert untrusted, "expected the model's own types to be listed"
    assert not [t for t in untrusted if "sastrawi" in t.lower()], untrusted
    # scan everything inside the skops archive, not only what skops reports
    with zipfile.ZipFile(model_file) as archive:
        names = archive.namelist()
        assert "schema.json" in names
        for name in names:
            assert b"sastrawi" not in archive.read(name).lower(), f"Sastrawi found in {name}"


def test_sastrawi_not_on_saved_estimators(demo_model):
    """Nothing reachable from the loaded model's estimators is a Sastrawi object."""
    seen: set[int] = set()
    found: list[str] = []

    def walk(obj, depth=0):
        if id(obj) in seen or depth > 12:
            return
        seen.add(id(obj))
        if type(obj).__module__.startswith("Sastrawi"):
            found.append(type(obj).__qualname__)
            return
        if isinstance(obj, dict):
            for v in obj.values():
                walk(v, depth + 1)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for v in list(obj)[:200]:
                walk(v, depth + 1)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            walk(vars(obj), depth + 1)

    walk(demo_model)
    assert not found, found
