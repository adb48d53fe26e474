"""Retrain a challenger from the current model's data + new labels + admin feedback.

Champion / challenger: both are scored on the same most-recent slice of the labeled data
(by date). For that comparison the challenger is fitted *without* the slice; the final
challenger is then fitted on everything. The card of the new model records both figures,
the per-row hits (for the paired bootstrap of ``disposisi promote``) and its parent.
"""
from __future__ import annotations

import csv
import hashlib
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from routing_model import Registry, RoutingModel
from routing_model.persistence import load_model
from routing_model.registry import DEFAULT_REGISTRY, REPO_ROOT
from routing_model.tabular import TableError, column_name, read_table, require_columns
from routing_model.text import clean
from training.labeled_data import LabeledData, prepare_labeled
from training.train import file_sha256

from .feedback import FeedbackLabels, load_feedback

HOLDOUT_SHARE = 0.20
TRAINING_DATA_FILE = "training_data.csv"
MIN_SLICE = 5


class RetrainError(TableError):
    """Retraining cannot go ahead with these inputs; nothing was written."""


def training_data_path(card: dict, model_dir: str | Path) -> Path:
    """The file the model was trained on (re-read for retraining); a clear error if it is gone."""
    info = card.get("training_data") or {}
    recorded = info.get("path")
    if not recorded:
        raise RetrainError(f"{model_dir}/card.json does not record its training data (training_data.path); retrain from scratch with `disposisi train`")
    candidates = [Path(recorded), REPO_ROOT / recorded, Path(model_dir) / Path(recorded).name]
    for path in candidates:
        if path.is_file():
            return path
    raise RetrainError(
        f"the training data of {model_dir} ({recorded}) is missing; restore it, or retrain from scratch with `disposisi train`"
    )


def _as_training_frame(frame: pd.DataFrame, path, source: str, text="text", label="agency", date="date") -> pd.DataFrame:
    cols = require_columns(frame, path, text=text, label=label)
    date_col = column_name(frame, date) if date else None
    out = pd.DataFrame(
        {
            "text": frame[cols["text"]].tolist(),
            "agency": frame[cols["label"]].tolist(),
            "date": frame[date_col].fillna("").astype(str).str.strip().tolist() if date_col in frame.columns else [""] * len(frame),
        }
    )
    out["source"] = source
    return out


def read_new_data(path, registry: Registry) -> tuple[pd.DataFrame, dict]:
    """One file of newly labeled complaints (CSV or LAPOR! xlsx): rows + its own data report."""
    p = Path(path)
    if p.is_file() and p.suffix.lower() not in (".xlsx", ".xlsm") and not p.read_bytes().strip():
        raise RetrainError(f"{path} is empty: nothing new to learn from")
    try:
        frame = read_table(path)
    except csv.Error as exc:  # the CSV sniffer on a one-line or odd file
        raise RetrainError(f"{path}: cannot read as CSV ({exc})") from exc
    if len(frame) == 0:
        raise RetrainError(f"{path} has no rows: nothing new to learn from")
    rows = _as_training_frame(frame, path, f"data:{Path(path).name}")
    rows.attrs["reader_rejects"] = dict(frame.attrs.get("reader_rejects") or {})  # counted in the report
    report = prepare_labeled(rows, registry).report()
    if report["rows_used"] == 0:
        raise RetrainError(f"{path}: none of its {report['rows_read']} rows can be trained on (skipped: {report['skipped']}, unknown labels: {report['unknown_labels']})")
    return rows, report


def combine(parts: list[pd.DataFrame], registry: Registry, negatives: set) -> tuple[LabeledData, pd.Series, int]:
    """One labeled data set from all parts (later parts win duplicate texts), minus negative pairs."""
    frame = pd.concat(parts, ignore_index=True)
    frame.attrs.clear()  # each part's reader rejects were reported with that part
    frame.attrs["first_data_row"] = 0  # LabeledData.row is then the index into `frame`
    data = prepare_labeled(frame, registry, "text", "agency", "date")
    excluded = 0
    if negatives:
        keys = [(clean(t).strip(), lab) for t, lab in zip(data.frame["text"], data.frame["label"])]
        keep = np.array([k not in negatives for k in keys], dtype=bool)
        excluded = int((~keep).sum())
        data.frame = data.frame[keep].reset_index(drop=True)
        if excluded:
            data.skipped["not_our_authority"] += excluded
    sources = frame["source"].iloc[data.frame["row"].to_numpy()].reset_index(drop=True) if len(data.frame) else pd.Series([], dtype=object)
    return data, sources, excluded


