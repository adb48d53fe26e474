"""The real `disposisi` console script: train, classify, evaluate, and its refusals."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest
from model_helpers import DEMO_CSV, DISPOSISI, run_cli

from routing_model.artifact import persistence


def test_console_script_is_installed():
    assert DISPOSISI.is_file()
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("train", "evaluate", "classify"):
        assert command in proc.stdout


@pytest.mark.slow
def test_train_on_lapor_xlsx_export_as_is(lapor_xlsx_training, lapor_frame):
    proc, out = lapor_xlsx_training
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / "model.skops").is_file() and (out / "card.json").is_file()
    card = json.loads((out / "card.json").read_text(encoding="utf-8"))
    report = card["training_data"]["report"]
    assert report["rows_read"] == len(lapor_frame) == 580
    assert report["skipped"]["no_label"] == int((lapor_frame["agency"].str.strip() == "").sum())
    assert report["unknown_labels"] == {}
    assert card["training_data"]["rows"] == report["rows_used"] > 400
    assert f"rows read {report['rows_read']}" in proc.stdout
    assert persistence.load(out).version == card["version"]


def test_train_on_csv_without_label_column(tmp_path):
    data = tmp_path / "no_label.csv"
    pd.DataFrame({"id": ["1", "2"], "isi": ["jalan rusak parah", "sampah menumpuk"], "instansi": ["a", "b"]}).to_csv(
        data, index=False
    )
    proc = run_cli("train", "--data", data, "--out", tmp_path / "model", "--text-column", "isi")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "agency" in proc.stderr  # the missing column
    for column in ("id", "isi", "instansi"):
        assert column in proc.stderr, proc.stderr  # the available ones
    assert not (tmp_path / "model").exists()


def test_train_on_csv_without_text_column(tmp_path):
    data = tmp_path / "no_text.csv"
    pd.DataFrame({"laporan": ["jalan rusak parah"], "agency": ["Dinas Sosial Kabupaten Bandung"]}).to_csv(
        data, index=False
    )
    proc = run_cli("train", "--data", data, "--out", tmp_path / "model")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "text" in proc.stderr and "laporan" in proc.stderr


def test_train_on_xlsx_that_is_not_a_lapor_export(tmp_path):
    data = tmp_path / "rekap.xlsx"
    pd.DataFrame({"Nomor": [1, 2], "Keluhan": ["jalan rusak", "sampah"], "Dinas": ["PUTR", "DLH"]}).to_excel(
        data, index=False
    )
    proc = run_cli("train", "--data", data, "--out", tmp_path / "model")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "not a SP4N-LAPOR!" in proc.stderr
    assert "Tracking ID" in proc.stderr  # says what it looked for


def test_train_on_missing_file(tmp_path):
    proc = run_cli("train", "--data", tmp_path / "nope.csv", "--out", tmp_path / "model")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "not found" in proc.stderr


def test_classify_keeps_every_column_and_accounts_for_every_row(demo_model_dir, tmp_path):
    """Every input column is kept and agency_i/score_i/needs_review/model_version are added.

    The empty-text row cannot be classified; since the backlog issue (4) it goes, with its row
    number and reason, to ``<output>.rejects.csv``: rows in == rows out + rows rejected.
    """
    rows = [
        {"id": "A1", "kanal": "web", "text": "Jalan di depan SD Desa Jelekong rusak parah, banyak lubang"},
        {"id": "A2", "kanal": "sms", "text": ""},
        {"id": "A3", "kanal": "web", "text": "e-KTP saya sudah 3 bulan blm jadi, tolong"},
        {"id": "A4", "kanal": "app", "text": "123 456"},
    ]
    data = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    out = tmp_path / "out.csv"
    proc = run_cli("classify", "--model", demo_model_dir, "--input", data, "--output", out, "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    with open(out, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames
        result = list(reader)
    expected_new = [
        "agency_1",
        "score_1",
        "agency_2",
        "score_2",
        "agency_3",
        "score_3",
        "needs_review",
        "outside_region",
        "model_version",
    ]
    assert header == ["id", "kanal", "text"] + expected_new

    rejects_path = tmp_path / "out.csv.rejects.csv"
    rejects = pd.read_csv(rejects_path, dtype=str, keep_default_na=False) if rejects_path.exists() else pd.DataFrame()
    empty_in_output = [r for r in result if r["id"] == "A2"]
    if empty_in_output:  # kept in the output, flagged for a human
        assert empty_in_output[0]["needs_review"] == "true" and empty_in_output[0]["agency_1"] == ""
    else:  # or reported as rejected, with its row number and reason
        assert len(rejects) == 1
        assert rejects.iloc[0]["id"] == "A2" and rejects.iloc[0]["reason"] == "empty_text"
        assert rejects.iloc[0]["row"] == "3"
    assert len(result) + len(rejects) == len(rows), "a row was lost"
    assert [r["id"] for r in result] == [r["id"] for r in rows if r["id"] != "A2" or empty_in_output]

    card = json.loads((demo_model_dir / "card.json").read_text(encoding="utf-8"))
    by_id = {r["id"]: r for r in result}
    for given in rows:
        if given["id"] not in by_id:
            continue
        got = by_id[given["id"]]
        for column in ("id", "kanal", "text"):
            assert got[column] == given[column]
        assert got["model_version"] == card["version"]
        assert got["needs_review"] in ("true", "false")
    for got in (by_id["A1"], by_id["A3"]):
        assert got["agency_1"] and got["agency_2"] and got["agency_3"]
        scores = [float(got[f"score_{i}"]) for i in (1, 2, 3)]
        assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0001
    assert by_id["A3"]["agency_1"] == "Dinas Kependudukan dan Pencatatan Sipil Kabupaten Bandung"
    assert by_id["A4"]["needs_review"] == "true"  # too few words


def test_classify_with_k_1(demo_model_dir, tmp_path):
    data = tmp_path / "in.csv"
    pd.read_csv(DEMO_CSV, dtype=str).head(5)[["id", "text"]].to_csv(data, index=False)
    out = tmp_path / "out.csv"
    proc = run_cli("classify", "--model", demo_model_dir, "--input", data, "--output", out, "--k", "1", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    result = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(result.columns) == [
        "id",
        "text",
        "agency_1",
        "score_1",
        "needs_review",
        "outside_region",
        "model_version",
    ]
    assert len(result) == 5


def test_classify_with_broken_model_dir_fails_cleanly(tmp_path):
    (tmp_path / "model").mkdir()
    data = tmp_path / "in.csv"
    pd.DataFrame({"text": ["jalan rusak parah"]}).to_csv(data, index=False)
    proc = run_cli("classify", "--model", tmp_path / "model", "--input", data, "--output", tmp_path / "out.csv")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "card.json" in proc.stderr


@pytest.mark.slow
def test_evaluate_json_on_a_slice(tmp_path, lapor_frame):
    # a small slice of the real data: 2022-Q3/Q4 (train) vs 2023-Q1 (test), to keep the run short
    frame = lapor_frame[(lapor_frame["date"] >= "2022-07-01") & (lapor_frame["date"] < "2023-04-01")]
    data = tmp_path / "slice.csv"
    frame.to_csv(data, index=False)
    proc = run_cli("evaluate", "--data", data, "--split", "temporal", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    result = json.loads(proc.stdout)
    for key in (
        "n_train",
        "n_test",
        "top1",
        "top3",
        "macro_f1",
        "ece",
        "coverage_at_precision_90",
        "per_agency",
        "reference",
    ):
        assert key in result, key
    assert result["split"] == "temporal" and result["test_from"] == "2023-01-01"
    used = result["data_report"]["rows_used"]
    assert result["n_train"] > 0 and result["n_test"] > 0
    assert result["n_train"] + result["n_test"] == used
    for figures in (result, result["reference"]):
        for key in ("top1", "top3", "macro_f1", "ece", "coverage_at_precision_90"):
            assert 0.0 <= figures[key] <= 1.0, (key, figures[key])
        assert figures["top1"] <= figures["top3"]
        assert figures["per_agency"]
        for agency, m in figures["per_agency"].items():
            assert {"precision", "recall", "support"} <= set(m), agency
    support = sum(m["support"] for m in result["per_agency"].values())
    assert support == result["n_test"]
    assert result["gain"]["top1"] == pytest.approx(result["top1"] - result["reference"]["top1"])
