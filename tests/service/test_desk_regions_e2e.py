"""The desk of a deployment of many regions in a real browser (issue 17, "measure it"): a deployment made with the
shell (`disposisi region add` on the demo model, `disposisi account create`), a real `disposisi serve` on a real
SQLite file, Debian's chromium via Playwright. Bandung's admin imports a complaint about Kota Samarinda and forwards
it (the destination pre-filled); Samarinda's admin finds it in its queue, suggested by Samarinda's model, its received
time and due date kept; Bandung's admin sees it in its forwarded list and can no longer open it. Screenshots go to
DISPOSISI_SCREENSHOT_DIR when set (docs/screenshots/ region-queue, forward, forwarded-list, region-picker and
region-switcher were made so), else to a temporary directory: a test run leaves the tree as it was."""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from clock_helpers import RECENT
from region_helpers import BANDUNG, SAMARINDA, TEXTS
from svc_helpers import Server, disposisi_cmd

from service.desk.browser import browser_page

pytestmark = pytest.mark.slow
SHOTS = Path(os.environ.get("DISPOSISI_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="desk-regions-shots-"))
PASSWORD = "sandi-meja-wilayah-2026"
FORWARDED = "LPR-SMD-1"


def _cli(args: list[str], env: dict, stdin: str | None = None) -> str:
    import os

    done = subprocess.run(
        [*disposisi_cmd(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture()
def served(demo_model_dir, tmp_path):
    data_dir = tmp_path / "var"
    env = {"DISPOSISI_DATA_DIR": str(data_dir)}
    _cli(["region", "add", "--region", "Kabupaten Bandung", "--base", str(demo_model_dir)], env)
    _cli(["region", "add", "--region", "Kota Samarinda"], env)
    for user, role, region in (
        ("adm-bandung", "admin", "Kabupaten Bandung"),
        ("adm-samarinda", "admin", "Kota Samarinda"),
        ("opa", "operator", None),
    ):
        where = ["--region", region] if region else []
        _cli(["account", "create", "--username", user, "--role", role, *where], env, stdin=PASSWORD + "\n")
    server = Server([], env, tmp_path / "server.log")
    try:
        server.wait_ready()
        yield server, data_dir
    finally:
        server.stop()


def _registry_names(data_dir: Path, region: str) -> set[str]:
    with (data_dir / "regions" / region / "registry.csv").open(encoding="utf-8") as f:
        return {row["name"] for row in csv.DictReader(line for line in f if not line.startswith("#"))}


def _sign_in(page, base: str, user: str) -> None:
    page.goto(base + "/desk/masuk")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("#sign-in-password")
    assert "/desk/masuk" not in page.url, page.inner_text("main")


def _sign_out(page) -> None:
    with page.expect_navigation():
        page.click("#sign-out")


def _shot(page, name: str, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=full_page)
    assert (SHOTS / name).stat().st_size > 10_000


def test_a_forward_between_two_regions_in_a_real_browser(served, tmp_path):
    server, data_dir = served
    base = server.base
    upload = tmp_path / "lapor.csv"
    with upload.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Tracking ID", "Judul Laporan", "Isi Laporan Awal", "Tanggal Laporan Masuk"])
        w.writerow(
            [FORWARDED, "Lampu jalan mati di Samarinda Ulu", f"{TEXTS[SAMARINDA]}, Kota Samarinda", f"{RECENT} 09:15"]
        )
        w.writerow(["LPR-BDG-1", "Jalan rusak di Baleendah", TEXTS[BANDUNG], f"{RECENT} 08:40"])
    started = time.monotonic()
    with browser_page(width=1280, height=860) as page:
        # Bandung's admin: one region, today's URLs; imports the export
        _sign_in(page, base, "adm-bandung")
        assert urlsplit(page.url).path == "/desk/" and page.locator("#region-switch").count() == 0
        page.set_input_files("#file", str(upload))
        with page.expect_navigation():
            page.click("#upload-button")
        assert "2 pengaduan baru diimpor" in page.inner_text(".messages")
        row = page.locator("#queue tr", has_text=FORWARDED)
        assert "luar wilayah: Kota Samarinda" in row.inner_text()

        # the complaint: "bukan wewenang" pre-filled with Kota Samarinda, served here
        with page.expect_navigation():
            row.locator("a.open-link").click()
        clock_before = page.inner_text("p.meta")
        assert page.input_value("#destination") == SAMARINDA
        group = page.eval_on_selector("#destination option:checked", "o => o.parentElement.dataset.group")
        assert group == "served"
        page.locator("#not-ours-form").scroll_into_view_if_needed()
        _shot(page, "forward.png")
        with page.expect_navigation():
            page.click("#not-ours-form button[type=submit]")
        assert urlsplit(page.url).path == "/desk/"
        assert "Diteruskan ke Kota Samarinda" in page.inner_text(".messages")
        assert page.locator("#queue", has_text=FORWARDED).count() == 0

        # Bandung's forwarded list has the row; the complaint's page is gone for Bandung
        with page.expect_navigation():
            page.click("#forwards-link")
        out = page.inner_text("#forwards-out")
        for text in (FORWARDED, "Lampu jalan mati di Samarinda Ulu", "Kota Samarinda", "adm-bandung", "dipindahkan"):
            assert text in out
        _shot(page, "forwarded-list.png")
        gone = page.goto(f"{base}/desk/pengaduan/{FORWARDED}")
        assert gone.status == 404 and "tidak ada" in page.inner_text("main")
        _sign_out(page)

        # Samarinda's admin: in the queue, marked, suggested by Samarinda's model, the same clock
        _sign_in(page, base, "adm-samarinda")
        row = page.locator("#queue tr", has_text=FORWARDED)
        assert "diteruskan dari Kabupaten Bandung" in row.inner_text()
        queued = row.locator(".sugg .agency").all_inner_texts()
        samarinda, bandung = _registry_names(data_dir, SAMARINDA), _registry_names(data_dir, BANDUNG)
        assert queued and set(queued) <= samarinda - bandung, queued
        assert "Kota Samarinda" in queued[0]
        _shot(page, "region-queue.png")
        with page.expect_navigation():
            row.locator("a.open-link").click()
        assert page.inner_text("p.meta") == clock_before  # received time, working days and due date kept
        note = page.inner_text("[data-forward=in]")
        assert note.startswith("Diteruskan dari Kabupaten Bandung oleh adm-bandung pada")
        _sign_out(page)

        # the operator: /desk/ is the picker of both regions, with their counts; the switcher marks the region
        _sign_in(page, base, "opa")
        picker = page.inner_text("#region-picker")
        assert "Kabupaten Bandung" in picker and "Kota Samarinda" in picker
        assert page.inner_text(f"tr[data-region={SAMARINDA}] td.num >> nth=0") == "1"
        _shot(page, "region-picker.png")
        with page.expect_navigation():
            page.click("#region-picker a.region-link >> text=Kota Samarinda")
        assert urlsplit(page.url).path == f"/desk/wilayah/{SAMARINDA}/"
        assert page.inner_text("#region-name") == "Kota Samarinda"
        assert page.locator("#queue", has_text=FORWARDED).count() == 1
        # the switcher: both regions, the current one marked; a link keeps to the chosen region
        page.click("#region-switch summary")
        assert page.get_attribute("#region-switch a[aria-current=page]", "href") == f"/desk/wilayah/{SAMARINDA}/"
        _shot(page, "region-switcher.png", full_page=False)
        with page.expect_navigation():
            page.click(f"#region-switch a[href='/desk/wilayah/{BANDUNG}/']")
        assert page.inner_text("#region-name") == "Kabupaten Bandung"
        assert page.get_attribute("#forwards-link", "href") == f"/desk/wilayah/{BANDUNG}/diteruskan"
    assert time.monotonic() - started < 120
