"""The near-duplicate finder: same or nearly the same text within 60 days, earlier complaints only."""
from __future__ import annotations

from datetime import date

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
