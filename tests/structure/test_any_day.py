"""The desk suite passes on any day: run whole, in a fresh process, with the test clock on other dates.

The suite takes "today" from ``tests/clock_helpers.py`` (``DISPOSISI_TEST_NOW``), and the service from its
injected clock; neither reads the machine's date. Two far-off days prove it: an ordinary working day years
ahead, and the second day of Idul Fitri, when no working day passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import holidays
import pytest

from service import sla

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _idul_fitri_second_day(year: int) -> date:
    days = holidays.country_holidays("ID", years=year, language="en_US")
    return next(d for d, name in sorted(days.items()) if "Eid al-Fitr Second Day" in name)


@pytest.mark.parametrize(
    "day", [date(2030, 1, 15), _idul_fitri_second_day(2030)], ids=["2030-01-15", "idul-fitri-2030"]
)
def test_desk_suite_passes_on_another_day(day):
    if day != date(2030, 1, 15):
        assert not sla.is_working_day(day)  # inside the holiday, as intended
    env = {**os.environ, "DISPOSISI_TEST_NOW": f"{day.isoformat()}T09:30:00+07:00"}
    env.pop("DISPOSISI_CLOCK_START", None)  # the child sets it from DISPOSISI_TEST_NOW
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/desk"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, tail
    assert " passed" in proc.stdout and " failed" not in proc.stdout and " skipped" not in proc.stdout, tail
