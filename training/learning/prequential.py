"""Prequential ("test, then train") replay of history, period by period.

For each period (a month by default) from ``since`` on: fit on every labeled row dated before
the period starts (what admins had decided by then), suggest for the rows of the period,
then move on. The reference model (training/reference.py) is replayed the same way. Each
period's model chose its review thresholds on its own latest labeled period, as in production,
so the share auto-suggested and its precision per period are what admins would have seen.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from routing_model import Registry, RoutingModel
from routing_model.errors import DisposisiError
from routing_model.model.live_guard import Outcome, is_withdrawn, withdrawn_agencies
from routing_model.model.metrics import coverage_at_precision, expected_calibration_error
from training.labeled_data import LabeledData
from training.reference import reference_pipeline, reference_scores
from training.train import DEFAULT_CLASSIFIER_PARAMS

from .retrain import row_hits


class PrequentialError(DisposisiError, ValueError):
    """The data cannot be replayed as asked (no dated rows, an unknown period)."""


PERIODS = {"month": "M", "quarter": "Q", "week": "W", "year": "Y"}
MIN_TRAIN_ROWS = 10


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
    log=None,
    n_jobs: int = 1,
    until: str | None = None,
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
    if until:
        periods = [p for p in periods if p.start_time <= pd.Timestamp(until).to_period(PERIODS[period]).start_time]
    if not periods:
        raise PrequentialError(f"no dated rows between {since or 'the start'} and {until or 'the end'}")

    rows, hits = (
        [],
        {
            "ours_top1": [],
            "ours_top3": [],
            "ours_review": [],
            "ours_conf": [],
            "ref_top1": [],
            "ref_top3": [],
            "ref_conf": [],
            "model_review": [],
        },
    )
    skipped, jobs = [], []
    started = time.perf_counter()
    for p in periods:
        train = dated[dated["start"] < p.start_time]
        test = dated[dated["period"] == p]
        if len(test) == 0:
            continue
        if len(train) < MIN_TRAIN_ROWS or train["label"].nunique() < 2:
            skipped.append({"period": str(p), "n": int(len(test)), "why": f"only {len(train)} earlier rows"})
            continue
        jobs.append(
            (
                str(p),
                train["text"].tolist(),
                train["label"].tolist(),
                train["date"].astype(str).tolist(),
                test["text"].tolist(),
                test["label"].tolist(),
                test["date"].astype(str).tolist(),
            )
        )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_replay_period)(job, registry, params, seed) for job in jobs
    )
    guard = GuardReplay()
    for row, period_hits, per_row in results:  # in period order: the guard sees only the past
        period_hits["ours_review"] = guard.review(per_row, period_hits["ours_top1"]).tolist()
        row.update(auto_suggest_figures(period_hits["ours_conf"], period_hits["ours_top1"], period_hits["ours_review"]))
        row["review_rate"] = float(np.mean(period_hits["ours_review"]))
        row["withdrawn_rows"] = int(np.sum(np.asarray(period_hits["ours_review"]) & ~per_row["model_review"]))
        for key, v in period_hits.items():
            hits[key].extend(v)
        hits["model_review"].extend(per_row["model_review"].tolist())
        rows.append(row)
        if log:
            log(_period_line(row))
    n = len(hits["ours_top1"])
    overall = {
        "n": n,
        "top1": float(np.mean(hits["ours_top1"])) if n else float("nan"),
        "top3": float(np.mean(hits["ours_top3"])) if n else float("nan"),
        "review_rate": float(np.mean(hits["ours_review"])) if n else float("nan"),
        **auto_suggest_figures(hits["ours_conf"], hits["ours_top1"], hits["ours_review"]),
        "without_live_guard": auto_suggest_figures(hits["ours_conf"], hits["ours_top1"], hits["model_review"]),
        "reference": {
            "top1": float(np.mean(hits["ref_top1"])) if n else float("nan"),
            "top3": float(np.mean(hits["ref_top3"])) if n else float("nan"),
            "hindsight_share_at_90": coverage_at_precision(hits["ref_conf"], hits["ref_top1"], 0.90),
        },
    }
    overall["gain"] = {m: overall[m] - overall["reference"][m] for m in ("top1", "top3")}
    return {
        "mode": "prequential",
        "period": period,
        "since": since,
        "until": until,
        "seed": seed,
        "params": params,
        "periods": rows,
        "skipped_periods": skipped,
        "overall": overall,
        "seconds": round(time.perf_counter() - started, 1),
    }


def auto_suggest_figures(confidence, top1, review) -> dict:
    """Share auto-suggested (not sent to review), its precision, calibration (ECE), and the
    share one global threshold chosen in hindsight could have auto-suggested at 90 % (per-agency
    thresholds can do better; a single threshold chosen beforehand cannot)."""
    confidence, top1, review = np.asarray(confidence, float), np.asarray(top1, float), np.asarray(review, bool)
    auto = ~review
    return {
        "auto_share": float(auto.mean()) if len(auto) else float("nan"),
        "auto_precision": float(top1[auto].mean()) if auto.any() else float("nan"),
        "auto_n": int(auto.sum()),
        "ece": expected_calibration_error(confidence, top1),
        "hindsight_share_at_90": coverage_at_precision(confidence, top1, 0.90),
    }


class GuardReplay:
    """The live guard (routing_model.model.live_guard) replayed: rows are decided in date order, and
    each auto-suggestion's outcome is known from the next day on, as admins' feedback would be."""

    def __init__(self, target: float = 0.90):
        self.target = target
        self.outcomes: list[Outcome] = []

    def review(self, per_row: dict, top1) -> np.ndarray:
        """Final needs-review per row: the model's, or the guard withdrew the suggested agency."""
        review = per_row["model_review"].copy()
        for i in np.argsort(per_row["dates"], kind="stable"):
            when = datetime.fromisoformat(per_row["dates"][i][:10])
            withdrawn = withdrawn_agencies(self.outcomes, when, self.target)
            review[i] |= is_withdrawn(per_row["predicted"][i], withdrawn)
            if not review[i]:
                self.outcomes.append(Outcome(when, per_row["predicted"][i], bool(top1[i])))
        return review


