"""`make desk-demo`: the desk on the demo model with the team-written demo complaints, and screenshots of it.

Starts ``disposisi serve`` on a free loopback port with a fresh SQLite file, imports
``data/demo/desk_complaints.csv`` through the public API (dates shifted so the newest is today),
takes a few decisions, and saves screenshots of the queue, one complaint and the overview into
``models/desk_demo/`` with Debian's chromium (Playwright). The server is stopped at the end.
"""

from __future__ import annotations

import argparse
import csv
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from ..launch import ServeProcess, ServerStartError

ROOT = Path(__file__).resolve().parents[2]
DEMO_CSV = ROOT / "data" / "demo" / "desk_complaints.csv"


def demo_items(path: Path = DEMO_CSV, today: datetime | None = None) -> list[dict]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    stamps = [datetime.fromisoformat(r["date"]) for r in rows]
    shift = (today or datetime.now()).date() - max(stamps).date()
    return [
        {
            "id": r["id"],
            "title": r["title"],
            "text": r["text"],
            "received": (s + timedelta(days=shift.days)).isoformat(),
            "confidential": r["confidentiality"].strip().lower() == "rahasia",
        }
        for r, s in zip(rows, stamps)
    ]


def main(argv: list[str] | None = None) -> int:
    import requests

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "demo"))
    parser.add_argument("--out", default=str(ROOT / "models" / "desk_demo"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "disposisi.sqlite3"
    for leftover in out.glob("disposisi.sqlite3*"):
        leftover.unlink()
    token = secrets.token_urlsafe(16)
    env = {
        "DISPOSISI_DATABASE_URL": f"sqlite:///{db}",
        "DISPOSISI_DATA_DIR": str(out / "var"),
        "DISPOSISI_ADMIN_TOKENS": token,
    }
    with ServeProcess(["--model", args.model, "--workers", "2"], out / "server.log", env) as server:
        try:
            server.wait_ready(90)
        except ServerStartError as exc:
            raise SystemExit(f"desk demo: {exc}") from None
        base = server.base
        auth = {"Authorization": f"Bearer {token}"}
        result = requests.post(base + "/v1/complaints", json=demo_items(), headers=auth, timeout=60).json()
        print(f"imported {result['added']} demo complaints ({result['duplicates_found']} with near-duplicates)")
        first = requests.get(base + "/v1/complaints/DESK-002", headers=auth, timeout=10).json()
        decisions = [
            ("DESK-002", {"action": "accepted", "agency": first["suggestions"][0]["agency"], "admin": "Ani (demo)"}),
            (
                "DESK-013",
                {"action": "not_our_authority", "destination": "Pemerintah Kota Bandung", "admin": "Ani (demo)"},
            ),
            ("DESK-005", {"action": "duplicate", "duplicate_of": "DESK-001", "admin": "Ani (demo)"}),
            ("DESK-012", {"action": "corrected", "agency": "Perumda Air Minum Tirta Raharja", "admin": "Ani (demo)"}),
        ]
        for cid, body in decisions:
            r = requests.post(f"{base}/v1/complaints/{cid}/decision", json=body, headers=auth, timeout=10)
            r.raise_for_status()
        _screenshots(base, token, out)
    return 0


def _screenshots(base: str, token: str, out: Path) -> None:
    from .browser import browser_page

    with browser_page(width=1366, height=900) as page:
        page.goto(base + "/desk/masuk")
        page.fill("#token", token)
        page.fill("#name", "Ani (demo)")
        page.click("#sign-in")
        page.wait_for_url("**/desk/")
        shots = {
            "queue.png": "/desk/",
            "complaint.png": "/desk/pengaduan/DESK-022",
            "overview.png": "/desk/ringkasan",
            "queue_en.png": None,
        }
        for name, path in shots.items():
            if path is None:
                page.goto(base + "/desk/bahasa/en?next=/desk/")
            else:
                page.goto(base + path)
            page.screenshot(path=str(out / name), full_page=True)
            print(f"screenshot {out / name}")


if __name__ == "__main__":
    raise SystemExit(main())
