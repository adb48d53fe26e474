"""The SLA clock: working days skip weekends and Indonesian public holidays."""

from __future__ import annotations

from datetime import date, timedelta

from service import sla


def test_holidays_and_weekends_are_skipped():
    # Friday 14 Aug 2026 + 1 working day: the weekend and Independence Day (Mon 17 Aug) are skipped
    assert sla.add_working_days(date(2026, 8, 14), 1) == date(2026, 8, 18)
    # Thursday 24 Dec 2026 + 1: Christmas (Fri) and the weekend are skipped
    assert sla.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert not sla.is_working_day(date(2026, 8, 17)) and not sla.is_working_day(date(2026, 8, 15))
    assert sla.is_working_day(date(2026, 8, 18))


def test_due_dates_follow_lapor_deadlines():
    verify, follow_up = sla.due_dates(date(2026, 11, 20))  # a Friday
    assert verify == date(2026, 11, 25)  # Mon, Tue, Wed
    assert follow_up == date(2026, 12, 2)  # five more working days
    assert sla.working_days_between(date(2026, 11, 20), verify) == sla.VERIFY_DAYS


def test_working_days_between_matches_a_day_by_day_count():
    start = date(2025, 12, 1)
    for span in (0, 1, 6, 7, 8, 30, 200, 400):
        end = start + timedelta(days=span)
        slow = sum(sla.is_working_day(start + timedelta(days=i)) for i in range(1, span + 1))
        assert sla.working_days_between(start, end) == slow, span
    assert sla.working_days_between(date(2026, 1, 1), date(2026, 12, 31)) == 248


def test_clock_marks_overdue_only_while_open():
    received = date(2026, 11, 20)
    due, _ = sla.due_dates(received)
    assert sla.clock(received, due, date(2026, 11, 26))["overdue"] is True
    assert sla.clock(received, due, date(2026, 11, 25))["overdue"] is False
    assert sla.clock(received, due, date(2026, 11, 26), open_=False)["overdue"] is False
    assert sla.clock(received, due, date(2026, 11, 26))["working_days_open"] == 4
