"""Fair promotion: champion and challenger are compared only on rows neither trained on."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from learning_helpers import run_cli

from routing_model.artifact.persistence import read_card, write_card
from routing_model.artifact.store import current_model_dir
from training.fingerprints import HEX_CHARS, fingerprint, fingerprints, pack, split, unpack
from training.learning.promotion import MIN_FAIR_ROWS, gate


def test_fingerprint_ignores_case_spacing_and_personal_data_only():
    a = fingerprint("Jalan rusak di Desa Jelekong, hubungi 081234567890")
    assert a == fingerprint("jalan  rusak di desa   jelekong, hubungi 089876543210")
    assert a != fingerprint("Jalan rusak di Desa Sukamaju, hubungi 081234567890")
    assert len(a) == HEX_CHARS and int(a, 16) >= 0
    block = pack(fingerprints(["satu", "dua", "satu", None]))
    assert block["n"] == 2 and unpack(block) == {fingerprint("satu"), fingerprint("dua")}
    assert unpack({"method": "other", "hex": ""}) is None and unpack(None) is None
    with pytest.raises(ValueError):
        split("abc")


def _comparison(n: int, champion_seen: int, champ1, chall1, champ3=None, chall3=None, challenger_seen: int = 0) -> dict:
    """A comparison over n slice rows; the champion trained on the first `champion_seen`, the challenger on the last `challenger_seen`."""
    rows = [f"keluhan nomor {i} tentang jalan rusak" for i in range(n)]
    prints = fingerprints(rows)
    bits = lambda v: "".join(str(int(x)) for x in v)  # noqa: E731
    return {
        "slice": {"n": n, "from": "2023-07-01", "to": "2023-12-31", "fingerprints": "".join(prints)},
        "champion": {"version": "v1"},
        "challenger": {
            "training_fingerprints": pack(
                (prints[n - challenger_seen :] if challenger_seen else []) + fingerprints(["lama"])
            )
        },
        "per_row": {
            "champion_top1": bits(champ1),
            "challenger_top1": bits(chall1),
            "champion_top3": bits(champ1 if champ3 is None else champ3),
            "challenger_top3": bits(chall1 if chall3 is None else chall3),
            "dates": [f"2023-{7 + i * 6 // n:02d}-{1 + i % 28:02d}" for i in range(n)],
        },
    }, {"training_fingerprints": pack(prints[:champion_seen] + fingerprints(["lama", "lebih lama"]))}


def test_rows_the_champion_trained_on_do_not_count():
    # the champion is perfect on the 40 rows it trained on; on the 80 rows nobody saw, both are equal
    rng = np.random.default_rng(0)
    unseen = rng.random(80) < 0.6
    champ = np.r_[np.ones(40, bool), unseen]
    chall = np.r_[np.zeros(40, bool), unseen]
    comparison, champion_card = _comparison(120, 40, champ, chall)
    unfair = gate({k: v for k, v in comparison.items() if k != "slice"} | {"slice": {"n": 120}})  # the old, unfair gate
    assert not unfair["ok"]
    fair = gate(comparison, champion_card)
    assert fair["ok"] and fair["fair"], fair["why"]
    assert fair["counts"] == {"slice": 120, "seen_by_champion": 40, "seen_by_challenger": 0, "fair": 80}
    assert fair["metrics"]["top1"]["n"] == 80 and fair["metrics"]["top1"]["diff"] == 0


def test_rows_the_challenger_trained_on_do_not_count_either():
    champ = np.r_[np.ones(50, bool), np.zeros(30, bool)]  # wrong only where the challenger had the answer in training
    chall = np.ones(80, bool)
    comparison, champion_card = _comparison(80, 0, champ, chall, challenger_seen=30)
    decision = gate(comparison, champion_card)
    assert decision["counts"]["seen_by_challenger"] == 30 and decision["metrics"]["top1"]["n"] == 50
    assert decision["metrics"]["top1"]["diff"] == 0


def test_too_few_fair_rows_is_not_a_refusal_on_figures_but_says_what_to_do():
    # issue 12's case: the champion had seen 83 of the 96 comparison rows
    champ = np.ones(96, bool)
    chall = np.r_[np.zeros(83, bool), np.ones(13, bool)]
    comparison, champion_card = _comparison(96, 83, champ, chall)
    decision = gate(comparison, champion_card)
    assert not decision["ok"] and decision["fair"] is False and "metrics" not in decision
    why = decision["why"]
    assert "cannot compare the models fairly" in why and "96 rows" in why and "trained on 83" in why
    assert "leaving 13" in why and f"at least {MIN_FAIR_ROWS}" in why
    assert "Label more recent complaints" in why and "--force" in why


def test_refusal_names_both_models_figures_with_ci_the_slice_and_why():
    rng = np.random.default_rng(3)
    champ = rng.random(100) < 0.7
    chall = champ.copy()
    chall[np.flatnonzero(champ)[:20]] = False  # 20 points worse on top-1
    comparison, champion_card = _comparison(110, 10, np.r_[np.ones(10, bool), champ], np.r_[np.ones(10, bool), chall])
    decision = gate(comparison, champion_card)
    assert not decision["ok"] and decision["fair"]
    why = decision["why"]
    top1 = decision["metrics"]["top1"]
    assert why.startswith("worse than the current model beyond noise on top1")
    assert f"top1 current {top1['champion']:.3f} [" in why and f"vs new {top1['challenger']:.3f} [" in why
    assert "top3 current" in why and "P(worse)=" in why
    assert (
        "100 rows dated 2023-" in why
        and "neither model trained on" in why
        and "10 of the 110 slice rows excluded" in why
    )
    lo, hi = top1["champion_ci95"]
    assert lo < top1["champion"] < hi and top1["challenger_ci95"][1] < hi


@pytest.mark.slow
def test_cards_record_training_fingerprints(retrained, base_model_dir):
    _, challenger = retrained
    card = read_card(challenger)
    assert (
        card["training_fingerprints"]["n"] > 0
        and len(card["training_fingerprints"]["hex"]) == HEX_CHARS * card["training_fingerprints"]["n"]
    )
    cc = card["champion_challenger"]
    n = cc["slice"]["n"]
    assert (
        len(split(cc["slice"]["fingerprints"]))
        == n
        == len(cc["per_row"]["dates"])
        == len(cc["per_row"]["champion_top1"])
    )
    challenger_seen = unpack(cc["challenger"]["training_fingerprints"])
    assert challenger_seen and not challenger_seen & set(split(cc["slice"]["fingerprints"]))  # fitted without the slice
    # the base model's card predates fingerprints: retrain recorded the champion's set from its training data
    assert unpack(cc["champion"]["training_fingerprints"])
    assert not any(k in json.dumps(card) for k in ("Jelekong", "jelekong"))  # fingerprints, never texts


def test_train_writes_fingerprints(demo_model_dir):
    card = read_card(demo_model_dir)
    assert card["training_fingerprints"]["n"] >= 0.9 * card["training_data"]["rows"]


@pytest.mark.slow
def test_cli_does_not_judge_an_unfair_comparison_and_force_overrides(tmp_path, base_model_dir, retrained):
    _, challenger = retrained
    models = tmp_path / "models"
    assert run_cli("promote", base_model_dir, "--models-dir", models).returncode == 0
    # the same challenger, but its slice rows are rows the champion trained on (all but 5)
    unfair = tmp_path / "unfair"
    shutil.copytree(challenger, unfair)
    card = read_card(unfair)
    cc = card["champion_challenger"]
    n = cc["slice"]["n"]
    seen = sorted(unpack(cc["champion"]["training_fingerprints"]))
    assert len(seen) >= n
    cc["slice"]["fingerprints"] = "".join(seen[: n - 5] + fingerprints([f"baru {i}" for i in range(5)]))
    card["version"] += "-unfair"
    write_card(unfair, card)
    proc = run_cli("promote", unfair, "--models-dir", models)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        "cannot compare the models fairly" in proc.stderr
        and f"trained on {n - 5}" in proc.stderr
        and "leaving 5" in proc.stderr
    )
    assert "Traceback" not in proc.stderr
    forced = run_cli(
        "promote", unfair, "--models-dir", models, "--force", "--reason", "labels of this month are not in yet"
    )
    assert forced.returncode == 0, forced.stderr
    assert current_model_dir(models).name == card["version"]
    entry = json.loads((models / "promotions.jsonl").read_text().splitlines()[-1])
    assert entry["forced"] and entry["figures"]["rows"]["fair"] == 5


def test_comparison_without_rows_is_refused_not_a_crash():
    decision = gate({"per_row": {}})
    assert not decision["ok"] and "no usable per-row hits" in decision["why"]
