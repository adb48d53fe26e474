"""Prequential replay on a small slice of the demo data (the LAPOR! figure is measured in the report)."""

from __future__ import annotations

import argparse

import pytest
from learning_helpers import DEMO_CSV

from service.cli.evaluate import add_prequential_arguments
from training.learning.prequential import PERIODS, prequential, run_prequential
from training.train import load_labeled


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory, registry):
    import pandas as pd

    frame = pd.read_csv(DEMO_CSV, dtype=str, keep_default_na=False)
    path = tmp_path_factory.mktemp("preq") / "small.csv"
    frame[frame["date"] < "2023-06-01"].to_csv(path, index=False)
    return path


def test_prequential_replays_month_by_month(small_demo, registry):
    data = load_labeled(small_demo, registry)
    result = prequential(data, registry, period="month", since="2023-05")
    periods = result["periods"]
    assert [p["period"] for p in periods] == ["2023-05"]
    dates = data.frame["date"]
    # trained on everything before the period, tested on the period
    assert periods[0]["n_train"] == int((dates < "2023-05-01").sum()) and periods[0]["n"] == int(
        dates.str.startswith("2023-05").sum()
    )
    overall = result["overall"]
    assert overall["n"] == sum(p["n"] for p in periods)
    weighted = sum(p["top1"] * p["n"] for p in periods) / overall["n"]
    assert overall["top1"] == pytest.approx(weighted)
    for block in (overall, overall["reference"], *periods, *(p["reference"] for p in periods)):
        assert 0 <= block["top1"] <= block["top3"] <= 1
    assert 0 <= overall["review_rate"] <= 1
    assert overall["auto_share"] == pytest.approx(1 - overall["review_rate"])
    auto = sum(p["auto_n"] for p in periods)
    assert overall["auto_n"] == auto and 0 <= overall["ece"] <= 1


def test_prequential_arguments_and_bad_since(small_demo, capsys):
    parser = argparse.ArgumentParser()
    parser.add_argument("--data")
    parser.add_argument("--json", action="store_true")
    add_prequential_arguments(parser)
    args = parser.parse_args(["--prequential", "--data", str(small_demo), "--since", "2030-01", "--json"])
    assert args.prequential and args.period == "month"
    periods = next(a for a in parser._actions if a.dest == "period").choices
    assert sorted(periods) == sorted(PERIODS)  # the CLI offers exactly the periods the replay knows
    from routing_model.errors import DisposisiError  # what the CLI prints as one line, exit 2

    with pytest.raises(DisposisiError, match="2030-01"):
        run_prequential(args)


def test_the_replayed_live_guard_withdraws_a_failing_agency_from_the_next_day_on():
    """Rows are decided in date order; an auto-suggestion's outcome is known from the next day,
    as admins' feedback would be. PUTR fails from day 1; after enough misses its rows go to review,
    while Disdik, which keeps its promise, stays auto-suggested."""
    import numpy as np

    from training.learning.prequential import GuardReplay

    dates = [f"2023-05-{d:02d}" for d in range(1, 21)]
    predicted = ["PUTR" if d % 2 else "Disdik" for d in range(1, 21)]
    top1 = [p == "Disdik" for p in predicted]  # PUTR is always wrong, Disdik always right
    review = GuardReplay().review({"dates": dates, "predicted": predicted, "model_review": np.zeros(20, bool)}, top1)
    putr = [r for r, p in zip(review, predicted) if p == "PUTR"]
    assert putr[:5] == [False] * 5  # five outcomes before the guard judges
    assert all(putr[5:])  # then withdrawn for the rest of the window
    assert not any(r for r, p in zip(review, predicted) if p == "Disdik")


def test_prequential_until_keeps_the_test_year_out(small_demo, registry):
    data = load_labeled(small_demo, registry)
    result = prequential(data, registry, period="month", since="2023-04", until="2023-04")
    assert [p["period"] for p in result["periods"]] == ["2023-04"]
    assert "without_live_guard" in result["overall"] and "withdrawn_rows" in result["periods"][0]
