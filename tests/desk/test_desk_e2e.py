"""The desk as an admin uses it: real `disposisi serve`, real SQLite file, Debian's chromium via Playwright."""

from __future__ import annotations

import sqlite3
import time
from urllib.parse import urlsplit

import pandas as pd
import pytest
from desk_helpers import ADMIN, LAPOR_XLSX, Server

from service.desk.browser import browser_page

pytestmark = pytest.mark.slow


@pytest.fixture()
def served(demo_model_dir, tmp_path):
    env = {"DISPOSISI_DATA_DIR": str(tmp_path / "var"), "DISPOSISI_ADMIN_TOKENS": ADMIN}
    server = Server(["--model", str(demo_model_dir)], env, tmp_path / "server.log")
    try:
        server.wait_ready()
        yield server, tmp_path / "var" / "disposisi.sqlite3"
    finally:
        server.stop()


def test_admin_works_through_the_queue_in_a_real_browser(served, tmp_path, shared_data):
    server, db = served
    started = time.monotonic()
    with browser_page() as page:
        # sign in with the keyboard only: the token field has focus, Tab to the name, Enter submits
        page.goto(server.base + "/desk/")
        assert "/desk/masuk" in page.url
        # Chromium applies autofocus at its next rendering step, which on a loaded machine can come
        # after the load event: wait for it (a missing autofocus still fails here), then type.
        page.wait_for_function("document.activeElement && document.activeElement.id === 'token'", timeout=10_000)
        page.keyboard.type(ADMIN)
        page.keyboard.press("Tab")
        page.keyboard.type("Ani")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        # the sign-in page's own address ends in next=/desk/, so match the queue's path exactly
        assert urlsplit(page.url).path == "/desk/", page.inner_text("main")

        # upload the real LAPOR! export
        page.set_input_files("#file", str(LAPOR_XLSX))
        page.click("#upload-button")
        page.wait_for_selector(".msg-ok")
        assert "580 pengaduan baru diimpor" in page.inner_text(".messages")
        clocks = page.locator("#queue .sla")
        assert (
            clocks.count() == 50
            and "hari kerja" in clocks.first.inner_text()
            and "lewat batas" in clocks.first.inner_text()
        )

        # keyboard: j selects the first row, Enter opens it, 1 accepts the first suggestion
        page.keyboard.press("j")
        assert page.evaluate("document.activeElement.classList.contains('open-link')")
        first_id = page.evaluate("document.activeElement.textContent").strip()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url.endswith(f"/desk/pengaduan/{first_id}")
        assert page.locator("#complaint-text").count() == 1
        top = page.locator("ol.choices li .agency").first.inner_text()
        with page.expect_navigation():
            page.keyboard.press("1")
        assert f"Pengaduan {first_id}" in page.inner_text(".messages") and top in page.inner_text(".messages")

        # we are on the next complaint: correct it with the type-ahead (datalist from the registry)
        second_id = page.url.rsplit("/", 1)[1]
        page.click("#agency")
        page.keyboard.type("Dinas Sosial")
        options = page.eval_on_selector_all("#agency-list option", "els => els.map(e => e.value)")
        assert "Dinas Sosial Kabupaten Bandung" in options
        page.fill("#agency", "Dinas Sosial Kabupaten Bandung")
        with page.expect_navigation():
            page.click("#correct-form button[type=submit]")
        assert "Dikoreksi" in page.inner_text(".messages")

        # the third: bukan wewenang, forwarded to another region
        third_id = page.url.rsplit("/", 1)[1]
        page.select_option("#destination", "Kota Bandung")  # a select: regions, provinces, national bodies
        with page.expect_navigation():
            page.click("#not-ours-form button[type=submit]")
        assert "Bukan wewenang" in page.inner_text(".messages")

        # undo the correction
        page.goto(f"{server.base}/desk/pengaduan/{second_id}")
        with page.expect_navigation():
            page.click("#undo")
        assert "dibatalkan" in page.inner_text(".messages")
        assert page.locator("#accept-1").count() == 1  # open again

        # export the day's decisions and read the file back
        with page.expect_download() as info:
            page.click("#export-link")
        path = tmp_path / "keputusan.xlsx"
        info.value.save_as(path)
        frame = pd.read_excel(path, dtype=str)
        assert set(frame["Tracking ID"]) == {first_id, third_id}
        assert {"Isi Laporan Awal", "Instansi Terdisposisi", "Keputusan"} <= set(frame.columns)
        assert set(frame["Keputusan"]) == {"Diterima", "Bukan wewenang"}

        # the feedback rows retrain reads
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT complaint_id, action, chosen_agency, admin FROM feedback ORDER BY id"
            ).fetchall()
        assert [(r[0], r[1]) for r in rows] == [(first_id, "accepted"), (third_id, "not_our_authority")]
        assert rows[0][2] == top and rows[0][3] == "Ani"

        # the overview renders its charts
        page.goto(server.base + "/desk/ringkasan")
        assert page.locator("svg.chart").count() == 2

        # sign out: the queue is refused
        with page.expect_navigation():
            page.click("#sign-out")
        page.goto(server.base + "/desk/")
        assert "/desk/masuk" in page.url and page.locator("#token").count() == 1
    assert time.monotonic() - started < 90
