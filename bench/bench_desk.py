"""The desk with 50,000 complaints stored: how long one queue page takes, and the duplicate finder on real data.

Fills a fresh SQLite file (WAL, as served) with 50,000 complaints built from the shared LAPOR!
texts (ids, dates over two years, three suggestions each, a fifth decided), then times each queue
query the desk and ``GET /v1/queue`` run — default page, a deep page, overdue, needs review, one
agency, text search — and the whole rendered HTML page through the Flask app. Then it runs the
near-duplicate finder over the 580 complaints of the real export and prints what it finds.

    python -m bench.bench_desk [--shared ../shared/data] [--rows 50000]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

XLSX = Path("lapor") / "kab_bandung_2021_2023_laporan_ringkas.xlsx"
ROOT = Path(__file__).resolve().parent.parent


def _timed(fn, repeat: int = 7) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, out


def fill(store, texts: list[str], agencies: list[str], rows: int, seed: int = 0) -> None:
    from service import sla
    from service.complaints import complaints

    rng = random.Random(seed)
    start = date.today() - timedelta(days=730)
    now = datetime.now(UTC)
    batch = []
    with store.engine.begin() as conn:
        for i in range(rows):
            day = start + timedelta(days=rng.randrange(731))
            received = datetime.combine(day, datetime.min.time()) + timedelta(minutes=rng.randrange(24 * 60))
            due, follow = sla.due_dates(day)
            text = f"{rng.choice(texts)} (no. {i})"
            picks = rng.sample(agencies, 3)
            decided = rng.random() < 0.2
            batch.append(
                {
                    "id": f"B{i:07d}",
                    "received_at": received,
                    "due": due,
                    "follow_up_due": follow,
                    "title": None,
                    "text": text,
                    "text_sha256": hashlib.sha256(text.encode()).hexdigest(),
                    "confidential": False,
                    "source": [["Tracking ID", f"B{i:07d}"], ["Isi Laporan Awal", text]],
                    "suggestions": [{"agency": a, "confidence": c} for a, c in zip(picks, (0.7, 0.2, 0.1))],
                    "reasons": [],
                    "warnings": [],
                    "outside_region": None,
                    "needs_review": rng.random() < 0.3,
                    "model_version": "bench",
                    "agency": picks[0],
                    "status": "decided" if decided else "open",
                    "action": "accepted" if decided else None,
                    "decided_at": now if decided else None,
                    "decided_by": "bench" if decided else None,
                    "imported_at": now,
                }
            )
            if len(batch) == 5000:
                conn.execute(complaints.insert(), batch)
                batch = []
        if batch:
            conn.execute(complaints.insert(), batch)


def _time_pages(url: str, model_dir: Path, tmp: str) -> None:
    """The whole rendered desk pages (query + template) through the Flask app, signed in as an admin."""
    from service import create_app
    from service.auth import token_hash

    if not (model_dir / "card.json").is_file():
        from training.train import train_and_save

        model_dir = Path(tmp) / "demo-model"
        train_and_save(ROOT / "data" / "demo" / "demo_complaints.csv", model_dir)
    app = create_app(
        {
            "MODEL_DIR": str(model_dir),
            "DATABASE_URL": url,
            "ADMIN_TOKENS": "bench",
            "SECRET_KEY": "bench",
            "DATA_DIR": tmp,
        }
    )
    try:
        client = app.test_client()
        with client.session_transaction() as sess:
            sess.update({"tok": token_hash("bench"), "role": "admin", "name": "bench", "at": time.time()})
        for path in (
            "/desk/",
            "/desk/?page=400",
            "/desk/?overdue=1&review=1",
            "/desk/?q=jalan",
            "/desk/pengaduan/B0000042",
            "/desk/ringkasan",
        ):
            ms, resp = _timed(lambda path=path: client.get(path), repeat=5)
            assert resp.status_code == 200, (path, resp.status_code)
            print(f"page {path:<34} {ms:7.1f} ms  ({len(resp.data) // 1024} KiB of HTML)")
    finally:
        app.extensions["disposisi"].close()


def main(argv: list[str] | None = None) -> None:
    from routing_model import Registry
    from routing_model.io.tabular import read_table
    from service.complaints import ComplaintStore
    from service.db import upgrade
    from service.duplicates import THRESHOLD, Doc, find_duplicates
    from service.store import FeedbackStore

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument(
        "--model",
        default=str(ROOT / "models" / "demo"),
        help="model to serve the pages (trained on the demo data if missing)",
    )
    args = ap.parse_args(argv)
    frame = read_table(Path(args.shared) / XLSX)
    texts = [t for t in frame["text"].dropna().astype(str) if t.strip()]
    agencies = [a.name for a in Registry.load().active]

    with tempfile.TemporaryDirectory(prefix="disposisi-bench-desk-") as tmp:
        upgrade(f"sqlite:///{tmp}/desk.sqlite3")
        store = FeedbackStore(f"sqlite:///{tmp}/desk.sqlite3")
        desk = ComplaintStore(store)
        t = time.perf_counter()
        fill(store, texts, agencies, args.rows)
        print(f"filled {args.rows:,} complaints in {time.perf_counter() - t:.1f} s")
        one_agency = agencies[0]
        cases = {
            "open, page 1": dict(),
            "open, page 400 (offset 19,950)": dict(page=400),
            "overdue": dict(overdue=True),
            "needs review": dict(needs_review=True),
            "one agency": dict(agency=one_agency),
            "text search 'jalan'": dict(q="jalan"),
            "all statuses, page 2": dict(status="all", page=2),
        }
        for name, kw in cases.items():
            ms, page = _timed(lambda kw=kw: desk.queue(**kw))
            print(f"queue {name:<32} {ms:7.1f} ms  ({page['total']:,} matching, {len(page['items'])} on the page)")
        ms, _ = _timed(lambda: desk.overview(), repeat=3)
        print(f"overview figures                       {ms:7.1f} ms")
        store.close()
        _time_pages(f"sqlite:///{tmp}/desk.sqlite3", Path(args.model), tmp)

    # the duplicate finder on the real export
    docs = [
        Doc(str(r.id), date.fromisoformat(r.date), str(r.text)) for r in frame.itertuples() if isinstance(r.text, str)
    ]
    ms, found = _timed(lambda: find_duplicates(docs, []), repeat=3)
    pairs = sum(len(v) for v in found.values())
    exact = sum(1 for v in found.values() for _, s in v if s >= 0.99)
    print(
        f"duplicates on the real export: {len(docs)} complaints, {len(found)} repeat an earlier one within 60 days "
        f"({pairs} links, {exact} near-exact >= 0.99), threshold {THRESHOLD}, {ms:.0f} ms"
    )


if __name__ == "__main__":
    main()
