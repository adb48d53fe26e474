"""Fitting with other regions' decisions as function-labeled rows (issue 18 part 2): ``function_rows=`` of
``AgencyClassifier.fit`` / ``RoutingModel.fit`` teaches the shared vocabularies (under the vocabulary rule) and the
function model, never the registry's topic model; without it the fit is today's, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from routing_model import Registry, RoutingModel
from routing_model.model.fit.classifier import AgencyClassifier
from routing_model.model.fit.function_labels import FunctionLabels
from training.train import DEFAULT_CLASSIFIER_PARAMS

DEMO_CSV = Path(__file__).resolve().parents[2] / "data" / "demo" / "demo_complaints.csv"
DINSOS = "Dinas Sosial Kabupaten Bandung"
PUTR = "Dinas Pekerjaan Umum dan Tata Ruang Kab. Bandung"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False).sort_values("date", kind="stable")


def _clf(registry: Registry) -> AgencyClassifier:
    return AgencyClassifier(registry=registry, **DEFAULT_CLASSIFIER_PARAMS)


def _words(clf) -> set[str]:
    view = next(v for v in clf.views_ if v.name == "words")
    return set(view.terms.vocabulary_)


def _function_of(registry: Registry, agency: str) -> str:
    return registry.get(agency).functions[0]


def test_no_function_rows_fits_exactly_as_today(registry, demo):
    texts, labels = demo["text"].tolist(), demo["agency"].tolist()
    today = _clf(registry).fit(texts, labels)
    none = _clf(registry).fit(texts, labels, function_rows=None)
    empty = RoutingModel(registry, DEFAULT_CLASSIFIER_PARAMS).fit(
        texts, labels, demo["date"].tolist(), function_rows=FunctionLabels.of([], [], [])
    )
    plain = RoutingModel(registry, DEFAULT_CLASSIFIER_PARAMS).fit(texts, labels, demo["date"].tolist())
    for a, b in ((today, none), (plain.classifier_, empty.classifier_)):
        assert np.array_equal(a.function_model_.coef_, b.function_model_.coef_)
        assert np.array_equal(a.topic_model_.coef_, b.topic_model_.coef_)
        assert _words(a) == _words(b)
    probe = demo["text"].tolist()[:20]
    assert np.array_equal(plain.predict_proba(probe), empty.predict_proba(probe))


def test_function_rows_change_the_function_model_and_not_the_topic_model(registry, demo):
    texts, labels = demo["text"].tolist(), demo["agency"].tolist()
    # the rows name texts the fit already reads: the vocabularies and idf stay as they are, so the topic model's
    # inputs are the same and only the function model learns more (every complaint also "is" social aid)
    rows = FunctionLabels.of(texts, [_function_of(registry, DINSOS)] * len(texts), [3.0] * len(texts))
    plain = _clf(registry).fit(texts, labels)
    taught = _clf(registry).fit(texts, labels, function_rows=rows)
    assert _words(plain) == _words(taught)
    assert np.array_equal(plain.topic_model_.coef_, taught.topic_model_.coef_)
    assert np.array_equal(plain.topic_model_.intercept_, taught.topic_model_.intercept_)
    assert list(plain.topic_model_.classes_) == list(taught.topic_model_.classes_)
    assert not np.array_equal(plain.function_model_.coef_, taught.function_model_.coef_)
    road = ["Jalan desa rusak berlubang dan tergenang, mohon diperbaiki"]
    social = list(plain.function_codes_).index(_function_of(registry, DINSOS))
    assert taught.analyse(road)[0][1][0, social] > plain.analyse(road)[0][1][0, social]  # function logits


def test_other_regions_texts_enter_the_vocabulary_only_under_the_rule(registry, demo):
    texts, labels = demo["text"].tolist()[:120], demo["agency"].tolist()[:120]
    road, social = _function_of(registry, PUTR), _function_of(registry, DINSOS)
    other = [
        "Jembatan gantung kampung kami ambruk, warga menyeberang sungai memakai rakit gorontalokuy",
        "Jalan kabupaten menuju pasar gorontalokuy rusak berat sejak musim hujan",
        # one complaint of an agency with two functions: two rows, one text: still one complaint
        "Bantuan sosial lansia zzqplonk belum cair padahal sudah terdaftar",
        "Nomor antrean ab12cd ab12cd ab12cd di kantor dinas tidak jelas",
        "Nomor antrean ab12cd di kantor kelurahan juga tidak jelas",
    ]
    rows = FunctionLabels.of(
        [other[0], other[1], other[2], other[2], other[3], other[4]],
        [road, road, social, road, social, social],
        [1.0, 1.0, 0.5, 0.5, 1.0, 1.0],
    )
    taught = _clf(registry).fit(texts, labels, function_rows=rows)
    plain = _clf(registry).fit(texts, labels)
    words = _words(taught)
    assert "gorontalokuy" in words and "gorontalokuy" not in _words(plain)  # two complaints use it
    assert not any("zzqplonk" in w for w in words)  # one complaint, however many rows it gives
    assert not any(ch.isdigit() for w in words for ch in w)  # never a digit
    # a function row on a text the fit labels itself is that one complaint, not a second one
    lone = "Lampu penerangan jalan umum mati total di gang quorvexa sejak sebulan"
    again = _clf(registry).fit(texts + [lone], labels + [PUTR], function_rows=FunctionLabels.of([lone], [road]))
    assert not any("quorvexa" in w for w in _words(again))


def test_a_held_out_fit_leaves_out_the_function_rows_of_held_out_texts():
    rows = FunctionLabels.of(["a", "b", "x", "x", "y"], ["1", "2", "3", "4", "5"], [1, 1, 0.5, 0.5, 1])
    placed = rows.placed(["a", "b", "c"])  # "a" and "b" are labeled complaints too; x, y are read after them
    assert placed.extra_texts == ("x", "y") and placed.rows.tolist() == [0, 1, 3, 3, 4]
    kept = placed.within(np.array([1, 3, 4]))  # "a" (row 0) is held out
    assert kept.rows.tolist() == [0, 1, 1, 2] and kept.functions == ("2", "3", "4", "5")
    assert kept.weights.tolist() == [1.0, 0.5, 0.5, 1.0]
    with pytest.raises(ValueError, match="2 texts, 1 functions"):
        FunctionLabels.of(["a", "b"], ["1"])


def test_routing_model_fit_with_function_rows_calibrates_and_suggests(registry, demo):
    texts, labels, dates = demo["text"].tolist(), demo["agency"].tolist(), demo["date"].tolist()
    social = _function_of(registry, DINSOS)
    rows = FunctionLabels.of(
        ["Bantuan PKH keluarga miskin belum diterima", "Warga miskin tidak terdaftar DTKS bansos"], [social, social]
    )
    model = RoutingModel(registry, DEFAULT_CLASSIFIER_PARAMS).fit(texts, labels, dates, function_rows=rows)
    assert model.calibration_["holdout_rows"] > 0 and sorted(model.label_counts_) == sorted(set(labels))
    assert model.suggest(["Bansos PKH keluarga miskin belum cair sejak tiga bulan"])[0].agencies[0][0] == DINSOS


def test_the_gate_drops_slice_rows_the_champion_saw_through_its_base():
    from training.fingerprints import fingerprints, pack
    from training.learning.promotion import fair_rows

    texts = [f"keluhan nomor {chr(97 + i)} tentang jalan rusak" for i in range(6)]
    prints = fingerprints(texts)
    comparison = {
        "slice": {"fingerprints": "".join(prints)},
        "champion": {"seen_through_base": pack(prints[:2])},  # other regions' decisions its base learnt
        "challenger": {"training_fingerprints": pack(prints[5:])},
    }
    keep, counts = fair_rows(comparison, {"training_fingerprints": pack(["0" * 16])})  # its own rows: none here
    assert keep.tolist() == [False, False, True, True, True, False]
    assert counts == {"slice": 6, "seen_by_champion": 2, "seen_by_challenger": 1, "fair": 3}
