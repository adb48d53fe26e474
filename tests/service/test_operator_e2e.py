"""The operator sets up a region in a real browser (Debian's chromium via Playwright) against a real `disposisi serve`
of a deployment (real SQLite file): choose the region, upload the agency names, review the unmapped one, activate
and watch the background adapt job finish, then see the region in the overview; remove it (after a confirmation
page) and restore it. Screenshots of the review step,
the overview and the removal go to DISPOSISI_SCREENSHOT_DIR when set (docs/screenshots/operator-*.png were made so)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from region_helpers import PASSWORD
from svc_helpers import Server

from service.desk.browser import browser_page

pytestmark = pytest.mark.slow
LUWU = "kabupaten-luwu-timur"
NAMES = "Dinas Pekerjaan Umum dan Penataan Ruang\nDinas Kesehatan\nRSUD I Lagaligo\nKantor Pengelola Pasar Wotu\n"


def test_operator_sets_up_a_region_in_the_browser(deployment, tmp_path):
    data_dir, _ = deployment
    shots = Path(os.environ.get("DISPOSISI_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    names = tmp_path / "instansi.txt"
    names.write_text(NAMES, encoding="utf-8")
    srv = Server([], {"DISPOSISI_DATA_DIR": str(data_dir)}, tmp_path / "server.log")
    try:
        srv.wait_ready()
        with browser_page(width=1280, height=860) as page:
            page.goto(srv.base + "/desk/operator/")
            page.fill("#username", "opa")
            page.fill("#password", PASSWORD)
            with page.expect_navigation():
                page.click("#sign-in-password")
            assert "Wilayah deployment ini" in page.inner_text("h1")
            page.click("#add-region")
            page.fill("#region-name", "Bandung")
            with page.expect_navigation():
                page.click("#choose-region")
            assert "Kota Bandung (Jawa Barat)" in page.inner_text("#candidates")
            page.fill("#region-name", "Luwu Timur")
            with page.expect_navigation():
                page.click("#choose-region")
            assert page.url.endswith(f"/wilayah/{LUWU}/instansi"), page.url
            page.check("input[name=source][value=names]")
            page.set_input_files("#agencies-file", str(names))
            with page.expect_navigation():
                page.click("#set-agencies")
            assert page.url.endswith(f"/wilayah/{LUWU}/tinjau"), page.inner_text("main")
            rows = page.locator("tr.review-row")
            assert rows.count() >= 1 and "Kantor Pengelola Pasar Wotu" in page.inner_text("#review-form")
            page.screenshot(path=str(shots / "operator-setup.png"), full_page=True)
            started = time.monotonic()
            with page.expect_navigation():
                page.click("#activate")
            assert page.url.endswith(f"/wilayah/{LUWU}/status")
            deadline = time.monotonic() + 240
            while "aktif" != page.inner_text("#region-status").strip() and time.monotonic() < deadline:
                page.wait_for_timeout(1000)  # the page reloads itself (<meta http-equiv=refresh>)
            assert page.inner_text("#region-status").strip() == "aktif", page.inner_text("main")
            print(f"\nbrowser: activate -> active in {time.monotonic() - started:.1f} s")
            page.goto(srv.base + "/desk/operator/")
            assert LUWU in page.inner_text("#regions")
            page.screenshot(path=str(shots / "operator-regions.png"), full_page=True)
            # removed (after a confirmation page), listed apart, then restored on its model
            with page.expect_navigation():
                page.click(f"#region-{LUWU} a.remove-region")
            assert "Hapus wilayah: Kabupaten Luwu Timur" in page.inner_text("h1")
            page.screenshot(path=str(shots / "operator-remove.png"), full_page=True)
            with page.expect_navigation():
                page.click("#confirm-remove")
            assert "Kabupaten Luwu Timur" in page.inner_text("#removed-regions")
            assert page.locator(f"#region-{LUWU}").count() == 0
            with page.expect_navigation():
                page.click(f"#removed-{LUWU} button.restore-region")
            assert LUWU in page.inner_text("#regions") and "aktif" in page.inner_text(f"#region-{LUWU}")
        for shot in ("operator-setup.png", "operator-regions.png", "operator-remove.png"):
            assert (shots / shot).stat().st_size > 10_000, shot
    finally:
        srv.stop()
