"""Retrain a challenger from the current model's data + new labels + admin feedback.

Champion / challenger: both are scored on the same most-recent slice of the labeled data
(by date). For that comparison the challenger is fitted *without* the slice; the final
challenger is then fitted on everything. The card of the new model records both figures,
the per-row hits (for the paired bootstrap of ``disposisi promote``) and its parent.

The combined training set (texts masked) is needed by the next retrain, but it never goes
into the model directory, which is copied into the served models directory by ``promote``:
it is written where the operator says (``--training-data``), by default beside the new
model directory (``NEW_DIR.training-data.csv``).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from routing_model import Registry, RoutingModel
from routing_model.artifact.persistence import load, save
from routing_model.io.tabular import TableError, column_name, read_table, require_columns
from routing_model.registry.agencies import DEFAULT_REGISTRY, REPO_ROOT
from routing_model.text.cleaning import clean, mask_personal_data
from training.fingerprints import fingerprints, pack, unpack
from training.labeled_data import LabeledData, prepare_labeled
from training.train import file_sha256

from .feedback import FeedbackLabels, load_feedback

ModelWriter = Callable[[RoutingModel, Path, dict], dict]  # writes a model directory, returns its card

HOLDOUT_SHARE = 0.20
TRAINING_DATA_SUFFIX = ".training-data.csv"
MIN_SLICE = 5


class RetrainError(TableError):
    """Retraining cannot go ahead with these inputs; nothing was written."""


def training_data_path(card: dict, model_dir: str | Path) -> Path:
    """The file the model was trained on (re-read for retraining); a clear error if it is gone."""
    info = card.get("training_data") or {}
    recorded = info.get("path")
    if not recorded:
        raise RetrainError(
            f"{model_dir}/card.json does not record its training data (training_data.path); retrain from scratch with `disposisi train`"
        )
    candidates = [Path(recorded), REPO_ROOT / recorded]
    for path in candidates:
        if path.is_file():
            return path
    raise RetrainError(
        f"the training data of {model_dir} ({recorded}) is missing; restore it, or retrain from scratch with `disposisi train`"
    )


def default_training_data_path(out_dir: str | Path) -> Path:
    """Where retrain keeps the combined training set unless told: beside NEW_DIR, not in it."""
    out_dir = Path(out_dir)
    return out_dir.parent / f"{out_dir.name}{TRAINING_DATA_SUFFIX}"


def _as_training_frame(
    frame: pd.DataFrame, path, source: str, text="text", label="agency", date="date"
) -> pd.DataFrame:
    cols = require_columns(frame, path, text=text, label=label)
    date_col = column_name(frame, date) if date else None
    out = pd.DataFrame(
        {
            "text": frame[cols["text"]].tolist(),
            "agency": frame[cols["label"]].tolist(),
            "date": frame[date_col].fillna("").astype(str).str.strip().tolist()
            if date_col in frame.columns
            else [""] * len(frame),
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
        raise RetrainError(
            f"{path}: none of its {report['rows_read']} rows can be trained on (skipped: {report['skipped']}, unknown labels: {report['unknown_labels']})"
        )
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
    sources = (
        frame["source"].iloc[data.frame["row"].to_numpy()].reset_index(drop=True)
        if len(data.frame)
        else pd.Series([], dtype=object)
    )
    return data, sources, excluded


def holdout_mask(
    frame: pd.DataFrame, holdout_from: str | None = None, share: float = HOLDOUT_SHARE
) -> tuple[np.ndarray, str, str]:
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


MIN_COMPARISON_TRAIN = 10  # rows older than the comparison slice a challenger needs


def row_hits(proba: np.ndarray, classes, y_true, k: int) -> np.ndarray:
    """Per row: 1 if the true agency is among the k highest-scored classes (absent class = miss)."""
    idx = {c: i for i, c in enumerate(classes)}
    top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return np.array([idx.get(y, -1) in row for y, row in zip(y_true, top)], dtype=np.int8)


def score_rows(model: RoutingModel, texts, labels) -> dict:
    proba = model.predict_proba(list(texts))
    top1, top3 = row_hits(proba, model.classes_, labels, 1), row_hits(proba, model.classes_, labels, 3)
    review = model.needs_review(proba)
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


def _check_outputs(out_dir: Path, data_out: Path) -> None:
    """Nothing is written over another model or data file, and training texts stay out of model directories."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise RetrainError(f"{out_dir} already exists and is not empty; choose a new --out directory")
    if data_out.exists():
        raise RetrainError(f"{data_out} already exists; choose another --training-data file")
    if data_out.resolve().is_relative_to(out_dir.resolve()):
        raise RetrainError(
            f"--training-data {data_out} is inside the model directory {out_dir}; "
            "keep training texts out of model directories"
        )


