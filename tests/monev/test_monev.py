"""Monev's figures (issue 17 part 5) on a hand-built province with known numbers: SQLite file and PostgreSQL.

The scenario and its hand counts are in ``monev_seed.py``: a fortnight around Christmas 2025, so the median
working days to decision must skip a weekend and a public holiday, and one decision at 06:30 WIB falls on the
previous day in UTC.
"""

from __future__ import annotations

import random
import statistics
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from monev_seed import ANCHOR, EXPECTED, PROVINCE, START, A, B, D, seed

from service import monev, sla
from service.auth import Account
from service.db import create_engine, upgrade

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))
from test_service_store import postgres_url  # noqa: E402,F401  (the suite's one PostgreSQL fixture)

SULSEL = Account(1, "sulsel", "supervisor", (), PROVINCE)


def _report(url: str, account=SULSEL, period=None) -> dict:
    engine = create_engine(url)
    try:
        rows = monev.visible_regions(engine, account)
        return monev.monev(engine, rows, period or monev.Period(START, ANCHOR), ANCHOR)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('monev') / 'disposisi.sqlite3'}"
    upgrade(url)
    seed(url)
    return url


def _check_scenario(report: dict) -> None:
    by_slug = {r["slug"]: r for r in report["regions"]}
    assert list(by_slug) == ["kabupaten-gowa", "kabupaten-luwu-timur", "kota-makassar"]  # by name; not Samarinda
    for slug, expected in EXPECTED.items():
        got = {k: by_slug[slug][k] for k in expected}
        assert got == expected, slug
    assert by_slug["kabupaten-luwu-timur"]["lapor_pending_share"] == pytest.approx(2 / 3)
    total = report["total"]
    assert (total["received"], total["open"], total["overdue"], total["overdue_now"], total["decided"]) == (
        7,
        2,
        1,
        2,
        5,
    )
    assert total["median_days"] == 2.0  # of 3, 2, 0 (Luwu Timur) and 1, 5 (Makassar)
    assert (total["decisions"], total["top1"], total["top3"], total["corrections"]) == (5, 2, 3, 2)
    assert (total["forwards_in"], total["forwards_out"], total["lapor"], total["lapor_pending"]) == (2, 2, 3, 2)
    assert [c["agency"] for c in report["corrections"]] == [A, D, B]  # most first, then by name
    assert [(c["away"], c["to"]) for c in report["corrections"]] == [(2, 0), (0, 1), (0, 1)]
    weeks = report["region_weeks"]["kabupaten-luwu-timur"]
    assert [w["iso"] for w in weeks] == ["2025-W51", "2025-W52", "2026-W01"]
    assert [(w["received"], w["open"], w["overdue"], w["decided"], w["median_days"]) for w in weeks] == [
        (2, 1, 1, 1, 0.0),  # LT-3 same day, LT-4 overdue
        (2, 0, 0, 2, 2.5),  # LT-1 3 days across Christmas, LT-2 2 days across Christmas and a weekend
        (1, 1, 0, 0, None),  # LT-5 still within its deadline
    ]
    assert [(w["decisions"], w["top1"], w["top3"], w["lapor"], w["lapor_pending"]) for w in weeks] == [
        (1, 1, 1, 1, 1),
        (2, 0, 1, 1, 0),
        (1, 0, 0, 1, 1),
    ]
    assert [w["received"] for w in report["weeks"]] == [4, 2, 1]  # the province per week


def test_figures_of_a_province_match_the_hand_counts_on_sqlite(sqlite_url):
    _check_scenario(_report(sqlite_url))


def test_figures_are_the_same_on_postgresql(postgres_url):  # noqa: F811
    upgrade(postgres_url)
    seed(postgres_url)
    _check_scenario(_report(postgres_url))


def test_the_period_bounds_are_days_in_wib(sqlite_url):
    # only 22-26 December: LT-1 (decided 26 Dec 06:30 WIB = 25 Dec 23:30 UTC) and LT-2, SM-1 is another province
    report = _report(sqlite_url, period=monev.Period(date(2025, 12, 22), date(2025, 12, 26)))
    lt = next(r for r in report["regions"] if r["slug"] == "kabupaten-luwu-timur")
    assert (lt["received"], lt["decided"], lt["median_days"]) == (2, 2, 2.5)
    assert (lt["decisions"], lt["corrections"], lt["forwards_out"], lt["lapor"]) == (2, 2, 1, 1)
    assert [w["iso"] for w in report["weeks"]] == ["2025-W52"]


def test_other_scopes_see_other_regions(sqlite_url):
    everyone = _report(sqlite_url, Account(2, "op", "operator"))
    assert [r["name"] for r in everyone["regions"]] == [
        "Kabupaten Gowa",
        "Kabupaten Luwu Timur",
        "Kota Makassar",
        "Kota Samarinda",
    ]
    assert everyone["total"]["received"] == 8 and everyone["total"]["corrections"] == 3
    viewer = _report(sqlite_url, Account(3, "v", "viewer", ("kota-makassar",)))
    assert [r["slug"] for r in viewer["regions"]] == ["kota-makassar"] and viewer["total"]["received"] == 2
    assert _report(sqlite_url, None)["regions"] == []  # an environment token sees nothing


