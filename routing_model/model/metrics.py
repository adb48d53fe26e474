"""Quality figures for routing: accuracy, top-k, macro-F1, calibration, review coverage."""

from __future__ import annotations

import numpy as np


def topk_accuracy(proba: np.ndarray, classes, y_true, k: int) -> float:
    """Share of rows whose true label is among the k highest-scored classes."""
    if len(y_true) == 0:
        return float("nan")
    idx = {c: i for i, c in enumerate(classes)}
    top = np.argsort(-proba, axis=1)[:, :k]
    hits = [idx.get(y, -1) in row for y, row in zip(y_true, top)]
    return float(np.mean(hits))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    """ECE of the top-1 confidence, equal-width bins (Guo et al. 2017)."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if confidence.size == 0:
        return float("nan")
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.mean() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(ece)


CONFIDENCE_Z = 1.0  # one-sided: the precision promised is the lower bound at ~84 % confidence


def wilson_bounds(hits, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``hits`` of ``n`` (lower, upper)."""
    n = np.asarray(n, float)
    p = np.asarray(hits, float) / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def wilson_lower(hits: np.ndarray, n: np.ndarray, z: float) -> np.ndarray:
    """Wilson score lower bound of a proportion: what ``hits`` of ``n`` lets one promise."""
    return wilson_bounds(hits, n, z)[0]


MIN_BLOCK_SUPPORT = 3  # rows of one held-out period above a cut before that period can veto it


def review_threshold(
    confidence: np.ndarray,
    correct: np.ndarray,
    target_precision: float = 0.90,
    min_support: int = 5,
    z: float = CONFIDENCE_Z,
    blocks: np.ndarray | None = None,
) -> float:
    """Lowest confidence above which top-1 suggestions reach ``target_precision``, counting only
    what the rows can vouch for: the Wilson lower bound of the precision (``z``) must reach the
    target, so 5 right out of 5 is not yet "90 %". With ``blocks`` (the held-out period of each
    row), the precision must also reach the target in every period that has at least
    ``MIN_BLOCK_SUPPORT`` rows above the cut: a threshold that held in one period and failed in
    the next will fail again (admins' dispatch habits shift, e.g. roads to the kecamatan).

    Returns 1.0 (everything goes to a human) when no threshold reaches the target on at least
    ``min_support`` rows: an honest "the model is not good enough to skip review yet".
    """
    order = np.argsort(-np.asarray(confidence), kind="stable")
    conf, hit = np.asarray(confidence)[order], np.asarray(correct, float)[order]
    n = np.arange(1, len(hit) + 1)
    lower = wilson_lower(np.cumsum(hit), n, z) if len(hit) else np.zeros(0)
    steady = np.ones(len(hit), dtype=bool)
    if blocks is not None and len(hit):
        block = np.asarray(blocks)[order]
        for b in np.unique(block):
            mine = (block == b).astype(float)
            seen, right = np.cumsum(mine), np.cumsum(mine * hit)
            steady &= (seen < MIN_BLOCK_SUPPORT) | (right >= target_precision * seen)
    best = 1.0
    for i in range(len(conf)):
        # only cut between distinct confidence values
        if i + 1 < len(conf) and conf[i + 1] == conf[i]:
            continue
        if i + 1 >= min_support and lower[i] >= target_precision and steady[i]:
            best = float(conf[i])
    return best


MIN_AGENCY_SUPPORT = 8  # held-out suggestions of one agency before it gets its own threshold


def review_thresholds(
    confidence: np.ndarray,
    predicted: np.ndarray,
    correct: np.ndarray,
    target_precision: float = 0.90,
    min_support: int = 5,
    min_agency_support: int = MIN_AGENCY_SUPPORT,
    blocks: np.ndarray | None = None,
) -> tuple[float, dict[str, float]]:
    """(global threshold, {agency: threshold}) from held-out outcomes.

    An agency whose suggestions were frequent enough in the held-out period gets its own
    threshold (an agency whose mandate just moved stops being auto-suggested; a reliable one is
    trusted sooner); the others share the global one. Each is ``review_threshold`` on its rows,
    held in every held-out period (``blocks``).
    """
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    predicted = np.asarray(predicted, dtype=object)
    blocks = None if blocks is None else np.asarray(blocks)
    overall = review_threshold(confidence, correct, target_precision, min_support, blocks=blocks)
    per_agency: dict[str, float] = {}
    for agency in sorted(set(predicted.tolist())):
        mask = predicted == agency
        if mask.sum() >= min_agency_support:
            per_agency[str(agency)] = review_threshold(
                confidence[mask],
                correct[mask],
                target_precision,
                min_support,
                blocks=None if blocks is None else blocks[mask],
            )
    return overall, per_agency


def coverage_at_threshold(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> dict:
    """Share of rows auto-suggested (confidence >= threshold) and their precision."""
    confidence, correct = np.asarray(confidence), np.asarray(correct, float)
    mask = confidence >= threshold
    return {
        "threshold": float(threshold),
        "coverage": float(mask.mean()) if mask.size else float("nan"),
        "precision": float(correct[mask].mean()) if mask.any() else float("nan"),
    }


def coverage_at_precision(confidence: np.ndarray, correct: np.ndarray, target: float = 0.90) -> float:
    """Largest share of rows that can skip review while keeping top-1 precision >= target (oracle threshold)."""
    order = np.argsort(-np.asarray(confidence))
    hit = np.asarray(correct, float)[order]
    if hit.size == 0:
        return float("nan")
    precision = np.cumsum(hit) / np.arange(1, len(hit) + 1)
    ok = np.nonzero(precision >= target)[0]
    return float((ok.max() + 1) / len(hit)) if ok.size else 0.0


def summarize(
    proba: np.ndarray, classes, y_true, review: np.ndarray | None = None, target_precision: float = 0.90
) -> dict:
    """The standard report: top1, top3, macro-F1, ECE, coverage, per-agency figures."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support  # evaluation only: the service never loads it

    classes = np.asarray(classes, dtype=object)
    y_true = list(y_true)
    pred = classes[np.argmax(proba, axis=1)] if len(y_true) else np.array([], dtype=object)
    confidence = proba.max(axis=1) if len(y_true) else np.array([])
    correct = np.array([p == y for p, y in zip(pred, y_true)], dtype=float)
    labels = sorted(set(y_true) | set(pred))
    p, r, f, s = precision_recall_fscore_support(y_true, pred, labels=labels, zero_division=0)
    report = {
        "n": len(y_true),
        "top1": float(correct.mean()) if len(y_true) else float("nan"),
        "top3": topk_accuracy(proba, classes, y_true, 3),
        "macro_f1": float(f1_score(y_true, pred, labels=sorted(set(y_true)), average="macro", zero_division=0)),
        "ece": expected_calibration_error(confidence, correct),
        "coverage_at_precision_90": coverage_at_precision(confidence, correct, target_precision),
        "per_agency": {
            lab: {"precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
            for lab, pi, ri, fi, si in zip(labels, p, r, f, s)
            if si > 0 or pi > 0
        },
    }
    if review is not None:
        auto = ~np.asarray(review, bool)
        report["review"] = {
            "coverage": float(auto.mean()) if auto.size else float("nan"),
            "precision": float(correct[auto].mean()) if auto.any() else float("nan"),
        }
        report["review_rate"] = 1.0 - report["review"]["coverage"]
    return report
