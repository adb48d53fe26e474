"""promote / rollback: the bootstrap gate, the atomic pointers, the log, and refusals that change nothing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from learning_helpers import REGISTRY_CSV, run_cli, tree_snapshot

from routing_model.artifact.persistence import read_card, write_card
from routing_model.artifact.store import current_model_dir
from training.learning.promotion import MAX_P_WORSE, gate, paired_bootstrap


def _comparison(champ1, chall1, champ3=None, chall3=None) -> dict:
    bits = lambda v: "".join(str(int(x)) for x in v)  # noqa: E731
    return {
        "per_row": {
            "champion_top1": bits(champ1),
            "challenger_top1": bits(chall1),
            "champion_top3": bits(champ1 if champ3 is None else champ3),
            "challenger_top3": bits(chall1 if chall3 is None else chall3),
        }
    }


def test_paired_bootstrap_figures():
    same = paired_bootstrap([1, 0, 1, 1], [1, 0, 1, 1])
    assert same["diff"] == 0 and same["p_worse"] == 0 and same["ci95"] == [0.0, 0.0]
    a = paired_bootstrap([1] * 50 + [0] * 50, [1] * 40 + [0] * 60)
    assert a["diff"] == pytest.approx(-0.10) and a["p_worse"] > 0.99 and a["ci95"][1] < 0
    assert paired_bootstrap([1, 0] * 30, [0, 1] * 30, seed=0) == paired_bootstrap([1, 0] * 30, [0, 1] * 30, seed=0)


def test_gate_rule():
    rng = np.random.default_rng(1)
    champ = rng.random(120) < 0.6
    assert gate(_comparison(champ, champ))["ok"]
    # one row worse out of 120: noise, accepted
    slightly = champ.copy()
    slightly[np.argmax(champ)] = False
    assert gate(_comparison(champ, slightly))["ok"]
    # ten points worse on top-1: refused, and the message says which metric
    worse = champ.copy()
    worse[np.flatnonzero(champ)[:12]] = False
    decision = gate(_comparison(champ, worse))
    assert not decision["ok"] and "top1" in decision["why"] and decision["metrics"]["top1"]["p_worse"] > MAX_P_WORSE
    # better on top-1 but clearly worse on top-3: refused
    better1 = champ | (rng.random(120) < 0.3)
    champ3 = np.ones(120, bool)
    chall3 = champ3.copy()
    chall3[:15] = False
    assert not gate(_comparison(champ, better1, champ3, chall3))["ok"]


def _log(models_dir) -> list[dict]:
    return [json.loads(line) for line in (models_dir / "promotions.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_promote_rollback_flow(tmp_path, base_model_dir, retrained):
    _, challenger = retrained
    models = tmp_path / "models"
    base_version = read_card(base_model_dir)["version"]
    new_version = read_card(challenger)["version"]

    first = run_cli("promote", base_model_dir, "--models-dir", models, "--by", "tester")
    assert first.returncode == 0, first.stderr
    assert current_model_dir(models).name == base_version and (models / base_version / "card.json").is_file()
    assert base_model_dir.is_dir()  # copied, not moved

    second = run_cli("promote", challenger, "--models-dir", models, "--by", "tester", "--progress-every", "0")
    assert second.returncode == 0, second.stdout + second.stderr
    # not a terminal: a plain progress line per stage (load, gate, copy, switch) on stderr
    steps = [line.split(" steps of ~")[0] for line in second.stderr.splitlines() if line.startswith("promote: ")]
    assert steps == [f"promote: {i}" for i in range(1, 5)], second.stderr
    assert "promote: 4 steps of ~4 (100%)" in second.stderr
    assert current_model_dir(models).name == new_version
    assert (models / "previous").resolve().name == base_version
    entries = _log(models)
    assert [e["event"] for e in entries] == ["promote", "promote"]
    assert entries[1]["by"] == "tester" and entries[1]["previous"] == base_version and not entries[1]["forced"]
    assert set(entries[1]["figures"]["bootstrap"]) == {"top1", "top3"}
    assert entries[1]["figures"]["champion"]["version"] == base_version

    again = run_cli("promote", challenger, "--models-dir", models)
    assert again.returncode == 2 and "already the current model" in again.stderr

    back = run_cli("rollback", "--models-dir", models, "--by", "tester")
    assert back.returncode == 0, back.stderr
    assert current_model_dir(models).name == base_version and (models / "previous").resolve().name == new_version
    assert _log(models)[-1]["event"] == "rollback"
    # a rollback of the rollback restores the challenger
    assert run_cli("rollback", "--models-dir", models).returncode == 0
    assert current_model_dir(models).name == new_version


@pytest.mark.slow
def test_promote_copies_the_model_only(tmp_path, base_model_dir):
    """Files beside the model in its directory (e.g. an old retrain's training_data.csv) stay behind."""
    src = tmp_path / "src"
    shutil.copytree(base_model_dir, src)
    (src / "training_data.csv").write_text("text,agency\nSaya Budi Santoso NIK 3204123456789012,X\n", encoding="utf-8")
    models = tmp_path / "models"
    proc = run_cli("promote", src, "--models-dir", models, "--by", "tester")
    assert proc.returncode == 0, proc.stderr
    served = current_model_dir(models)
    assert sorted(p.name for p in served.iterdir()) == ["card.json", "card.sha256", "model.skops", "served.npz"]


@pytest.mark.slow
def test_worse_model_refused_unless_forced(tmp_path, base_model_dir, retrained):
    _, challenger = retrained
    models = tmp_path / "models"
    assert run_cli("promote", base_model_dir, "--models-dir", models).returncode == 0
    # the same challenger, but its recorded comparison says it lost 40% of the rows it got right
    worse = tmp_path / "worse"
    shutil.copytree(challenger, worse)
    card = json.loads((worse / "card.json").read_text())
    per_row = card["champion_challenger"]["per_row"]
    champ = per_row["champion_top1"]
    per_row["challenger_top1"] = "".join("0" if c == "1" and i % 5 < 2 else c for i, c in enumerate(champ))
    per_row["challenger_top3"] = per_row["champion_top3"] = "1" * len(champ)
    card["version"] = card["version"] + "-worse"
    write_card(worse, card)  # re-sealed, as a model saved with these figures would be
    before = tree_snapshot(models)

    refused = run_cli("promote", worse, "--models-dir", models, "--progress-every", "0")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "refused" in refused.stderr and "top1" in refused.stderr and "Traceback" not in refused.stderr
    assert (
        "promote: 2 steps of ~4" in refused.stderr and "promote: 3 steps" not in refused.stderr
    )  # stopped at the gate
    assert tree_snapshot(models) == before

    no_reason = run_cli("promote", worse, "--models-dir", models, "--force")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    assert tree_snapshot(models) == before

    forced = run_cli(
        "promote", worse, "--models-dir", models, "--force", "--reason", "minister's demo", "--by", "kabid"
    )
    assert forced.returncode == 0, forced.stderr
    assert current_model_dir(models).name == card["version"]
    last = _log(models)[-1]
    assert last["forced"] and last["reason"] == "minister's demo" and last["by"] == "kabid"


@pytest.mark.slow
def test_model_compared_with_another_champion_refused(tmp_path, base_model_dir, retrained):
    _, challenger = retrained
    models = tmp_path / "models"
    other = tmp_path / "other"
    shutil.copytree(base_model_dir, other)
    card = json.loads((other / "card.json").read_text())
    card["version"] = "20200101T000000Z-other"
    write_card(other, card)
    assert run_cli("promote", other, "--models-dir", models).returncode == 0
    before = tree_snapshot(models)
    proc = run_cli("promote", challenger, "--models-dir", models)
    assert proc.returncode == 2 and "retrain it against the current model" in proc.stderr
    assert tree_snapshot(models) == before


@pytest.mark.slow
def test_not_a_model_refused(tmp_path, base_model_dir):
    models = tmp_path / "models"
    assert run_cli("promote", base_model_dir, "--models-dir", models).returncode == 0
    before = tree_snapshot(models)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a model")
    proc = run_cli("promote", junk, "--models-dir", models)
    assert proc.returncode == 2 and "card.json is missing" in proc.stderr and "Traceback" not in proc.stderr
    # a model whose file was tampered with is not a model either
    tampered = tmp_path / "tampered"
    shutil.copytree(base_model_dir, tampered)
    with open(tampered / "model.skops", "ab") as fh:
        fh.write(b"x")
    proc = run_cli("promote", tampered, "--models-dir", models)
    assert proc.returncode == 2 and "does not match its card" in proc.stderr
    assert tree_snapshot(models) == before


@pytest.mark.slow
def test_label_set_unknown_to_registry_refused(tmp_path, base_model_dir):
    lines = REGISTRY_CSV.read_text(encoding="utf-8").splitlines()
    reduced = tmp_path / "registry.csv"
    reduced.write_text(
        "\n".join(line for line in lines if not line.startswith("Dinas Sosial Kabupaten Bandung,")) + "\n",
        encoding="utf-8",
    )
    assert len(reduced.read_text().splitlines()) == len(lines) - 1
    models = tmp_path / "models"
    proc = run_cli("promote", base_model_dir, "--models-dir", models, "--registry", reduced)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "label set" in proc.stderr and "Dinas Sosial Kabupaten Bandung" in proc.stderr
    assert not models.exists()


@pytest.mark.slow
def test_rollback_without_previous_refused(tmp_path, base_model_dir):
    models = tmp_path / "models"
    assert run_cli("promote", base_model_dir, "--models-dir", models).returncode == 0
    before = tree_snapshot(models)
    proc = run_cli("rollback", "--models-dir", models)
    assert proc.returncode == 2 and "no previous model" in proc.stderr
    assert tree_snapshot(models) == before
