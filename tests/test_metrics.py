"""Code tests for the quality figures every report relies on."""

import numpy as np
import pytest

from routing_model.model.metrics import (
    coverage_at_precision,
    expected_calibration_error,
    review_threshold,
    summarize,
    topk_accuracy,
    wilson_lower,
)
from training.weights import recency_weights


def test_topk_accuracy_counts_label_within_k():
    proba = np.array([[0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    classes = ["a", "b", "c"]
    y = ["b", "c", "b"]
    assert topk_accuracy(proba, classes, y, 1) == pytest.approx(1 / 3)
    assert topk_accuracy(proba, classes, y, 2) == pytest.approx(2 / 3)
    assert topk_accuracy(proba, classes, y, 3) == pytest.approx(1.0)


def test_unknown_label_is_never_a_hit():
    assert topk_accuracy(np.array([[0.5, 0.5]]), ["a", "b"], ["z"], 2) == 0.0


def test_ece_zero_when_confidence_matches_accuracy_and_large_when_overconfident():
    conf = np.full(10, 0.7)
    correct = np.array([1] * 7 + [0] * 3)
    assert expected_calibration_error(conf, correct) == pytest.approx(0.0)
    assert expected_calibration_error(np.full(10, 0.99), np.zeros(10)) == pytest.approx(0.99)


def test_review_threshold_promises_only_what_the_rows_vouch_for():
    """The Wilson lower bound of the precision above the threshold must reach the target: 5 right
    of 5 is not yet 90 %; 30 right of 30 is."""
    conf = np.array([0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4])
    correct = np.array([1, 1, 1, 1, 1, 0, 1, 0])
    assert review_threshold(conf, correct, target_precision=0.9, min_support=3) == 1.0
    assert review_threshold(conf, correct, target_precision=0.9, min_support=3, z=0.0) == pytest.approx(
        0.7
    )  # point estimate
    many = np.linspace(0.99, 0.5, 40)
    hits = np.r_[np.ones(30), np.zeros(10)]
    t = review_threshold(many, hits, target_precision=0.9)
    kept = many >= t
    assert 30 <= kept.sum() < 40 and hits[kept].mean() >= 0.9  # the lowest cut the bound allows
    assert wilson_lower(hits[kept].sum(), kept.sum(), 1.0) >= 0.9
    assert (
        wilson_lower(hits[: kept.sum() + 1].sum(), kept.sum() + 1, 1.0) < 0.9
    )  # one row more would not be vouched for
    # never precise enough -> everything needs review
    assert review_threshold(conf, np.zeros(8), 0.9) == 1.0


def test_coverage_at_precision_is_the_largest_precise_prefix():
    conf = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 0, 0])
    assert coverage_at_precision(conf, correct, 0.9) == pytest.approx(0.5)
    assert coverage_at_precision(conf, np.zeros(4), 0.9) == 0.0


def test_summarize_reports_the_standard_figures_and_per_agency_support():
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    report = summarize(proba, ["a", "b"], ["a", "b", "b"], review=proba.max(axis=1) < 0.65)
    assert report["top1"] == pytest.approx(2 / 3)
    assert report["top3"] == pytest.approx(1.0)
    assert report["per_agency"]["b"]["support"] == 2
    assert report["per_agency"]["b"]["recall"] == pytest.approx(0.5)
    assert 0 <= report["macro_f1"] <= 1
    assert report["review"]["coverage"] == pytest.approx(2 / 3)
    assert report["review"]["precision"] == pytest.approx(1.0)  # rows 1 and 2 (0.8 "a", 0.7 "b") are both right


def test_recency_weights_halve_every_half_life_and_fill_undated_rows():
    w = recency_weights(["2023-01-01", "2022-01-01", "", "2021-01-01"], 365)
    assert w[0] == pytest.approx(1.0)
    assert w[1] == pytest.approx(0.5, abs=0.01)
    assert w[3] == pytest.approx(0.25, abs=0.01)
    assert w[2] == pytest.approx(np.median([w[0], w[1], w[3]]))
    assert recency_weights(["2023-01-01"], None) is None


def test_a_threshold_that_failed_in_one_held_out_period_is_not_promised():
    """Pooled, 27 of 28 above 0.6 are right; but all three misses of period 1 are above 0.6 too:
    a cut that held in period 0 and failed in period 1 is vetoed, a stricter one that held in both
    is kept."""
    conf = np.array([0.99] * 20 + [0.95] * 5 + [0.7] * 3 + [0.65] * 3 + [0.3] * 5)
    correct = np.array([1] * 20 + [1] * 5 + [0] * 3 + [1] * 3 + [0] * 5)
    blocks = np.array([0] * 20 + [1] * 5 + [1] * 3 + [0] * 3 + [0] * 5)
    pooled = review_threshold(conf, correct, 0.80)
    steady = review_threshold(conf, correct, 0.80, blocks=blocks)
    assert pooled < 0.7  # pooled, the misses of period 1 hide among period 0's hits
    assert steady == pytest.approx(0.95)
