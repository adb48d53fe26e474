"""`make desk-demo`: the desk on the demo model with the team-written demo complaints, and screenshots of it.

Starts ``disposisi serve`` on a free loopback port with a fresh SQLite file, imports
``data/demo/desk_complaints.csv`` through the public API (dates shifted so the newest is today),
takes a few decisions, and saves screenshots of the queue, one complaint and the overview into
``models/desk_demo/`` with Debian's chromium (Playwright). The server is stopped at the end.
"""
from __future__ import annotations

import argparse
import csv
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_CSV = ROOT / "data" / "demo" / "desk_complaints.csv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def demo_items(path: Path = DEMO_CSV, today: datetime | None = None) -> list[dict]:
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    stamps = [datetime.fromisoformat(r["date"]) for r in rows]
    shift = (today or datetime.now()).date() - max(stamps).date()
    return [{"id": r["id"], "title": r["title"], "text": r["text"], "received": (s + timedelta(days=shift.days)).isoformat(),
             "confidential": r["confidentiality"].strip().lower() == "rahasia"} for r, s in zip(rows, stamps)]


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
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    exe = Path(sys.executable).parent / "disposisi"
    env = {**os.environ, "DISPOSISI_DATABASE_URL": f"sqlite:///{db}", "DISPOSISI_DATA_DIR": str(out / "var"),
           "DISPOSISI_ADMIN_TOKENS": token}
    log = (out / "server.log").open("wb")
    proc = subprocess.Popen([str(exe), "serve", "--model", args.model, "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # bound but workers still loading
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the service did not start; see {out / 'server.log'}")
            time.sleep(0.3)
        auth = {"Authorization": f"Bearer {token}"}
        result = requests.post(base + "/v1/complaints", json=demo_items(), headers=auth, timeout=60).json()
        print(f"imported {result['added']} demo complaints ({result['duplicates_found']} with near-duplicates)")
        first = requests.get(base + "/v1/complaints/DESK-002", headers=auth, timeout=10).json()
        decisions = [("DESK-002", {"action": "accepted", "agency": first["suggestions"][0]["agency"], "admin": "Ani (demo)"}),
                     ("DESK-013", {"action": "not_our_authority", "destination": "Pemerintah Kota Bandung", "admin": "Ani (demo)"}),
                     ("DESK-005", {"action": "duplicate", "duplicate_of": "DESK-001", "admin": "Ani (demo)"}),
                     ("DESK-012", {"action": "corrected", "agency": "Perumda Air Minum Tirta Raharja", "admin": "Ani (demo)"})]
        for cid, body in decisions:
            r = requests.post(f"{base}/v1/complaints/{cid}/decision", json=body, headers=auth, timeout=10)
            r.raise_for_status()
        _screenshots(base, token, out)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return 0


def _screenshots(base: str, token: str, out: Path) -> None:
    from .browser import browser_page

    with browser_page(width=1366, height=900) as page:
        page.goto(base + "/desk/masuk")
        page.fill("#token", token)
        page.fill("#name", "Ani (demo)")
        page.click("#sign-in")
        page.wait_for_url("**/desk/")
        shots = {"queue.png": "/desk/", "complaint.png": "/desk/pengaduan/DESK-022", "overview.png": "/desk/ringkasan",
                 "queue_en.png": None}
        for name, path in shots.items():
            if path is None:
                page.goto(base + "/desk/bahasa/en?next=/desk/")
            else:
                page.goto(base + path)
            page.screenshot(path=str(out / name), full_page=True)
            print(f"screenshot {out / name}")


if __name__ == "__main__":
    raise SystemExit(main())
