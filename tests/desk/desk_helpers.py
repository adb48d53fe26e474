"""Helpers for the desk tests: tokens, signing in through the real form, reading CSRF tokens from pages."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))
from clock_helpers import LONG_AGO, RECENT, TODAY, test_clock  # noqa: E402,F401
from svc_helpers import Server, free_port  # noqa: E402,F401  (the suite's one way to start `disposisi serve`)

ADMIN = "desk-admin-token"
VIEWER = "desk-viewer-token"
ADMIN_AUTH = {"Authorization": f"Bearer {ADMIN}"}
VIEWER_AUTH = {"Authorization": f"Bearer {VIEWER}"}
ROOT = Path(__file__).resolve().parents[2]
LAPOR_XLSX = ROOT.parent / "shared" / "data" / "lapor" / "kab_bandung_2021_2023_laporan_ringkas.xlsx"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1) or m.group(2)


def sign_in(client, token: str = ADMIN, name: str = "Ani"):
    page = client.get("/desk/masuk")
    resp = client.post("/desk/masuk", data={"csrf_token": csrf(page.text), "token": token, "name": name})
    assert resp.status_code == 303, resp.text[:500]
    return resp


def page_token(client, path: str = "/desk/") -> str:
    resp = client.get(path)
    assert resp.status_code == 200, resp.status_code
    return csrf(resp.text)


def complaint_items(n: int = 3, day: str = RECENT.isoformat()) -> list[dict]:
    texts = [
        "Jalan di Desa Jelekong rusak parah dan berlubang, mohon segera diperbaiki oleh dinas terkait",
        "e-KTP saya sudah 3 bulan belum jadi, kata petugas blanko habis, hubungi 081234567890",
        "Sampah menumpuk di pinggir jalan dekat pasar Soreang, bau sekali dan tidak pernah diangkut",
        "Lampu PJU di jalan raya Soreang mati sudah seminggu, gelap dan rawan kecelakaan",
    ]
    return [
        {"id": f"T-{i}", "text": texts[i % len(texts)], "received": f"{day}T08:0{i}:00", "title": f"Judul {i}"}
        for i in range(n)
    ]