def _replay_period(job, registry: Registry, params: dict, seed: int) -> tuple[dict, dict, dict]:
    """Fit ours and the reference on the rows before one period; score the period's rows."""
    period, train_x, train_y, train_dates, test_x, y, test_dates = job
    t0 = time.perf_counter()
    dates = train_dates if all(train_dates) else None
    model = RoutingModel(registry, params, random_state=seed).fit(train_x, train_y, dates)
    proba = model.predict_proba(test_x)
    o1, o3 = row_hits(proba, model.classes_, y, 1), row_hits(proba, model.classes_, y, 3)
    review = model.needs_review(proba)
    confidence = proba.max(axis=1)
    ref = reference_pipeline().fit(train_x, train_y)
    rproba = reference_scores(ref, test_x)
    r1, r3 = row_hits(rproba, ref.classes_, y, 1), row_hits(rproba, ref.classes_, y, 3)
    row = {
        "period": period,
        "n_train": len(train_x),
        "n": len(y),
        "top1": float(o1.mean()),
        "top3": float(o3.mean()),
        "review_threshold": float(model.review_threshold_),
        "claimed_precision": model.calibration_.get("review", {}).get("precision"),
        "temperature": float(model.temperature_),
        "reference": {"top1": float(r1.mean()), "top3": float(r3.mean())},
        "new_agencies": sorted(set(y) - set(train_y)),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    hits = {
        "ours_top1": o1.tolist(),
        "ours_top3": o3.tolist(),
        "ours_conf": confidence.tolist(),
        "ref_top1": r1.tolist(),
        "ref_top3": r3.tolist(),
        "ref_conf": rproba.max(axis=1).tolist(),
    }
    per_row = {
        "dates": list(test_dates),
        "predicted": [str(c) for c in model.classes_[proba.argmax(axis=1)]],
        "model_review": np.asarray(review, bool),
    }
    return row, hits, per_row


def _period_line(r: dict) -> str:
    return (
        f"{r['period']:<10}{r['n_train']:>8}{r['n']:>6}{r['top1']:>8.3f}{r['top3']:>8.3f}{r['auto_share']:>8.3f}"
        f"{_fmt(r['auto_precision']):>8}{r['ece']:>8.3f}{r['reference']['top1']:>10.3f}{r['reference']['top3']:>10.3f}"
    )


def _fmt(value) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


HEADER = f"{'period':<10}{'n_train':>8}{'n':>6}{'top1':>8}{'top3':>8}{'auto':>8}{'auto_p':>8}{'ece':>8}{'ref_top1':>10}{'ref_top3':>10}"


def format_prequential(result: dict) -> str:
    lines = [
        f"prequential replay by {result['period']} (seed={result['seed']}); auto = share suggested without review, auto_p = its precision",
        HEADER,
    ]
    lines += [_period_line(r) for r in result["periods"]]
    o = result["overall"]
    lines.append(
        f"{'overall':<10}{'':>8}{o['n']:>6}{o['top1']:>8.3f}{o['top3']:>8.3f}{o['auto_share']:>8.3f}{_fmt(o['auto_precision']):>8}"
        f"{o['ece']:>8.3f}{o['reference']['top1']:>10.3f}{o['reference']['top3']:>10.3f}"
    )
    lines.append(f"gain over the reference: top-1 {o['gain']['top1']:+.3f}, top-3 {o['gain']['top3']:+.3f}")
    u = o["without_live_guard"]
    lines.append(
        f"one global threshold in hindsight: {o['hindsight_share_at_90']:.3f} auto-suggested at 0.90 precision "
        f"(the reference's scores: {o['reference']['hindsight_share_at_90']:.3f})"
    )
    lines.append(
        f"without the live guard: auto {u['auto_share']:.3f} at precision {_fmt(u['auto_precision'])} "
        f"({sum(r['withdrawn_rows'] for r in result['periods'])} rows withdrawn by the guard)"
    )
    for s in result["skipped_periods"]:
        lines.append(f"skipped {s['period']} ({s['n']} rows): {s['why']}")
    return "\n".join(lines)


def run_prequential(args) -> int:
    """`disposisi evaluate --prequential`: uses args.data, args.registry and the options above (+ --json, --seed if present)."""
    from routing_model.registry.agencies import DEFAULT_REGISTRY
    from training.train import load_labeled

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
        until=getattr(args, "until", None),
    )
    result["data"] = {"path": str(args.data), **data.report()}
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_prequential(result))
    return 0