def _base_part(card: dict, model_dir, log) -> tuple[pd.DataFrame, dict]:
    """The champion's own training rows, and what the card will say of them (changed since?)."""
    base_path = training_data_path(card, model_dir)
    columns = (card.get("training_data") or {}).get("columns") or {}
    frame = _as_training_frame(
        read_table(base_path),
        base_path,
        "base",
        columns.get("text", "text"),
        columns.get("label", "agency"),
        columns.get("date", "date"),
    )
    base_sha = file_sha256(base_path)
    recorded_sha = (card.get("training_data") or {}).get("file_sha256")
    note = None if not recorded_sha or recorded_sha == base_sha else "changed since the parent model was trained"
    if note:
        log(f"  warning: {base_path} {note}")
    return frame, {"path": str(base_path), "file_sha256": base_sha, "note": note}


def _dates(frame: pd.DataFrame) -> list[str] | None:
    values = frame["date"].astype(str).tolist()
    return values if values and all(values) else None


def _comparison(champion, card: dict, challenger, train_cmp, slice_, rule, cut, base_texts, seed: int) -> dict:
    """Champion and comparison challenger scored on the newest slice, with what the promotion gate needs to compare
    them fairly: per-row hits, and which rows each side trained on (fingerprints)."""
    champ_fig = score_rows(champion, slice_["text"], slice_["label"].tolist())
    chall_fig = score_rows(challenger, slice_["text"], slice_["label"].tolist())
    slice_prints = fingerprints(slice_["text"])
    champion_block = card.get("training_fingerprints") or pack(fingerprints(base_texts))  # older cards: its data file
    champion_seen = unpack(champion_block) or set()
    return {
        "slice": {
            "rule": rule,
            "from": cut,
            "to": max(slice_["date"]),
            "n": int(len(slice_)),
            "rows_sha256": _rows_sha(slice_["text"], slice_["label"]),
            "seen_by_champion": int(sum(fp in champion_seen for fp in slice_prints)),
            "fingerprints": "".join(slice_prints),  # per row, in the order of per_row
        },
        "champion": {
            "version": card.get("version"),
            **_bits(champ_fig),
            **({} if card.get("training_fingerprints") else {"training_fingerprints": champion_block}),
        },
        "challenger": {
            "n_train": int(len(train_cmp)),
            **_bits(chall_fig),
            "training_fingerprints": pack(fingerprints(train_cmp["text"])),
        },
        "gain": {m: chall_fig[m] - champ_fig[m] for m in ("top1", "top3")},
        "per_row": {
            "champion_top1": champ_fig["hits_top1"],
            "champion_top3": champ_fig["hits_top3"],
            "challenger_top1": chall_fig["hits_top1"],
            "challenger_top3": chall_fig["hits_top3"],
            "dates": [str(d) for d in slice_["date"]],
        },
        "seed": seed,
    }


