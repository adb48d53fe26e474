"""Monev as a supervisor sees it: a real `disposisi serve` on a real SQLite file, Debian's chromium via Playwright.

The supervisor of Sulawesi Selatan signs in with username and password, lands on /monev, sorts by a column,
opens a region and downloads the report; a screenshot of /monev is kept (``MONEV_SCREENSHOT`` names where, else
the test's temporary directory) for a person to look at.
"""

from __future__ import annotations

import io
import os
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
from monev_seed import PASSWORD, START, add_accounts, seed, shift_for

from service.desk.browser import browser_page
from service.monev import Period

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))
from clock_helpers import TEST_NOW, TODAY, test_clock  # noqa: E402
from svc_helpers import Server  # noqa: E402

pytestmark = pytest.mark.slow
SHIFT = shift_for(TODAY)


@pytest.fixture()
def served(demo_model_dir, tmp_path):
    from service.accounts import AccountStore
    from service.db import default_sqlite_url, upgrade
    from service.store import FeedbackStore

    var = tmp_path / "var"
    url = default_sqlite_url(var)
    upgrade(url)
    seed(url, SHIFT)
    store = FeedbackStore(url, clock=test_clock())
    add_accounts(AccountStore(store))
    store.engine.dispose()
    env = {"DISPOSISI_DATA_DIR": str(var), "DISPOSISI_CLOCK_START": TEST_NOW}
    server = Server(["--model", str(demo_model_dir)], env, tmp_path / "server.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_supervisor_reads_monev_in_a_real_browser(served, tmp_path):
    shot = Path(os.environ.get("MONEV_SCREENSHOT") or tmp_path / "monev.png")
    start = (START + timedelta(weeks=SHIFT - 10)).isoformat()  # thirteen weeks, the scenario in the last three
    weeks = len(Period(date.fromisoformat(start), TODAY).weeks)
    with browser_page(width=1440, height=1100) as page:
        page.goto(served.base + "/monev")
        assert "/desk/masuk" in page.url
        page.fill("#username", "sulsel")
        page.fill("#password", PASSWORD)
        with page.expect_navigation():
            page.click("#sign-in-password")
        assert urlsplit(page.url).path == "/monev", page.inner_text("main")
        page.fill("#from", start)
        with page.expect_navigation():
            page.click("#period-form button[type=submit]")
        rows = page.locator("#regions tbody th a")
        assert rows.all_inner_texts() == ["Kabupaten Gowa", "Kabupaten Luwu Timur", "Kota Makassar"]
        assert page.inner_text("#kpi-received") == "8"  # 7 in the scenario's fortnight, LT-6 six weeks before
        assert page.locator("svg.chart rect").count() >= 4  # the weekly bars and the legend
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000

        # sort by "received" with a click on the header (a plain link: no script): largest first, then turned round
        with page.expect_navigation():
            page.click("#regions thead a:has-text('Pengaduan masuk')")
        assert rows.all_inner_texts()[0] == "Kabupaten Luwu Timur" and "dir=desc" in page.url
        with page.expect_navigation():
            page.click("#regions thead a:has-text('Pengaduan masuk')")
        assert rows.all_inner_texts()[0] == "Kabupaten Gowa" and "dir=asc" in page.url
        assert f"from={start}" in page.url  # the chosen period is kept

        with page.expect_download() as download:
            page.click("#xlsx-link")
        book = pd.read_excel(io.BytesIO(Path(download.value.path()).read_bytes()), sheet_name=None, header=None)
        assert list(book) == ["Ringkasan", "Mingguan", "Koreksi"]

        with page.expect_navigation():
            page.click("#regions tbody a:has-text('Kabupaten Luwu Timur')")
        assert page.inner_text("h1") == "Kabupaten Luwu Timur" and page.locator("#weeks tbody tr").count() == weeks
        assert "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Luwu Timur" in page.inner_text("#corrections")
        page.screenshot(path=str(shot.with_name("monev-region.png")), full_page=True)
        page.goto(served.base + "/monev/kota-samarinda")
        assert "Tidak ditemukan" in page.inner_text("main")
