"""Behaviour tests of a model trained on the real SP4N-LAPOR! complaints of Kabupaten Bandung.

The model is the one `disposisi train` writes from the official .xlsx export (session fixture
``lapor_model`` in this directory's conftest), so the real data is trained on once.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from model_helpers import BALEENDAH, DISDUKCAPIL, PUTR

from routing_model import ComplaintTextError, Suggestion
from routing_model.model.fit.preprocess import ComplaintPreprocessor
from routing_model.text.cleaning import clean, tokenize

pytestmark = pytest.mark.slow


def top(model, text: str) -> str:
    (s,) = model.suggest([text])
    return s.top


def test_model_covers_the_registry(lapor_model, registry):
    classes = set(lapor_model.classes_)
    assert {PUTR, DISDUKCAPIL, BALEENDAH} <= classes
    # agencies without past complaints are still suggestible (registry knowledge)
    assert {a.name for a in registry.active} <= classes


def test_jalan_and_jalanan_route_the_same(lapor_model):
    assert top(lapor_model, "jalan rusak") == top(lapor_model, "jalanan rusak") == PUTR


def test_ektp_goes_to_disdukcapil(lapor_model):
    (s,) = lapor_model.suggest(["e-KTP saya belum jadi sudah 3 bulan, mohon dibantu"])
    assert s.top == DISDUKCAPIL


def test_place_routing_to_baleendah(lapor_model):
    (s,) = lapor_model.suggest(["jalan rusak berlubang di Desa Jelekong"], k=3)
    names = [a for a, _ in s.agencies]
    assert BALEENDAH in names or PUTR in names
    kecamatan = [a for a in names if a.startswith("Kecamatan ")]
    assert kecamatan in ([], [BALEENDAH]), names


def test_named_kecamatan_is_the_kecamatan_suggested(lapor_model):
    (s,) = lapor_model.suggest(["pelayanan surat pengantar di kantor Kecamatan Baleendah lambat sekali"], k=5)
    kecamatan = [a for a, _ in s.agencies if a.startswith("Kecamatan ")]
    assert kecamatan and kecamatan[0] == BALEENDAH, s.agencies


def test_slang_invariance(lapor_model):
    assert top(lapor_model, "jln rusak parah gak diperbaiki") == top(lapor_model, "jalan rusak parah tidak diperbaiki")
    assert top(lapor_model, "e-KTP blm jadi sdh 3 bln") == top(lapor_model, "e-KTP belum jadi sudah 3 bulan")


def test_glued_words_and_case_do_not_change_the_route(lapor_model):
    assert top(lapor_model, "JALAN RUSAK PARAH mohon diperbaiki") == top(
        lapor_model, "jalan rusak parah mohon diperbaiki"
    )
    assert top(lapor_model, "sampah menumpuk di pinggir jalanMohon diangkut") == top(
        lapor_model, "sampah menumpuk di pinggir jalan Mohon diangkut"
    )


TEXTS = [
    "jalan rusak berlubang di Desa Jelekong",
    "e-KTP saya belum jadi sudah 3 bulan, mohon dibantu",
    "sampah menumpuk di pinggir jalan tidak pernah diangkut",
    "anak saya tidak diterima di sekolah negeri padahal rumah dekat zonasi",
    "lampu penerangan jalan umum mati sudah seminggu",
    "bantuan sosial tidak pernah kami terima padahal keluarga miskin",
]


def test_full_ranking_is_a_sorted_probability_distribution(lapor_model):
    n = len(lapor_model.classes_)
    for s in lapor_model.suggest(TEXTS, k=n):
        assert len(s.agencies) == n
        scores = [p for _, p in s.agencies]
        assert math.isclose(sum(scores), 1.0, abs_tol=1e-6)
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= p <= 1.0 for p in scores)
        assert len({a for a, _ in s.agencies}) == n


def test_suggest_matches_predict_proba(lapor_model):
    proba = lapor_model.predict_proba(TEXTS)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    for row, s in zip(proba, lapor_model.suggest(TEXTS, k=3)):
        best = np.argsort(-row)[:3]
        assert [a for a, _ in s.agencies] == [str(lapor_model.classes_[j]) for j in best]
        assert s.confidence == pytest.approx(row.max())


def _text_words(text: str) -> set[str]:
    return set(tokenize(clean(text)))


def test_reasons_are_words_of_the_text(lapor_model):
    texts = [t for t in TEXTS if "KTP" not in t]  # e-KTP is normalised; see the next test
    for text, s in zip(texts, lapor_model.suggest(texts)):
        assert s.reasons, f"no reasons for {text!r}"
        words = _text_words(text)
        for reason in s.reasons:
            assert set(reason.split()) <= words, f"reason {reason!r} is not in {text!r}"


def test_reasons_quote_the_citizen_even_for_slang(lapor_model):
    """A dispatcher highlights the reasons in the complaint: they must be the citizen's words."""
    texts = ["jln rusak parah gak diperbaiki", "e-KTP saya belum jadi sudah 3 bulan, mohon dibantu"]
    for text, s in zip(texts, lapor_model.suggest(texts)):
        words = _text_words(text)
        foreign = [r for r in s.reasons if not set(r.split()) <= words]
        assert not foreign, f"reasons {foreign} are not words of {text!r}"


