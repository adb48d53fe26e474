"""Choose the classifier settings by cross-validation inside the training period.

The test year is never looked at: rows on or after ``until`` are dropped before the folds are
made. Settings that only re-weight probabilities (``mention_boost``) are scored on the same
fitted folds, so the grid costs one fit per (alpha, function_alpha) and fold.
"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.model_selection import KFold

from routing_model import Registry
from routing_model.io.progress import progress
from routing_model.model.fit.classifier import AgencyClassifier
from routing_model.model.metrics import topk_accuracy

from .weights import recency_weights

# The grid of the SGD model (2026-11-24): alpha and function_alpha 1e-5 .. 1e-3, mandate_boost
# 0 .. 12, mention_boost 0 / 3, function_mix 0 .. 0.7; a wider run over class_weight None and a
# recency half-life of 365 d never beat balanced weights and no decay. Kept small so `select`
# takes minutes. docs/quality.md has the figures.
GRID = {
    "alpha": [1e-4, 3e-4],
    "function_alpha": [1e-4],
    "class_weight": ["balanced"],
    "half_life_days": [None],
    "mention_boost": [0.0, 3.0],
    "mandate_boost": [0.0, 8.0, 12.0],
    "function_mix": [0.0, 0.3, 0.5, 0.7],
}
# Settings applied after the fit (re-weighting probabilities): scored on the same fitted folds.
POST_FIT = ("mention_boost", "mandate_boost", "function_mix")


def _splits(n: int, dates: list[str] | None, folds: int, seed: int):
    """Shuffled K folds, plus (when dated) a forward split: oldest 75% -> newest 25%."""
    yield from KFold(folds, shuffle=True, random_state=seed).split(np.arange(n))
    if dates is not None and all(dates):
        order = np.argsort(np.asarray(dates), kind="stable")
        cut = int(n * 0.75)
        yield order[:cut], order[cut:]


def select(
    texts: list[str],
    labels: list[str],
    registry: Registry,
    grid: dict = GRID,
    folds: int = 5,
    seed: int = 0,
    dates: list[str] | None = None,
    show_progress: bool = True,
) -> list[dict]:
    """Every grid point with its pooled held-out top-1 and top-3, best first (progress: one step per fit)."""
    texts, labels = list(texts), list(labels)
    fitted = [p for p in grid if p not in POST_FIT]
    post = [p for p in POST_FIT if p in grid]
    splits = list(_splits(len(texts), dates, folds, seed))
    results: dict[tuple, dict] = {}
    combos = list(itertools.product(*(grid[p] for p in fitted)))
    with progress(len(combos) * len(splits), "select", "fits", enabled=show_progress) as step:
        for values in combos:
            params = dict(zip(fitted, values))
            clf_params = {k: v for k, v in params.items() if k != "half_life_days"}
            per_boost: dict[tuple, list] = {b: [] for b in itertools.product(*(grid[p] for p in post))}
            for train_idx, test_idx in splits:
                weights = (
                    recency_weights([dates[i] for i in train_idx], params.get("half_life_days")) if dates else None
                )
                clf = AgencyClassifier(registry=registry, **clf_params).fit(
                    [texts[i] for i in train_idx], [labels[i] for i in train_idx], weights
                )
                held = [texts[i] for i in test_idx]
                logits, context = clf.analyse(held)
                for boost in per_boost:
                    clf.set_params(**dict(zip(post, boost)))
                    per_boost[boost].append(
                        (clf.proba_from_logits(logits, context), clf.classes_, [labels[i] for i in test_idx])
                    )
                step(1)
            for boost, parts in per_boost.items():
                n = sum(len(y) for _, _, y in parts)
                top1 = sum(topk_accuracy(p, c, y, 1) * len(y) for p, c, y in parts) / n
                top3 = sum(topk_accuracy(p, c, y, 3) * len(y) for p, c, y in parts) / n
                results[tuple(values) + boost] = dict(
                    params, **dict(zip(post, boost)), top1=top1, top3=top3, score=(top1 + top3) / 2
                )
    return sorted(results.values(), key=lambda r: -r["score"])
