"""retrain: data sources combined, champion vs challenger recorded, new agencies learnt, reproducible."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from learning_helpers import DINSOS, PERIKANAN, PERIKANAN_QUERY, demo, run_cli, tree_snapshot

from routing_model.artifact import persistence
from routing_model.artifact.persistence import read_card, write_card
from training.learning.retrain import default_training_data_path, retrain, training_data_path

pytestmark = pytest.mark.slow


def test_retrain_card_records_both_figures_and_parent(retrained, base_model_dir):
    proc, out = retrained
    card = read_card(out)
    base = read_card(base_model_dir)
    assert card["parent"]["version"] == base["version"]
    cc = card["champion_challenger"]
    assert cc["champion"]["version"] == base["version"]
    for side in ("champion", "challenger"):
        assert 0 <= cc[side]["top1"] <= cc[side]["top3"] <= 1
    n = cc["slice"]["n"]
    assert n >= 5 and all(len(bits) == n for bits in cc["per_row"].values())
    assert cc["challenger"]["n_train"] + n == card["training_data"]["rows"]
    assert "champion" in proc.stdout and "challenger" in proc.stdout
    # every source contributed, and feedback was read with its semantics
    sources = card["training_data"]["sources"]
    assert sources["base"] > 0 and sources["data:new.csv"] > 0 and sources["feedback"] > 0
    fb = card["training_data"]["feedback"]
    assert fb["counts"]["confidential_no_text"] == 1 and fb["conflicts"] == 1 and fb["negatives"] == 1
    # the next retrain can re-read what this one trained on
    table = pd.read_csv(training_data_path(card, out), dtype=str, keep_default_na=False)
    assert len(table) == card["training_data"]["rows"]
    assert not ((table["text"].str.startswith(PERIKANAN_QUERY[:30])) & (table["agency"] == DINSOS)).any()


def test_no_training_texts_in_the_model_directory(retrained):
    """The training set is kept beside the model, masked; the model directory holds the model only."""
    _, out = retrained
    card = read_card(out)
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "card.sha256", "model.skops", "served.npz"]
    kept = training_data_path(card, out)
    assert kept == default_training_data_path(out).resolve() and not kept.is_relative_to(out.resolve())
    table = pd.read_csv(kept, dtype=str, keep_default_na=False)
    joined = " ".join(table["text"])
    # the demo base data holds a phone number and an e-mail address: kept only as placeholders
    assert "0812-0000-0000" not in joined and "warga@example.com" not in joined
    assert "xteleponx" in joined and "xemailx" in joined


def test_training_data_inside_the_model_directory_is_refused(tmp_path, base_model_dir, datasets):
    out = tmp_path / "new"
    proc = run_cli(
        "retrain",
        "--model",
        base_model_dir,
        "--out",
        out,
        "--data",
        datasets["new"],
        "--training-data",
        out / "training_data.csv",
    )
    assert proc.returncode == 2 and "inside the model directory" in proc.stderr, proc.stderr
    assert not out.exists()


def test_agency_only_in_new_data_becomes_predictable(retrained, base_model_dir):
    _, out = retrained
    champion, challenger = persistence.load(base_model_dir), persistence.load(out)
    assert PERIKANAN not in champion.label_counts_
    assert challenger.label_counts_[PERIKANAN] == 8
    suggestion = challenger.suggest([PERIKANAN_QUERY])[0]
    assert suggestion.top == PERIKANAN
    col_old, col_new = list(champion.classes_).index(PERIKANAN), list(challenger.classes_).index(PERIKANAN)
    assert (
        challenger.predict_proba([PERIKANAN_QUERY])[0, col_new] > champion.predict_proba([PERIKANAN_QUERY])[0, col_old]
    )


def test_retrain_is_reproducible(retrained, base_model_dir, datasets, tmp_path):
    _, out = retrained
    again = tmp_path / "again"
    card = retrain(base_model_dir, again, [datasets["new"]], str(datasets["feedback"]), seed=0, log=lambda *_: None)
    first = read_card(out)
    assert card["champion_challenger"]["per_row"] == first["champion_challenger"]["per_row"]
    assert card["training_data"]["rows_sha256"] == first["training_data"]["rows_sha256"]
    texts = demo()["text"].tolist()[::4]
    a, b = persistence.load(out), persistence.load(again)
    assert list(a.classes_) == list(b.classes_)
    np.testing.assert_array_equal(a.predict_proba(texts), b.predict_proba(texts))
    assert a.review_threshold_ == b.review_threshold_


def test_missing_training_data_is_a_clear_error(tmp_path, base_model_dir, datasets):
    model = tmp_path / "model"
    shutil.copytree(base_model_dir, model)
    card = json.loads((model / "card.json").read_text())
    card["training_data"]["path"] = str(tmp_path / "gone.csv")
    write_card(model, card)
    proc = run_cli("retrain", "--model", model, "--out", tmp_path / "new", "--data", datasets["new"])
    assert proc.returncode == 2 and "gone.csv" in proc.stderr and "is missing" in proc.stderr
    assert not (tmp_path / "new").exists()


def test_bad_inputs_change_nothing(tmp_path, base_model_dir, datasets):
    """Each bad input: exit code 2, a message naming the problem, no traceback, nothing written."""
    out = tmp_path / "new"
    before = tree_snapshot(tmp_path)

    fb = pd.read_csv(datasets["feedback"], dtype=str, keep_default_na=False)
    unknown = tmp_path / "unknown.csv"
    fb.assign(chosen_agency=lambda f: f["chosen_agency"].where(f.index != 2, "Dinas Urusan Naga")).to_csv(
        unknown, index=False
    )
    missing = tmp_path / "missing.csv"
    fb.drop(columns=["action"]).to_csv(missing, index=False)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header_only.csv"
    header_only.write_text("id,date,text,agency\n")
    before = tree_snapshot(tmp_path)

    cases = [
        (["--feedback", unknown], "Dinas Urusan Naga"),
        (["--feedback", missing], "missing column(s) action"),
        (["--data", empty], "empty"),
        (["--data", header_only], "has no rows"),
    ]
    for extra, message in cases:
        proc = run_cli("retrain", "--model", base_model_dir, "--out", out, *extra)
        assert proc.returncode == 2, (extra, proc.stdout, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert not out.exists()
        assert tree_snapshot(tmp_path) == before

    not_a_model = run_cli("retrain", "--model", tmp_path, "--out", out, "--data", datasets["new"])
    assert not_a_model.returncode == 2 and "not a Disposisi model directory" in not_a_model.stderr
    assert tree_snapshot(tmp_path) == before
