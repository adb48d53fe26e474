"""The tests' one clock. Every test that depends on "today" takes its dates from here, never from the machine.

``DISPOSISI_TEST_NOW`` moves the whole suite to another moment (``tests/structure/test_any_day.py`` runs the
desk suite on 2030-01-15 and inside Idul Fitri); the default is a plain working Tuesday.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

from service import sla
from service.clock import Clock

TEST_NOW = os.environ.get("DISPOSISI_TEST_NOW", "2026-11-24T10:00:00+07:00")


def test_clock() -> Clock:
    """A clock that reads TEST_NOW when made and runs on from there."""
    return Clock.starting_at(TEST_NOW)


test_clock.__test__ = False  # a factory, not a test

TODAY: date = test_clock().today()


def working_days_before(day: date, n: int) -> date:
    """The working day ``n`` working days before ``day`` (so ``n`` working days have passed by ``day``)."""
    while n > 0:
        day -= timedelta(days=1)
        if sla.is_working_day(day):
            n -= 1
    return day


RECENT: date = working_days_before(TODAY, 1)  # received one working day ago: open, not overdue
LONG_AGO: date = TODAY - timedelta(days=3 * 365)  # received three years ago: long overdue (over 700 working days)