def test_needs_review_follows_the_stored_thresholds(lapor_model):
    """The top agency's own threshold where the held-out period had enough of it, else the global one."""
    assert 0.0 < lapor_model.review_threshold_ <= 1.0
    texts = TEXTS + ["jalan rusak", "jalanan rusak", "pelayanan di kantor lambat", "air sumur warga tercemar"]
    suggestions = lapor_model.suggest(texts)
    for s in suggestions:
        threshold = lapor_model.review_thresholds_.get(s.top, lapor_model.review_threshold_)
        if not s.warnings:
            assert s.needs_review == (s.confidence < threshold), (s.confidence, threshold)
    assert any(s.needs_review and not s.warnings for s in suggestions), "no low-confidence example"
    # where the held-out period vouched for an agency, a sure enough suggestion skips review
    vouched = [s for s in suggestions if not s.warnings and lapor_model.review_thresholds_.get(s.top, 1.0) < 1.0]
    assert all(s.needs_review == (s.confidence < lapor_model.review_thresholds_[s.top]) for s in vouched)


def test_a_model_whose_held_out_period_vouches_auto_suggests(demo_model):
    """The demo complaints are regular: their held-out period vouches for thresholds below 1."""
    assert demo_model.review_threshold_ < 1.0
    suggestions = demo_model.suggest(
        ["e-KTP saya sudah 3 bulan belum jadi, kata petugas blanko habis", "sampah menumpuk tidak diangkut"]
    )
    assert any(not s.needs_review for s in suggestions)


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n"])
def test_empty_text_is_refused(lapor_model, text):
    with pytest.raises(ComplaintTextError) as info:
        lapor_model.suggest([text])
    assert info.value.code == "empty_text"


def test_missing_text_is_refused(lapor_model):
    with pytest.raises(ComplaintTextError) as info:
        lapor_model.suggest([None])
    assert info.value.code == "empty_text"


def test_one_megabyte_text_is_refused(lapor_model):
    text = ("jalan rusak " * 100_000)[:1_000_000]
    with pytest.raises(ComplaintTextError) as info:
        lapor_model.suggest([text])
    assert info.value.code == "text_too_long"
    assert "limit" in str(info.value)


@pytest.mark.parametrize("text", ["123 456 7890", "😀😀😀 🙏🙏", "12345 😡 !!! ???", "a b"])
def test_numbers_or_emoji_need_review(lapor_model, text):
    (s,) = lapor_model.suggest([text])
    assert isinstance(s, Suggestion)
    assert s.needs_review is True
    assert "too_few_words" in s.warnings
    assert len(s.agencies) == 3


def test_english_text_needs_review(lapor_model):
    (s,) = lapor_model.suggest(["The road near my house is broken and nobody fixes it, please help us quickly"])
    assert "not_indonesian" in s.warnings
    assert s.needs_review is True
    assert s.to_dict()["warnings"] == ["not_indonesian"]


def test_indonesian_text_has_no_warning(lapor_model):
    for s in lapor_model.suggest(TEXTS):
        assert s.warnings == ()


def test_preprocessor_inside_the_model_is_the_fitted_one(lapor_model):
    words = dict(lapor_model.classifier_.features_.transformer_list)["words"]
    pre = words.named_steps["preprocess"]
    assert isinstance(pre, ComplaintPreprocessor)
    assert pre.transform(["jalanan rusak"]) == pre.transform(["jalan rusak"])
