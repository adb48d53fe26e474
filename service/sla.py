"""The SP4N-LAPOR! SLA clock: working days, skipping weekends and Indonesian public holidays.

Pure functions (no database, no clock: "today" is passed in, from ``service.clock``): the admin verifies a complaint within
3 working days of its arrival, the agency answers with a follow-up plan within 5 working days after
that (``/work/shared/reference/sp4n-lapor.md``; Permen PANRB 62/2018). The desk stores the due dates at
import, so "overdue" is an indexed comparison rather than a calendar walk per row.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

VERIFY_DAYS = 3  # admin: verification and disposisi
FOLLOW_UP_DAYS = 5  # agency: coordination / follow-up plan, counted from the verification deadline
LOCAL_TZ = ZoneInfo("Asia/Jakarta")  # LAPOR! export times are WIB; "today" is the admin's day


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The date ``n`` working days after ``start`` (the day of arrival itself does not count)."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    if end <= start:
        return 0
    # whole weeks in one step (5 working days each), then the holidays inside, then the rest
    total = 0
    day = start
    span = (end - start).days
    weeks, rest = divmod(span, 7)
    if weeks:
        total += 5 * weeks
        stop = start + timedelta(days=7 * weeks)
        total -= sum(
            1 for y in range(start.year, stop.year + 1) for h in _holidays(y) if start < h <= stop and h.weekday() < 5
        )
        day = stop
    for _ in range(rest):
        day += timedelta(days=1)
        total += is_working_day(day)
    return total


def due_dates(received: date) -> tuple[date, date]:
    """(verification due, follow-up due) for a complaint received on ``received``."""
    verify = add_working_days(received, VERIFY_DAYS)
    return verify, add_working_days(verify, FOLLOW_UP_DAYS)


def clock(received: date, due: date, today: date, open_: bool = True) -> dict:
    """What the queue shows: working days open, the due date, overdue or not."""
    days = working_days_between(received, today)
    return {
        "working_days_open": days,
        "due": due.isoformat(),
        "overdue": bool(open_ and today > due),
        "limit": VERIFY_DAYS,
    }
