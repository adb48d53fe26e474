"""Quality figures for routing: accuracy, top-k, macro-F1, calibration, review coverage."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support


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


def review_threshold(confidence: np.ndarray, correct: np.ndarray, target_precision: float = 0.90, min_support: int = 5) -> float:
    """Lowest confidence above which top-1 suggestions reach ``target_precision``.

    Returns 1.0 (everything goes to a human) when no threshold reaches the target on at least
    ``min_support`` rows: an honest "the model is not good enough to skip review yet".
    """
    order = np.argsort(-np.asarray(confidence))
    conf, hit = np.asarray(confidence)[order], np.asarray(correct, float)[order]
    precision = np.cumsum(hit) / np.arange(1, len(hit) + 1)
    best = 1.0
    for i in range(len(conf)):
        # only cut between distinct confidence values
        if i + 1 < len(conf) and conf[i + 1] == conf[i]:
            continue
        if i + 1 >= min_support and precision[i] >= target_precision:
            best = float(conf[i])
    return best


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


def summarize(proba: np.ndarray, classes, y_true, threshold: float | None = None, target_precision: float = 0.90) -> dict:
    """The standard report: top1, top3, macro-F1, ECE, coverage, per-agency figures."""
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
    if threshold is not None:
        report["review"] = coverage_at_threshold(confidence, correct, threshold)
        report["review_rate"] = 1.0 - report["review"]["coverage"]
    return report