def holdout_mask(frame: pd.DataFrame, holdout_from: str | None = None, share: float = HOLDOUT_SHARE) -> tuple[np.ndarray, str, str]:
    """Rows of the comparison slice: dated on/after ``holdout_from``, or the newest ``share`` of dated rows."""
    dates = frame["date"].astype(str)
    dated = dates[dates.str.len() > 0]
    if dated.empty:
        raise RetrainError("no labeled row has a date: the champion/challenger comparison needs dated rows")
    if holdout_from:
        cut, rule = str(holdout_from), f"dated on or after {holdout_from} (--holdout-from)"
    else:
        ordered = sorted(dated)
        cut = ordered[min(len(ordered) - 1, int(math.floor((1 - share) * len(ordered))))]
        rule = f"newest {share:.0%} of dated rows (dated on or after {cut})"
    mask = (dates.str.len() > 0).to_numpy() & (dates >= cut).to_numpy()
    if mask.sum() < MIN_SLICE:
        raise RetrainError(f"the comparison slice ({rule}) has {int(mask.sum())} rows; at least {MIN_SLICE} are needed")
    return mask, cut, rule


def row_hits(proba: np.ndarray, classes, y_true, k: int) -> np.ndarray:
    """Per row: 1 if the true agency is among the k highest-scored classes (absent class = miss)."""
    idx = {c: i for i, c in enumerate(classes)}
    top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return np.array([idx.get(y, -1) in row for y, row in zip(y_true, top)], dtype=np.int8)


def score_rows(model: RoutingModel, texts, labels) -> dict:
    proba = model.predict_proba(list(texts))
    top1, top3 = row_hits(proba, model.classes_, labels, 1), row_hits(proba, model.classes_, labels, 3)
    review = proba.max(axis=1) < model.review_threshold_
    return {
        "top1": float(top1.mean()),
        "top3": float(top3.mean()),
        "review_rate": float(review.mean()),
        "hits_top1": "".join(map(str, top1)),
        "hits_top3": "".join(map(str, top3)),
    }


def _bits(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if not k.startswith("hits_")}


def _rows_sha(texts, labels) -> str:
    digest = hashlib.sha256()
    for text, label in sorted(zip(texts, labels)):
        digest.update(text.encode("utf-8") + b"\x1f" + label.encode("utf-8") + b"\x1e")
    return digest.hexdigest()


