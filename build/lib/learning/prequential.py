"""Prequential ("test, then train") replay of history, period by period.

For each period (a month by default) from ``since`` on: fit on every labeled row dated before
the period starts (what admins had decided by then), suggest for the rows of the period,
then move on. The reference model (training/reference.py) is replayed the same way. To keep
a replay of a year affordable, RoutingModel is fitted with ``calibration_folds=3`` (the
production default is 5; it only affects the temperature and the review threshold).
"""
from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from routing_model import Registry, RoutingModel
from routing_model.errors import DisposisiError
from training.labeled_data import LabeledData
from training.reference import reference_pipeline, reference_scores
from training.train import DEFAULT_CLASSIFIER_PARAMS

from .retrain import row_hits


class PrequentialError(DisposisiError, ValueError):
    """The data cannot be replayed as asked (no dated rows, an unknown period)."""

PERIODS = {"month": "M", "quarter": "Q", "week": "W", "year": "Y"}
PREQUENTIAL_FOLDS = 3


def _periods(dates: pd.Series, period: str) -> pd.Series:
    if period not in PERIODS:
        raise PrequentialError(f"unknown period '{period}' (one of {', '.join(PERIODS)})")
    parsed = pd.to_datetime(dates, errors="coerce", format="mixed")
    return parsed.dt.to_period(PERIODS[period])