def _write_atomically(
    final, card_extra: dict, table: pd.DataFrame, out_dir: Path, data_out: Path, writer: ModelWriter = save
) -> dict:
    """The model directory and the training data file appear together, complete, or not at all. ``writer`` writes
    the model into a directory and returns its card (``save``: a whole model; a head on its base: ``write_head``)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    data_out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}-"))
    tmp_data = data_out.parent / f".{data_out.name}.tmp"
    data_moved = False
    try:
        table.to_csv(tmp_data, index=False)
        card_extra["training_data"]["file_sha256"] = file_sha256(tmp_data)
        new_card = writer(final, tmp, card_extra)
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked before training)
        os.replace(tmp_data, data_out)
        data_moved = True
        os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp_data.unlink(missing_ok=True)
        if data_moved:
            data_out.unlink(missing_ok=True)
        raise
    return new_card


def training_record(data, sources, fb, excluded, data_out: Path, **more) -> tuple[pd.DataFrame, dict]:
    """The rows of the challenger's training data file (texts masked as the model masks them) and the card's
    ``training_data`` block, with ``more`` (retrain's ``base`` and ``new_data``) before the feedback report; one
    definition for ``retrain`` and ``readapt``."""
    dates = sorted(d for d in data.frame["date"] if d)
    texts = [mask_personal_data(str(t)) for t in data.frame["text"]]
    table = pd.DataFrame({"text": texts, "agency": data.frame["label"], "date": data.frame["date"], "source": sources})
    record = {
        "path": str(data_out.resolve()),
        "file_sha256": None,  # of the file as written (_write_atomically)
        "rows_sha256": data.sha256(),
        "rows": len(data.frame),
        "date_range": [dates[0], dates[-1]] if dates else None,
        "report": data.report(),
        "columns": {"text": "text", "label": "agency", "date": "date"},
        "sources": {k: int(v) for k, v in sources.value_counts().to_dict().items()},
        **more,
        "feedback": fb.report() if fb else None,
        "excluded_not_our_authority": excluded,
    }
    return table, record


def retrain(
    model_dir,
    out_dir,
    data_paths=(),
    feedback: str | None = None,
    registry_path=DEFAULT_REGISTRY,
    seed: int = 0,
    holdout_from: str | None = None,
    skip_unknown: bool = False,
    log=print,
    training_data_out: str | Path | None = None,
    feedback_region: str | None = None,
) -> dict:
    """The `disposisi retrain` job; returns the new model's card. Writes nothing unless it succeeds.

    Writes the model to ``out_dir`` and the combined, masked training set to
    ``training_data_out`` (default ``default_training_data_path(out_dir)``), outside the model.
    ``feedback_region``: learn only from that region's decisions (the learn job of one region).
    """
    out_dir = Path(out_dir)
    data_out = Path(training_data_out) if training_data_out else default_training_data_path(out_dir)
    _check_outputs(out_dir, data_out)
    champion = load(model_dir)
    card = champion.card_
    registry = Registry.load(registry_path)

    base_frame, base_info = _base_part(card, model_dir, log)
    parts, new_reports = [base_frame], {}
    for path in data_paths:
        rows, new_reports[str(path)] = read_new_data(path, registry)
        parts.append(rows)
    fb: FeedbackLabels | None = (
        load_feedback(feedback, registry, skip_unknown=skip_unknown, region=feedback_region) if feedback else None
    )
    if fb is not None and len(fb.labels):
        parts.append(fb.labels[["text", "agency", "date"]].assign(source="feedback"))

    from routing_model.io.progress import Progress

    bar = Progress(3, "retrain", "steps")  # read, comparison fit, final fit: the fits take minutes
    data, sources, excluded = combine(parts, registry, fb.negatives if fb else set())
    if len(data.frame) == 0:
        raise RetrainError("no usable labeled complaints to train on")
    bar.update(1)

    params = dict(champion.classifier_params)

    def new_model() -> RoutingModel:
        return RoutingModel(registry, params, target_precision=champion.target_precision, random_state=seed)

    # 1. champion vs challenger on the newest slice (challenger fitted without it)
    mask, cut, rule = holdout_mask(data.frame, holdout_from)
    train_cmp, slice_ = data.frame[~mask], data.frame[mask]
    if len(train_cmp) < MIN_COMPARISON_TRAIN:
        raise RetrainError(
            f"only {len(train_cmp)} rows are older than the comparison slice; at least {MIN_COMPARISON_TRAIN} are needed"
        )
    started = time.perf_counter()
    challenger_cmp = new_model().fit(train_cmp["text"].tolist(), train_cmp["label"].tolist(), _dates(train_cmp))
    bar.update(1)
    comparison = _comparison(champion, card, challenger_cmp, train_cmp, slice_, rule, cut, base_frame["text"], seed)

    # 2. final challenger on everything
    final = new_model().fit(data.texts, data.labels, _dates(data.frame))
    seconds = time.perf_counter() - started
    bar.update(1)
    bar.close()

    table, record = training_record(data, sources, fb, excluded, data_out, base=base_info, new_data=new_reports)
    card_extra = {
        "training_data": record,
        "training_fingerprints": pack(fingerprints(data.texts)),
        "parent": {"version": card.get("version"), "path": str(Path(model_dir).resolve())},
        "champion_challenger": comparison,
        "training_seconds": round(seconds, 2),
        "registry": {"path": str(registry_path), "agencies": len(registry), "active": len(registry.active)},
        "evaluation": {"held_out": final.calibration_},
    }
    return _write_atomically(final, card_extra, table, out_dir, data_out)