def retrain(
    model_dir,
    out_dir,
    data_paths=(),
    feedback: str | None = None,
    registry_path=DEFAULT_REGISTRY,
    seed: int = 0,
    holdout_from: str | None = None,
    skip_unknown: bool = False,
    calibration_folds: int | None = None,
    log=print,
) -> dict:
    """The `disposisi retrain` job; returns the new model's card. Writes nothing unless it succeeds."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise RetrainError(f"{out_dir} already exists and is not empty; choose a new --out directory")
    champion, card = load_model(model_dir)
    registry = Registry.load(registry_path)

    base_path = training_data_path(card, model_dir)
    columns = (card.get("training_data") or {}).get("columns") or {}
    base_frame = read_table(base_path)
    parts = [_as_training_frame(base_frame, base_path, "base", columns.get("text", "text"), columns.get("label", "agency"), columns.get("date", "date"))]
    base_sha = file_sha256(base_path)
    recorded_sha = (card.get("training_data") or {}).get("file_sha256")
    base_note = None if not recorded_sha or recorded_sha == base_sha else "changed since the parent model was trained"
    if base_note:
        log(f"  warning: {base_path} {base_note}")

    new_reports = {}
    for path in data_paths:
        rows, report = read_new_data(path, registry)
        parts.append(rows)
        new_reports[str(path)] = report

    fb: FeedbackLabels | None = None
    if feedback:
        fb = load_feedback(feedback, registry, skip_unknown=skip_unknown)
        if len(fb.labels):
            parts.append(fb.labels[["text", "agency", "date"]].assign(source="feedback"))

    from routing_model.progress import Progress

    bar = Progress(3, "retrain", "steps")  # read, comparison fit, final fit: the fits take minutes
    data, sources, excluded = combine(parts, registry, fb.negatives if fb else set())
    if len(data.frame) == 0:
        raise RetrainError("no usable labeled complaints to train on")
    bar.update(1)

    folds = int(calibration_folds or champion.calibration_folds)
    params = dict(champion.classifier_params)

    def new_model() -> RoutingModel:
        return RoutingModel(registry, params, target_precision=champion.target_precision, calibration_folds=folds, random_state=seed)

    # 1. champion vs challenger on the newest slice (challenger fitted without it)
    mask, cut, rule = holdout_mask(data.frame, holdout_from)
    train_cmp, slice_ = data.frame[~mask], data.frame[mask]
    if len(train_cmp) < 2 * folds:
        raise RetrainError(f"only {len(train_cmp)} rows are older than the comparison slice; at least {2 * folds} are needed")
    started = time.perf_counter()
    challenger_cmp = new_model().fit(train_cmp["text"].tolist(), train_cmp["label"].tolist())
    bar.update(1)
    champ_fig = score_rows(champion, slice_["text"], slice_["label"].tolist())
    chall_fig = score_rows(challenger_cmp, slice_["text"], slice_["label"].tolist())
    champion_keys = {clean(str(t)).strip() for t in parts[0]["text"] if isinstance(t, str)}  # what the champion trained on
    seen = int(sum(clean(t).strip() in champion_keys for t in slice_["text"]))

    # 2. final challenger on everything
    final = new_model().fit(data.texts, data.labels)
    seconds = time.perf_counter() - started
    bar.update(1)
    bar.close()

    dates = sorted(d for d in data.frame["date"] if d)
    source_counts = sources.value_counts().to_dict()
    comparison = {
        "slice": {
            "rule": rule,
            "from": cut,
            "to": max(slice_["date"]),
            "n": int(len(slice_)),
            "rows_sha256": _rows_sha(slice_["text"], slice_["label"]),
            "seen_by_champion": seen,
        },
        "champion": {"version": card.get("version"), **_bits(champ_fig)},
        "challenger": {"n_train": int(len(train_cmp)), **_bits(chall_fig)},
        "gain": {m: chall_fig[m] - champ_fig[m] for m in ("top1", "top3")},
        "per_row": {
            "champion_top1": champ_fig["hits_top1"],
            "champion_top3": champ_fig["hits_top3"],
            "challenger_top1": chall_fig["hits_top1"],
            "challenger_top3": chall_fig["hits_top3"],
        },
        "seed": seed,
    }

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-"))
    try:
        table = pd.DataFrame({"text": data.frame["text"], "agency": data.frame["label"], "date": data.frame["date"], "source": sources})
        table.to_csv(tmp / TRAINING_DATA_FILE, index=False)
        card_extra = {
            "training_data": {
                "path": str((out_dir / TRAINING_DATA_FILE).resolve()),
                "file_sha256": file_sha256(tmp / TRAINING_DATA_FILE),
                "rows_sha256": data.sha256(),
                "rows": len(data.frame),
                "date_range": [dates[0], dates[-1]] if dates else None,
                "report": data.report(),
                "columns": {"text": "text", "label": "agency", "date": "date"},
                "sources": {k: int(v) for k, v in source_counts.items()},
                "base": {"path": str(base_path), "file_sha256": base_sha, "note": base_note},
                "new_data": new_reports,
                "feedback": fb.report() if fb else None,
                "excluded_not_our_authority": excluded,
            },
            "parent": {"version": card.get("version"), "path": str(Path(model_dir).resolve())},
            "champion_challenger": comparison,
            "training_seconds": round(seconds, 2),
            "registry": {"path": str(registry_path), "agencies": len(registry), "active": len(registry.active)},
            "evaluation": {"out_of_fold": final.calibration_},
        }
        new_card = final.save(tmp, card_extra)
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked above)
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return new_card