def prequential(
    data: LabeledData,
    registry: Registry,
    period: str = "month",
    since: str | None = None,
    params: dict | None = None,
    seed: int = 0,
    calibration_folds: int = PREQUENTIAL_FOLDS,
    log=None,
    n_jobs: int = 1,
) -> dict:
    """Per-period and overall top-1, top-3, review rate of ours and of the reference, replayed."""
    params = dict(DEFAULT_CLASSIFIER_PARAMS if params is None else params)
    frame = data.frame.copy()
    frame["period"] = _periods(frame["date"].astype(str), period)
    dated = frame[frame["period"].notna()].copy()
    if dated.empty:
        raise PrequentialError("prequential evaluation needs dated rows (a date column with values)")
    dated["start"] = dated["period"].map(lambda p: p.start_time)
    start = pd.Timestamp(since) if since else None
    periods = sorted(p for p in dated["period"].unique() if start is None or p.end_time >= start)
    if start is not None:
        periods = [p for p in periods if p.start_time >= start.to_period(PERIODS[period]).start_time]
    if not periods:
        raise PrequentialError(f"no dated rows on or after {since}")

    rows, hits = [], {"ours_top1": [], "ours_top3": [], "ours_review": [], "ref_top1": [], "ref_top3": []}
    skipped, jobs = [], []
    started = time.perf_counter()
    for p in periods:
        train = dated[dated["start"] < p.start_time]
        test = dated[dated["period"] == p]
        if len(test) == 0:
            continue
        if len(train) < 2 * calibration_folds or train["label"].nunique() < 2:
            skipped.append({"period": str(p), "n": int(len(test)), "why": f"only {len(train)} earlier rows"})
            continue
        jobs.append((str(p), train["text"].tolist(), train["label"].tolist(), test["text"].tolist(), test["label"].tolist()))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_replay_period)(job, registry, params, calibration_folds, seed) for job in jobs
    )
    for row, period_hits in results:
        for key, v in period_hits.items():
            hits[key].extend(v)
        rows.append(row)
        if log:
            log(_period_line(row))
    n = len(hits["ours_top1"])
    overall = {
        "n": n,
        "top1": float(np.mean(hits["ours_top1"])) if n else float("nan"),
        "top3": float(np.mean(hits["ours_top3"])) if n else float("nan"),
        "review_rate": float(np.mean(hits["ours_review"])) if n else float("nan"),
        "reference": {
            "top1": float(np.mean(hits["ref_top1"])) if n else float("nan"),
            "top3": float(np.mean(hits["ref_top3"])) if n else float("nan"),
        },
    }
    overall["gain"] = {m: overall[m] - overall["reference"][m] for m in ("top1", "top3")}
    return {
        "mode": "prequential",
        "period": period,
        "since": since,
        "seed": seed,
        "calibration_folds": calibration_folds,
        "params": params,
        "periods": rows,
        "skipped_periods": skipped,
        "overall": overall,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _replay_period(job, registry: Registry, params: dict, calibration_folds: int, seed: int) -> tuple[dict, dict]:
    """Fit ours and the reference on the rows before one period; score the period's rows."""
    period, train_x, train_y, test_x, y = job
    t0 = time.perf_counter()
    model = RoutingModel(registry, params, calibration_folds=calibration_folds, random_state=seed).fit(train_x, train_y)
    proba = model.predict_proba(test_x)
    o1, o3 = row_hits(proba, model.classes_, y, 1), row_hits(proba, model.classes_, y, 3)
    review = (proba.max(axis=1) < model.review_threshold_).astype(np.int8)
    ref = reference_pipeline().fit(train_x, train_y)
    rproba = reference_scores(ref, test_x)
    r1, r3 = row_hits(rproba, ref.classes_, y, 1), row_hits(rproba, ref.classes_, y, 3)
    row = {
        "period": period,
        "n_train": len(train_x),
        "n": len(y),
        "top1": float(o1.mean()),
        "top3": float(o3.mean()),
        "review_rate": float(review.mean()),
        "review_threshold": float(model.review_threshold_),
        "reference": {"top1": float(r1.mean()), "top3": float(r3.mean())},
        "new_agencies": sorted(set(y) - set(train_y)),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    hits = {"ours_top1": o1.tolist(), "ours_top3": o3.tolist(), "ours_review": review.tolist(), "ref_top1": r1.tolist(), "ref_top3": r3.tolist()}
    return row, hits


def _period_line(r: dict) -> str:
    return (
        f"{r['period']:<10}{r['n_train']:>8}{r['n']:>6}{r['top1']:>8.3f}{r['top3']:>8.3f}{r['review_rate']:>8.3f}"
        f"{r['reference']['top1']:>10.3f}{r['reference']['top3']:>10.3f}"
    )


HEADER = f"{'period':<10}{'n_train':>8}{'n':>6}{'top1':>8}{'top3':>8}{'review':>8}{'ref_top1':>10}{'ref_top3':>10}"


def format_prequential(result: dict) -> str:
    lines = [f"prequential replay by {result['period']} (calibration_folds={result['calibration_folds']}, seed={result['seed']})", HEADER]
    lines += [_period_line(r) for r in result["periods"]]
    o = result["overall"]
    lines.append(
        f"{'overall':<10}{'':>8}{o['n']:>6}{o['top1']:>8.3f}{o['top3']:>8.3f}{o['review_rate']:>8.3f}"
        f"{o['reference']['top1']:>10.3f}{o['reference']['top3']:>10.3f}"
    )
    lines.append(f"gain over the reference: top-1 {o['gain']['top1']:+.3f}, top-3 {o['gain']['top3']:+.3f}")
    for s in result["skipped_periods"]:
        lines.append(f"skipped {s['period']} ({s['n']} rows): {s['why']}")
    return "\n".join(lines)


def add_prequential_arguments(parser) -> None:
    """Options for `disposisi evaluate --prequential` (the evaluate command adds them)."""
    parser.add_argument("--prequential", action="store_true", help="replay history period by period (train on the past, test on the period)")
    parser.add_argument("--period", default="month", choices=sorted(PERIODS), help="prequential period (default month)")
    parser.add_argument("--since", default=None, help="first prequential period, e.g. 2023-01")
    parser.add_argument("--jobs", type=int, default=1, help="prequential: periods replayed in parallel (processes)")


def run_prequential(args) -> int:
    """`disposisi evaluate --prequential`: uses args.data, args.registry and the options above (+ --json, --seed if present)."""
    from training.train import load_labeled

    from routing_model.registry import DEFAULT_REGISTRY

    registry = Registry.load(getattr(args, "registry", None) or DEFAULT_REGISTRY)
    data = load_labeled(
        args.data,
        registry,
        getattr(args, "text_column", "text"),
        getattr(args, "label_column", "agency"),
        getattr(args, "date_column", "date"),
    )
    as_json = bool(getattr(args, "json", False))
    if not as_json:
        print(HEADER, flush=True)
    result = prequential(
        data,
        registry,
        period=args.period,
        since=args.since,
        seed=int(getattr(args, "seed", 0) or 0),
        log=None if as_json else (lambda line: print(line, flush=True)),
        n_jobs=int(getattr(args, "jobs", 1) or 1),
    )
    result["data"] = {"path": str(args.data), **data.report()}
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_prequential(result))
    return 0
