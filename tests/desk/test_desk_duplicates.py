"""The near-duplicate finder: same or nearly the same text within 60 days, earlier complaints only."""

from __future__ import annotations

from datetime import date

import numpy as np

from routing_model.text.cleaning import clean
from service import duplicates
from service.duplicates import Doc, find_duplicates

BASE = "Jalan rusak parah di desa Jelekong kecamatan Baleendah, banyak lubang dan motor sering jatuh, mohon diperbaiki"


def test_exact_and_near_copies_link_to_the_earlier_complaint():
    docs = [
        Doc("A", date(2026, 10, 1), BASE),
        Doc("B", date(2026, 10, 5), BASE.upper() + "!!"),  # same text, shouted
        Doc("C", date(2026, 10, 6), BASE.replace("banyak", "byk").replace("mohon", "mhn")),  # typed again, abbreviated
        Doc("D", date(2026, 10, 7), "e-KTP saya belum jadi sudah tiga bulan, blanko habis kata petugas kecamatan"),
    ]
    found = find_duplicates(docs, [])
    assert [i for i, _ in found["B"]] == ["A"]
    assert {i for i, _ in found["C"]} == {"A", "B"}
    assert "A" not in found  # the first one repeats nothing
    assert "D" not in found
    assert all(0.75 <= s <= 1.0 for links in found.values() for _, s in links)


def test_window_and_stored_pool():
    old = Doc("OLD", date(2026, 1, 1), BASE)
    recent = Doc("REC", date(2026, 9, 20), BASE)
    new = Doc("NEW", date(2026, 10, 1), BASE)
    found = find_duplicates([new], [old, recent])
    assert [i for i, _ in found["NEW"]] == ["REC"]  # OLD is 273 days earlier: outside the 60-day window


def test_texts_without_content_match_nothing():
    assert find_duplicates([Doc("X", date(2026, 1, 1), ""), Doc("Y", date(2026, 1, 2), "  ")], []) == {}


def _sklearn_tfidf(texts: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(4, 4), min_df=1, sublinear_tf=True, dtype=np.float32
    ).fit_transform(texts)


def test_tfidf_is_scikit_learns_on_the_shared_texts(lapor_frame, monkeypatch):
    """The numpy/scipy TF-IDF gives scikit-learn's similarities, hence the same duplicates."""
    docs = [Doc(r["id"], date.fromisoformat(r["date"]), r["text"]) for r in lapor_frame.to_dict("records")]
    texts = [clean(d.text) for d in docs if d.text.strip()]
    ours, theirs = duplicates.tfidf_rows(texts), _sklearn_tfidf(texts)
    assert ours.shape == theirs.shape
    sims, expected = (ours @ ours.T).toarray(), (theirs @ theirs.T).toarray()
    assert np.abs(sims - expected).max() < 1e-5
    assert np.array_equal(sims >= duplicates.THRESHOLD, expected >= duplicates.THRESHOLD)

    found = find_duplicates(docs, [])
    monkeypatch.setattr(duplicates, "tfidf_rows", _sklearn_tfidf)
    reference = find_duplicates(docs, [])
    assert reference  # the shared data has near-duplicates within 60 days
    assert {k: [i for i, _ in v] for k, v in found.items()} == {k: [i for i, _ in v] for k, v in reference.items()}
    assert all(
        abs(s - r) <= 1e-3 + 1e-9 for k in found for (_, s), (_, r) in zip(found[k], reference[k])
    )  # rounded to 3 places


def test_texts_cleaned_to_nothing_match_nothing():
    """Emoji and markup leave no n-gram at all (scikit-learn's "empty vocabulary" ValueError)."""
    assert find_duplicates([Doc("X", date(2026, 1, 1), "😀😀"), Doc("Y", date(2026, 1, 2), "<br>")], []) == {}
