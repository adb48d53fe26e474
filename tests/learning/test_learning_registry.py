"""Registry changes: a renamed agency keeps its past complaints; a retired one is no longer suggested."""

from __future__ import annotations

import csv
import io

import pytest
from learning_helpers import CIWIDEY, DISHUB, DISHUB_NEW, REGISTRY_CSV, demo, run_cli

from routing_model import Registry
from routing_model.artifact import persistence
from routing_model.artifact.persistence import read_card
from training.labeled_data import prepare_labeled
from training.learning.retrain import retrain


def _registry_rows() -> list[dict]:
    return list(csv.DictReader(io.StringIO(REGISTRY_CSV.read_text(encoding="utf-8"))))


def _write(rows: list[dict], path) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return str(path)


def renamed_registry(path, how: str = "replaced_by", retire_ciwidey: bool = True) -> str:
    """Dishub renamed to "Dinas Transportasi" (old row retired + replaced_by, or old name as alias); Ciwidey retired."""
    rows = _registry_rows()
    out = []
    for row in rows:
        if row["name"] == DISHUB:
            new = dict(row, name=DISHUB_NEW, status="active", replaced_by="", aliases="Dinas Transportasi")
            if how == "replaced_by":
                out += [dict(row, status="retired", replaced_by=DISHUB_NEW), new]
            else:
                out.append(dict(new, aliases=";".join([DISHUB, row["aliases"], "Dinas Transportasi"]).strip(";")))
            continue
        if row["name"] == CIWIDEY and retire_ciwidey:
            row = dict(row, status="retired", replaced_by="")
        out.append(row)
    return _write(out, path)


@pytest.mark.parametrize("how", ["replaced_by", "alias"])
def test_renamed_agency_keeps_its_complaints(tmp_path, how):
    registry = Registry.load(renamed_registry(tmp_path / "registry.csv", how))
    frame = demo()
    data = prepare_labeled(frame, registry)
    n_dishub = int((frame["agency"] == DISHUB).sum())
    n_ciwidey = int((frame["agency"] == CIWIDEY).sum())
    assert n_dishub > 0 and n_ciwidey > 0
    assert data.labels.count(DISHUB_NEW) == n_dishub and DISHUB not in data.labels
    assert data.skipped["retired_agency"] == n_ciwidey and CIWIDEY not in data.labels
    assert len(data.frame) == len(frame) - n_ciwidey


@pytest.mark.slow
def test_retraining_after_rename_and_retirement(tmp_path, base_model_dir, datasets):
    """One real retrain under the changed registry, then its promotion under the old registry is refused."""
    reg_path = renamed_registry(tmp_path / "registry.csv")
    out = tmp_path / "renamed"
    card = retrain(base_model_dir, out, [datasets["new"]], None, registry_path=reg_path, seed=0, log=lambda *_: None)
    model = persistence.load(out)
    classes = set(model.classes_)
    assert DISHUB_NEW in classes and DISHUB not in classes and CIWIDEY not in classes
    n_dishub = sum((f := demo())["agency"].eq(DISHUB) & (f["date"] < "2024-01-01"))
    assert model.label_counts_[DISHUB_NEW] == n_dishub
    report = card["training_data"]["report"]
    n_ciwidey = sum(f["agency"].eq(CIWIDEY) & (f["date"] < "2024-01-01"))
    assert report["skipped"]["retired_agency"] == n_ciwidey > 0
    # complaints about Ciwidey are routed elsewhere; traffic complaints go to the new name
    ciwidey_texts = f.loc[f["agency"] == CIWIDEY, "text"].tolist()
    assert all(CIWIDEY not in dict(s.agencies) for s in model.suggest(ciwidey_texts, k=len(model.classes_)))
    dishub_texts = f.loc[f["agency"] == DISHUB, "text"].tolist()
    tops = [s.top for s in model.suggest(dishub_texts)]
    assert tops.count(DISHUB_NEW) >= len(tops) // 2

    # the live registry does not know "Dinas Transportasi": promotion is refused, nothing written
    models = tmp_path / "models"
    proc = run_cli("promote", out, "--models-dir", models, "--registry", REGISTRY_CSV)
    assert proc.returncode == 2 and "label set" in proc.stderr and DISHUB_NEW in proc.stderr
    assert not models.exists()
    # under the registry it was trained with, the label set is fine
    ok = run_cli("promote", out, "--models-dir", models, "--registry", reg_path)
    assert ok.returncode == 0, ok.stderr
    assert read_card(models / "current")["version"] == card["version"]
