"""Held-out evaluation of the routing model next to the fixed reference model.

Temporal split by default: train on everything before the last year in the data, test on
that year: the situation of a region that deploys Disposisi on its past dispatches.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold

from routing_model import Registry, RoutingModel
from routing_model.errors import DisposisiError
from routing_model.io.progress import progress
from routing_model.model.metrics import summarize

from .labeled_data import LabeledData
from .reference import reference_pipeline, reference_scores

SEED = 0


class EvaluationError(DisposisiError, ValueError):
    """The data cannot be evaluated as asked (no dates for a temporal split, an empty side)."""


def temporal_split(frame: pd.DataFrame, test_from: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    dated = frame[frame["date"].astype(bool)]
    if dated.empty:
        raise EvaluationError("temporal split needs a date column with values; use --split cv (or --date-column NAME)")
    if test_from is None:
        test_from = f"{max(dated['date'])[:4]}-01-01"
    train, test = dated[dated["date"] < test_from], dated[dated["date"] >= test_from]
    if train.empty or test.empty:
        raise EvaluationError(
            f"temporal split at {test_from} leaves an empty side ({len(train)} train, {len(test)} test)"
        )
    return train, test, test_from


def _score_pair(
    train: pd.DataFrame, test: pd.DataFrame, registry: Registry, params: dict, seed: int
) -> tuple[dict, dict, float]:
    started = time.perf_counter()
    if len(train) < 10 or train["label"].nunique() < 2:
        raise EvaluationError(
            f"the training side has {len(train)} rows of {train['label'].nunique()} agencies; "
            "at least 10 rows of 2 agencies are needed"
        )
    dates = train["date"].astype(str).tolist()
    model = RoutingModel(registry, params, random_state=seed).fit(
        train["text"].tolist(), train["label"].tolist(), dates if all(dates) else None
    )
    seconds = time.perf_counter() - started
    proba = model.predict_proba(test["text"].tolist())
    ours = summarize(proba, model.classes_, test["label"].tolist(), review=model.needs_review(proba))
    ours["train_seconds"] = round(seconds, 2)
    ours["review_threshold"] = model.review_threshold_
    ours["review_thresholds"] = dict(model.review_thresholds_)
    ours["claimed"] = model.calibration_.get("review")
    ref = reference_pipeline().fit(train["text"].tolist(), train["label"].tolist())
    reference = summarize(reference_scores(ref, test["text"].tolist()), ref.classes_, test["label"].tolist())
    return ours, reference, seconds


def evaluate(
    data: LabeledData,
    registry: Registry,
    split: str = "temporal",
    params: dict | None = None,
    test_from: str | None = None,
    seed: int = SEED,
    show_progress: bool = True,
) -> dict:
    """Metrics for ours and the reference, as one JSON-able dict."""
    params = dict(params or {})
    frame = data.frame
    if split == "temporal":
        train, test, cut = temporal_split(frame, test_from)
        with progress(1, "evaluate", "splits", enabled=show_progress) as step:
            ours, reference, _ = _score_pair(train, test, registry, params, seed)
            step(1)
        result = {"split": "temporal", "test_from": cut, "n_train": len(train), "n_test": len(test)}
    elif split == "cv":
        ours_rows, ref_rows = [], []
        if len(frame) < 15:  # each training side needs 10 rows after holding out a fifth
            raise EvaluationError(f"5-fold cross-validation needs at least 15 usable rows, got {len(frame)}")
        folds = KFold(5, shuffle=True, random_state=seed)
        with progress(5, "evaluate", "folds", enabled=show_progress) as step:
            for train_idx, test_idx in folds.split(frame):
                train, test = frame.iloc[train_idx], frame.iloc[test_idx]
                o, r, _ = _score_pair(train, test, registry, params, seed)
                ours_rows.append((o, len(test)))
                ref_rows.append((r, len(test)))
                step(1)
        ours, reference = _pool(ours_rows), _pool(ref_rows)
        result = {"split": "cv", "folds": 5, "n_train": int(len(frame) * 4 / 5), "n_test": len(frame)}
    else:
        raise EvaluationError(f"unknown split '{split}' (temporal or cv)")
    result.update({k: v for k, v in ours.items()})
    result["reference"] = reference
    result["gain"] = {m: result[m] - reference[m] for m in ("top1", "top3", "macro_f1")}
    result["seed"] = seed
    return result


def _pool(rows: list[tuple[dict, int]]) -> dict:
    """Support-weighted mean of fold metrics (per-agency tables are summed by support)."""
    total = sum(n for _, n in rows)
    out = {}
    for key in ("top1", "top3", "macro_f1", "ece", "coverage_at_precision_90", "review_rate"):
        vals = [(r[key], n) for r, n in rows if key in r and not np.isnan(r[key])]
        if vals:
            out[key] = float(sum(v * n for v, n in vals) / sum(n for _, n in vals))
    per: dict = {}
    for r, _ in rows:
        for agency, m in r["per_agency"].items():
            acc = per.setdefault(agency, {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0, "_w": 0})
            w = max(m["support"], 1)
            for key in ("precision", "recall", "f1"):
                acc[key] += m[key] * w
            acc["support"] += m["support"]
            acc["_w"] += w
    out["per_agency"] = {
        a: {k: (v / m["_w"] if k in ("precision", "recall", "f1") else v) for k, v in m.items() if k != "_w"}
        for a, m in per.items()
    }
    out["n"] = total
    return out


def format_table(result: dict) -> str:
    ref = result["reference"]
    lines = [
        f"split: {result['split']}"
        + (f" (test from {result['test_from']})" if "test_from" in result else "")
        + f"  n_train={result['n_train']}  n_test={result['n_test']}  seed={result['seed']}",
        f"{'metric':<28}{'disposisi':>12}{'reference':>12}{'gain':>10}",
    ]
    for key in ("top1", "top3", "macro_f1", "ece", "coverage_at_precision_90"):
        gain = result[key] - ref[key]
        lines.append(f"{key:<28}{result[key]:>12.3f}{ref[key]:>12.3f}{gain:>+10.3f}")
    if "review" in result:
        auto, claimed = result["review"], result.get("claimed") or {}
        lines.append(
            f"{'auto-suggested (no review)':<28}{auto['coverage']:>12.3f}   precision {auto['precision']:.3f}"
            f" (claimed on the held-out period: {claimed.get('coverage', float('nan')):.3f} at {claimed.get('precision', float('nan')):.3f})"
        )
    lines.append("")
    lines.append(f"{'agency':<60}{'prec':>7}{'recall':>8}{'support':>9}")
    for agency, m in sorted(result["per_agency"].items(), key=lambda kv: -kv[1]["support"]):
        if m["support"]:
            lines.append(f"{agency[:59]:<60}{m['precision']:>7.2f}{m['recall']:>8.2f}{m['support']:>9d}")
    return "\n".join(lines)