REGION = {"slug": "kota-makassar", "province": PROVINCE}
OTHER = {"slug": "kota-samarinda", "province": "kalimantan-timur"}


@pytest.mark.parametrize(
    ("account", "own", "other"),
    [
        (Account(1, "op", "operator"), True, True),
        (Account(1, "all", "supervisor"), True, True),
        (SULSEL, True, False),
        (Account(1, "adm", "admin", ("kota-makassar",)), True, False),
        (Account(1, "v", "viewer", ("kota-samarinda",)), False, True),
        (None, False, False),
    ],
)
def test_may_see_region(account, own, other):
    assert monev.may_see_region(account, REGION) is own
    assert monev.may_see_region(account, OTHER) is other


def test_choose_scope(sqlite_url):
    engine = create_engine(sqlite_url)
    try:
        province, choices, rows = monev.choose_scope(engine, SULSEL, None)
        assert province == PROVINCE and choices == [(PROVINCE, "Sulawesi Selatan")] and len(rows) == 3
        with pytest.raises(monev.NotVisible):
            monev.choose_scope(engine, SULSEL, "kalimantan-timur")
        with pytest.raises(monev.NotVisible):
            monev.choose_scope(engine, SULSEL, "")  # "every province" is not a province supervisor's
        province, choices, rows = monev.choose_scope(engine, Account(2, "op", "operator"), None)
        assert province == "" and [c[1] for c in choices] == ["Kalimantan Timur", "Sulawesi Selatan"] and len(rows) == 4
        _, _, rows = monev.choose_scope(engine, Account(2, "op", "operator"), "kalimantan-timur")
        assert [r["slug"] for r in rows] == ["kota-samarinda"]
        with pytest.raises(monev.NotVisible):
            monev.choose_scope(engine, Account(2, "op", "operator"), "aceh")  # no region there
    finally:
        engine.dispose()


def test_working_day_index_agrees_with_the_sla_clock():
    first, last = date(2025, 1, 1), date(2026, 12, 31)
    index = monev.working_day_index(first, last)
    rng = random.Random(0)
    for _ in range(400):
        a = first + timedelta(days=rng.randrange(680))
        b = a + timedelta(days=rng.randrange(40))
        assert index[b] - index[a] == sla.working_days_between(a, b), (a, b)


@pytest.mark.parametrize("values", [[1], [3, 1], [0, 0, 5], [2, 2, 3, 9], [4, 1, 1, 7, 7, 7, 2]])
def test_weighted_median_is_the_median(values):
    assert monev.weighted_median(Counter(values)) == statistics.median(values)
    assert monev.weighted_median(Counter()) is None


def test_periods():
    today = date(2026, 11, 24)  # a Tuesday
    assert monev.default_period(today) == monev.Period(date(2026, 9, 7), today)  # 12 ISO weeks
    assert monev.parse_period(None, None, today) == monev.default_period(today)
    assert monev.parse_period("2026-01-01", "2026-03-31", today) == monev.Period(date(2026, 1, 1), date(2026, 3, 31))
    assert monev.parse_period("2026-11-01", None, today).end == today
    assert monev.Period(date(2026, 11, 18), date(2026, 11, 24)).weeks == [date(2026, 11, 16), date(2026, 11, 23)]
    for start, end, words in [
        ("2026-13-01", None, "YYYY-MM-DD"),
        ("2026-11-24", "2026-11-01", "after"),
        ("2020-01-01", "2026-11-24", "at most"),
    ]:
        with pytest.raises(monev.MonevError, match=words):
            monev.parse_period(start, end, today)


def test_sort_rows_puts_missing_figures_last():
    rows = [
        {"slug": "a", "name": "Kabupaten A", "median_days": 3.0},
        {"slug": "b", "name": "Kabupaten B", "median_days": None},
        {"slug": "c", "name": "Kota C", "median_days": 1.0},
    ]
    assert [r["slug"] for r in monev.sort_rows(rows, "median_days", False)] == ["c", "a", "b"]
    assert [r["slug"] for r in monev.sort_rows(rows, "median_days", True)] == ["a", "c", "b"]
    assert [r["slug"] for r in monev.sort_rows(rows, "drop table", True)] == ["c", "b", "a"]  # unknown: by name


def test_the_weekly_chart_stacks_each_week_on_whole_number_ticks():
    from service.desk import charts

    chart = charts.weekly([("W01", [2, 1, 1]), ("W02", [0, 0, 0])], ["decided", "open", "overdue"])
    assert [t["text"] for t in chart["ticks"]] == ["0", "1", "2", "3", "4", "5"]
    first, empty = chart["columns"]
    assert [p["k"] for p in first["parts"]] == [0, 1, 2] and first["total"] == "4" and empty["parts"] == []
    # stacked bottom up: each part starts where the one below it ends, and 4 of 5 fill 4/5 of the plot
    assert all(abs(a["y"] - (b["y"] + b["h"])) < 0.2 for a, b in zip(first["parts"], first["parts"][1:], strict=False))
    assert abs(sum(p["h"] for p in first["parts"]) - (chart["bottom"] - 16) * 4 / 5) < 0.5
