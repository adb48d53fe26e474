"""Code tests for the live guard: admins' corrections of auto-suggestions withdraw a promise."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from routing_model.model.live_guard import EVERY_AGENCY, Outcome, is_withdrawn, withdrawn_agencies

DAY = datetime(2023, 3, 1)


def _outcomes(agency: str, accepted: list[bool], start: datetime = DAY) -> list[Outcome]:
    return [Outcome(start + timedelta(days=i), agency, ok) for i, ok in enumerate(accepted)]


def test_an_agency_whose_auto_suggestions_fail_is_withdrawn_and_the_others_are_not():
    history = _outcomes("PUTR", [True, False, True, False, False, True]) + _outcomes("Disdik", [True] * 12)
    verdict = withdrawn_agencies(history, DAY + timedelta(days=20))
    assert set(verdict) == {"PUTR"}  # the global verdict counts only the agencies still auto-suggested
    assert verdict["PUTR"]["n"] == 6 and verdict["PUTR"]["accepted"] == 3 and verdict["PUTR"]["upper"] < 0.9
    assert is_withdrawn("PUTR", verdict) and not is_withdrawn("Disdik", verdict)


def test_too_few_outcomes_prove_nothing_and_one_miss_in_ten_is_within_the_promise():
    assert withdrawn_agencies(_outcomes("PUTR", [False] * 4), DAY + timedelta(days=10)) == {}
    assert withdrawn_agencies(_outcomes("PUTR", [True] * 9 + [False]), DAY + timedelta(days=20)) == {}


def test_failures_age_out_of_the_window_and_the_future_is_never_read():
    history = _outcomes("PUTR", [False] * 6)
    assert "PUTR" in withdrawn_agencies(history, DAY + timedelta(days=10))
    assert withdrawn_agencies(history, DAY + timedelta(days=200)) == {}  # 90-day window
    assert withdrawn_agencies(history, DAY) == {}  # outcomes on or after as_of are not known yet


def test_a_drift_spread_over_every_agency_withdraws_all_of_them():
    history = []
    for k, agency in enumerate(["A", "B", "C", "D"]):
        history += _outcomes(agency, [True, True, False, True], DAY + timedelta(hours=k))
    verdict = withdrawn_agencies(history, DAY + timedelta(days=10))
    assert set(verdict) == {EVERY_AGENCY}  # no agency alone has enough outcomes; together 12 of 16
    assert is_withdrawn("Z", verdict)


def test_needs_review_and_suggest_follow_the_guard(demo_model):
    text = "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki"
    proba = demo_model.predict_proba([text])
    top = str(demo_model.classes_[proba.argmax()])
    guard = {top: {"n": 6, "accepted": 2, "upper": 0.6}}
    assert demo_model.needs_review(proba, guard)[0]
    assert np.array_equal(demo_model.needs_review(proba, {}), demo_model.needs_review(proba))
    (s,) = demo_model.suggest([text], withdrawn=guard)
    assert s.needs_review and "live_precision_low" in s.warnings and s.top == top


def test_held_out_blocks_are_rolling_and_out_of_time():
    from routing_model.model.fit.holdout import latest_blocks

    dates = [f"2022-{m:02d}-{d:02d}" for m in range(1, 11) for d in range(1, 11)]  # 100 rows, shuffled below
    order = np.random.default_rng(0).permutation(100)
    shuffled = [dates[i] for i in order]
    blocks, how = latest_blocks(100, shuffled, 0.45, 3, seed=0)
    assert len(blocks) == 3 and "3 rolling block" in how
    held = np.concatenate([new for _, new in blocks])
    assert len(held) == 45 and len(set(held.tolist())) == 45
    newest = sorted(shuffled)[55:]
    assert sorted(shuffled[i] for i in held) == newest  # the newest 45 %
    for old, new in blocks:
        assert max(shuffled[i] for i in old) <= min(shuffled[i] for i in new)  # trained only on the past
        assert len(old) + len(new) <= 100
    # few rows: blocks of at least MIN_BLOCK_ROWS; undated: one random block
    assert len(latest_blocks(40, sorted(dates)[:40], 0.45, 3, 0)[0]) == 2
    undated, how = latest_blocks(100, None, 0.45, 3, 0)
    assert len(undated) == 1 and "random" in how
