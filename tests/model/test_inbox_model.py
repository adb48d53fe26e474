"""A model for an inbox: instances suggested by the places and functions a complaint names, zero labels."""

from __future__ import annotations

import csv
import json

import pytest
from model_helpers import run_cli

from routing_model import RoutingModel
from routing_model.artifact import persistence
from routing_model.registry.inbox import build_inbox_registry
from training.adapt import adapt_model


@pytest.fixture(scope="module")
def jateng(demo_model) -> RoutingModel:
    return adapt_model(demo_model, build_inbox_registry("Jawa Tengah").registry)


def _first(model: RoutingModel, text: str):
    s = model.suggest([text])[0]
    return s.agencies[0][0], s


def test_a_region_is_suggested_by_the_place_named_with_the_place_words(jateng):
    name, s = _first(jateng, "Jalan di Kecamatan Tembalang Kota Semarang berlubang dan belum diperbaiki")
    assert name == "Pemerintah Kota Semarang"
    assert "kecamatan tembalang" in s.reasons
    assert s.outside_region is None and s.needs_review  # zero labels: every suggestion is reviewed


def test_kabupaten_and_kota_of_one_name_follow_the_kecamatan(jateng):
    kab, s = _first(jateng, "Pelayanan KTP di kantor Kecamatan Ungaran Barat Semarang sangat lambat")
    assert kab == "Pemerintah Kabupaten Semarang" and "kecamatan ungaran barat" in s.reasons
    kota, _ = _first(jateng, "Sampah menumpuk di Kecamatan Pedurungan Kabupaten Semarang tidak diangkut")
    assert kota == "Pemerintah Kota Semarang"  # Pedurungan is the Kota's, whatever "kabupaten" says
    neither = jateng.suggest(["Sampah menumpuk di pinggir jalan Semarang tidak diangkut"])[0].agencies
    scores = dict(neither)
    assert scores["Pemerintah Kota Semarang"] == pytest.approx(scores["Pemerintah Kabupaten Semarang"])


@pytest.mark.parametrize(
    "text, body, word",
    [
        ("Listrik padam setiap malam di kampung kami dan tegangan turun naik", "PT PLN (Persero)", "listrik"),
        ("Kartu BPJS Kesehatan saya nonaktif padahal iuran dibayar", "BPJS Kesehatan", "bpjs kesehatan"),
        ("Sertifikat tanah PTSL kami belum terbit setelah pengukuran setahun lalu", None, "sertifikat"),
    ],
)
def test_a_national_body_is_suggested_by_its_function_and_name(jateng, text, body, word):
    name, s = _first(jateng, text)
    assert name == (body or "Kementerian Agraria dan Tata Ruang/Badan Pertanahan Nasional")
    assert any(word in reason for reason in s.reasons), s.reasons


def test_saved_inbox_model_predicts_the_same_from_its_served_form(jateng, tmp_path):
    persistence.save(jateng, tmp_path / "inbox")
    served = persistence.load_served(tmp_path / "inbox")
    texts = ["banjir di kecamatan pekalongan utara", "token listrik tidak masuk ke meteran"]
    assert [s.agencies for s in served.suggest(texts)] == [s.agencies for s in jateng.suggest(texts)]


@pytest.mark.slow
def test_adapt_and_classify_with_an_inbox_registry(demo_model_dir, tmp_path):
    registry = tmp_path / "jateng.csv"
    assert run_cli("registry", "init", "--inbox-province", "Jawa Tengah", "--out", registry).returncode == 0
    model = tmp_path / "inbox_model"
    proc = run_cli("adapt", "--model", demo_model_dir, "--registry", registry, "--out", model)
    assert proc.returncode == 0, proc.stderr
    assert "for the inbox of Jawa Tengah" in proc.stdout
    card = json.loads((model / "card.json").read_text(encoding="utf-8"))
    assert card["inbox"] == {"scope": "Jawa Tengah", "governments": 36, "national_bodies": 67}
    assert card["region"] is None
    backlog = tmp_path / "backlog.csv"
    backlog.write_text(
        "id,text\n1,Jalan di Kecamatan Tembalang Kota Semarang rusak parah dan berlubang\n"
        "2,Pencairan JHT saya di BPJS Ketenagakerjaan belum cair sudah dua bulan\n",
        encoding="utf-8",
    )
    out = tmp_path / "suggestions.csv"
    proc = run_cli("classify", "--model", model, "--input", backlog, "--output", out)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["agency_1"] for r in rows] == ["Pemerintah Kota Semarang", "BPJS Ketenagakerjaan"]
    assert all(r["outside_region"] == "" for r in rows)


def test_national_bodies_are_named_by_three_letters_regional_agencies_are_not(jateng, demo_model):
    text = "Saya diteror debt collector, mohon OJK dan BPN menindak"
    assert jateng.classifier_.mentions_.spans(text) == [("ojk", "Otoritas Jasa Keuangan"), ("bpn", _BPN)]
    regional = [phrase for phrase in demo_model.classifier_.mentions_.phrases if len(phrase) < 4]
    assert regional == []


_BPN = "Kementerian Agraria dan Tata Ruang/Badan Pertanahan Nasional"
