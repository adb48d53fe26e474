"""The queue's text search on both databases: word/prefix, case-insensitive, exact Tracking ID, kept by the
database's own index (FTS5 on SQLite, tsvector + GIN and pg_trgm on PostgreSQL), and never a LIKE scan."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from desk_helpers import RECENT, test_clock
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)

from service import sla
from service.complaints import ComplaintStore
from service.db import complaints, upgrade
from service.search import fts5_query, search_clause, tsquery, words
from service.store import FeedbackStore

ROWS = [  # (id, region, title, text)
    ("LPR-1001", "kabupaten-bandung", "Jalan rusak", "Jalan di Desa Jelekong rusak parah, mohon diperbaiki"),
    ("LPR-1002", "kabupaten-bandung", None, "e-KTP saya belum jadi, kata petugas BLANKO habis"),
    ("LPR-1003", "kota-samarinda", "Sampah", "Sampah menumpuk di pasar Segiri, jalan jadi bau"),
    ("LPR-2004", "kota-samarinda", None, "Lampu PJU mati di Jalan Juanda; gelap dan rawan"),
    ("LPR-2005", "kabupaten-bandung", "Rahasia", None),  # confidential: no text stored
    ("LPR-3006", "kota-samarinda", None, "Mohon pertanggungjawabannya"),  # a word of 21 letters
]


def _row(cid: str, region: str, title: str | None, text: str | None, i: int) -> dict:
    due, follow = sla.due_dates(RECENT)
    return {
        "id": cid,
        "received_at": datetime.combine(RECENT, datetime.min.time()) + timedelta(minutes=i),
        "due": due,
        "follow_up_due": follow,
        "title": title,
        "text": text,
        "text_sha256": hashlib.sha256((text or "").encode()).hexdigest(),
        "confidential": text is None,
        "source": [],
        "suggestions": [],
        "reasons": [],
        "warnings": [],
        "needs_review": False,
        "model_version": "t",
        "agency": "",
        "status": "open",
        "imported_at": datetime(2026, 11, 24, tzinfo=UTC),
        "region_slug": region,
    }


def _filled(url: str) -> ComplaintStore:
    upgrade(url)
    store = FeedbackStore(url, clock=test_clock())
    with store.engine.begin() as conn:
        conn.execute(complaints.delete())
        conn.execute(complaints.insert(), [_row(*r, i) for i, r in enumerate(ROWS)])
    return ComplaintStore(store)


def _ids(desk: ComplaintStore, q: str, region: str | None = None) -> list[str]:
    where = [search_clause(q, desk.engine.dialect.name)]
    if region is not None:
        where.append(complaints.c.region_slug == region)
    with desk.engine.connect() as conn:
        return sorted(conn.execute(sa.select(complaints.c.id).where(*where)).scalars())


def _semantics(desk: ComplaintStore) -> None:
    assert _ids(desk, "blanko") == ["LPR-1002"]  # case-insensitive
    assert _ids(desk, "JELEK") == ["LPR-1001"]  # a prefix of a word
    assert _ids(desk, "jalan") == ["LPR-1001", "LPR-1003", "LPR-2004"]  # title or text
    assert _ids(desk, "jalan rusak") == ["LPR-1001"]  # every word must match
    assert _ids(desk, "lekong") == []  # the middle of a word is not a word
    assert _ids(desk, "je") == ["LPR-1001"]  # a prefix of two letters
    # prefixes of 3..20 letters are stored on PostgreSQL; longer ones are searched as prefixes: all agree
    for n in (3, 18, 20, 21):
        assert _ids(desk, "pertanggungjawabannya"[:n]) == ["LPR-3006"], n
    assert _ids(desk, "pertanggungjawabannyax") == []
    assert _ids(desk, "LPR-1002") == ["LPR-1002"]  # the exact Tracking ID
    assert _ids(desk, "  rahasia ") == ["LPR-2005"]  # a confidential complaint is found by its title only
    assert _ids(desk, "jalan", region="kota-samarinda") == ["LPR-1003", "LPR-2004"]  # AND the region
    # what would be syntax in FTS5 or to_tsquery is only text here: no error, no match-all
    for q in ('"', "*", "jalan OR sampah", "NOT jalan", "jalan & !rusak", "a:* | b", "(", "%", "_"):
        got = _ids(desk, q)
        assert len(got) < len(ROWS), q
    assert _ids(desk, "jalan OR sampah") == []  # OR is a word here, and no complaint has it
    assert desk.queue(q="?!", region="kabupaten-bandung")["total"] == 0  # no words: the exact id only, no error
    assert desk.queue(q="blanko", region="kabupaten-bandung")["total"] == 1  # the queue's q= uses the same clause
    assert desk.queue(q="blanko", region="kota-samarinda")["total"] == 0  # ... within the region


def test_the_search_clause_quotes_every_word():
    assert words("Jalan  RUSAK, e-KTP!") == ["jalan", "rusak", "e", "ktp"]
    assert fts5_query(["jalan", "or"]) == '"jalan"* "or"*'
    assert tsquery(["jalan", "rusak"]) == "jalan & rusak"  # looked up among the stored prefixes
    assert tsquery(["je", "x" * 21]) == f"je:* & {'x' * 21}:*"  # outside 3..20 letters: a prefix search
    assert search_clause("   ", "sqlite") is None
    with pytest.raises(ValueError):
        search_clause("x", "mysql")


def test_search_on_sqlite_uses_fts5_kept_by_triggers(tmp_path):
    desk = _filled(f"sqlite:///{tmp_path / 'search.sqlite3'}")
    try:
        _semantics(desk)
        # the triggers keep the index: a changed text, a deleted complaint, a decision that changes no text
        with desk.engine.begin() as conn:
            conn.execute(complaints.update().where(complaints.c.id == "LPR-1002").values(text="KTP sudah jadi"))
            conn.execute(complaints.delete().where(complaints.c.id == "LPR-1003"))
            conn.execute(complaints.update().where(complaints.c.id == "LPR-1001").values(status="decided"))
        assert _ids(desk, "blanko") == [] and _ids(desk, "sudah jadi") == ["LPR-1002"]
        assert _ids(desk, "jalan") == ["LPR-1001", "LPR-2004"]
        with desk.engine.connect() as conn:  # the index agrees with the table, row for row
            conn.exec_driver_sql("INSERT INTO complaints_fts(complaints_fts, rank) VALUES ('integrity-check', 1)")
            where = search_clause("jalan", "sqlite")
            plan = " ".join(
                str(r[-1])
                for r in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN "
                    + str(
                        sa.select(complaints.c.id)
                        .where(where)
                        .compile(dialect=desk.engine.dialect, compile_kwargs={"literal_binds": True})
                    )
                )
            )
        assert "VIRTUAL TABLE INDEX" in plan and "complaints_fts" in plan, plan
    finally:
        desk.store.close()


def _plan(conn, *where) -> str:
    stmt = sa.select(complaints.c.id).where(*where)
    sql = str(stmt.compile(dialect=conn.engine.dialect, compile_kwargs={"literal_binds": True}))
    return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))


def test_search_on_postgres_uses_the_gin_indexes(postgres_url):  # noqa: F811
    desk = _filled(postgres_url)
    try:
        _semantics(desk)
        assert _ids(desk, "1002") == ["LPR-1002"]  # a Tracking ID fragment (pg_trgm) ...
        assert _ids(desk, "pr-2") == ["LPR-2004", "LPR-2005"]  # ... also inside the id
        with desk.engine.begin() as conn:  # the generated column follows a changed text
            conn.execute(complaints.update().where(complaints.c.id == "LPR-1002").values(text="KTP sudah jadi"))
        assert _ids(desk, "blanko") == [] and _ids(desk, "sudah") == ["LPR-1002"]
        with desk.engine.connect() as conn:  # five rows would be scanned: ask whether the indexes can serve
            conn.exec_driver_sql("SET enable_seqscan = off")
            for q, index in (("jalan rusak", "ix_complaints_search"), ("PR-100", "ix_complaints_region_id_trgm")):
                assert index in _plan(conn, sa.true(), search_clause(q, "postgresql"))
        # a region of 3,000 complaints: its search is one GIN scan with the region inside it (0007's region-first
        # trigram index), not the region's rows filtered, nor every region's matching ids collected first
        filler = [_row(f"F-{i}", "kabupaten-bandung", None, f"keluhan nomor {i}", i) for i in range(3000)]
        with desk.engine.begin() as conn:
            conn.execute(complaints.insert(), filler)
        with desk.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE complaints")  # GIN's pending list merged, as a bulk import leaves it
        with desk.engine.connect() as conn:  # (3,000 rows still fit a few pages: no sequential scan, as at scale)
            conn.exec_driver_sql("SET enable_seqscan = off")
            in_region = complaints.c.region_slug == "kabupaten-bandung"
            for q in ("1002", "LPR-1002", "0100"):
                plan = _plan(conn, in_region, search_clause(q, "postgresql"))
                assert "ix_complaints_region_id_trgm" in plan, plan
                trigram = plan[plan.index("ix_complaints_region_id_trgm") :].split("\n")[1]
                assert "Index Cond" in trigram and "region_slug" in trigram and "~~*" in trigram, plan
                assert "ix_complaints_region_received_monev" not in plan and "Seq Scan" not in plan, plan
        # a fragment never finds another region's complaint
        assert _ids(desk, "PR-", region="kabupaten-bandung") == ["LPR-1001", "LPR-1002", "LPR-2005"]
    finally:
        desk.store.close()


def test_postgres_plans_every_search_for_its_words(postgres_url):  # noqa: F811
    """psycopg would prepare a statement after its 5th run, and PostgreSQL could then use one generic plan for every
    search, blind to the words typed (it read a region's 30,000 rows for one Tracking ID at 2,000,000 complaints):
    the service's connections never prepare, so every search is planned for its own words."""
    desk = _filled(postgres_url)
    try:
        for _ in range(3):
            for q in ("jalan", "LPR-1002", "1002", "blanko"):
                desk.queue(status="all", q=q, region="kabupaten-bandung")
        with desk.engine.connect() as conn:
            for q in ("jalan", "1002") * 6:
                conn.execute(sa.select(complaints.c.id).where(search_clause(q, "postgresql"))).all()
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar_one() == 0
        assert desk.queue(status="all", q="1002", region="kabupaten-bandung")["total"] == 1
    finally:
        desk.store.close()
