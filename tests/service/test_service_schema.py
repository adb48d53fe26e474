"""The schema has one definition (``service.db.metadata``); the Alembic history must produce exactly it.
A database is upgraded by `disposisi db upgrade` only: an app on an older (or empty) one refuses to start."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)

from service.db import create_engine, head_revision, metadata, upgrade
from service.search import SEARCH_OBJECTS, include_object


def schema_differences(url: str) -> list:
    """What differs between the migrated database and the metadata, the search objects (one dialect each,
    outside the metadata) left out; ``search_objects_missing`` checks those."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={"compare_type": True, "compare_server_default": True, "include_object": include_object},
            )
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def search_objects_missing(url: str) -> set[str]:
    """The search objects of ``service.search.SEARCH_OBJECTS`` that the migrated database lacks."""
    engine = create_engine(url)
    try:
        dialect = engine.dialect.name
        wanted = SEARCH_OBJECTS[dialect]
        inspector = sa.inspect(engine)
        found = set(inspector.get_table_names())
        found |= {i["name"] for i in inspector.get_indexes("complaints")}
        found |= {c["name"] for c in inspector.get_columns("complaints")}
        if dialect == "postgresql":
            with engine.connect() as conn:
                found |= set(conn.execute(sa.text("SELECT proname FROM pg_proc")).scalars())
        if dialect == "sqlite":
            with engine.connect() as conn:
                found |= set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars())
        return {name for names in wanted.values() for name in names} - found
    finally:
        engine.dispose()


def test_migrated_sqlite_matches_the_metadata(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert upgrade(url) == head_revision()
    assert schema_differences(url) == []
    assert search_objects_missing(url) == set()
    assert {
        "feedback",
        "complaints",
        "complaint_duplicates",
        "accounts",
        "account_regions",
        "api_tokens",
        "audit",
        "desk_sessions",
    } <= set(metadata.tables)


def test_migrated_postgres_matches_the_metadata(postgres_url):  # noqa: F811
    assert upgrade(postgres_url) == head_revision()
    assert schema_differences(postgres_url) == []
    assert search_objects_missing(postgres_url) == set()


def test_an_app_on_a_database_not_at_head_fails_fast(demo_model, demo_model_dir, tmp_path):
    from service import create_app
    from service.db import SchemaNotCurrent

    with pytest.raises(SchemaNotCurrent) as caught:
        create_app({"MODEL": demo_model, "MODEL_DIR": str(demo_model_dir), "DATA_DIR": str(tmp_path)})
    message = str(caught.value)
    assert "\n" not in message and "disposisi db upgrade" in message and "none (empty)" in message


def test_db_upgrade_command(tmp_path, monkeypatch, capsys):
    from service.cli.main import main

    monkeypatch.delenv("DISPOSISI_DATABASE_URL", raising=False)
    monkeypatch.setenv("DISPOSISI_DATA_DIR", str(tmp_path / "var"))
    assert main(["db", "upgrade"]) == 0
    assert head_revision() in capsys.readouterr().out
    assert schema_differences(f"sqlite:///{tmp_path / 'var' / 'disposisi.sqlite3'}") == []
    other = tmp_path / "other.sqlite3"
    assert main(["db", "upgrade", "--database-url", f"sqlite:///{other}"]) == 0 and other.is_file()
    assert main(["db", "upgrade", "--database-url", "not a url"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("disposisi db: error:") and "\n" not in err


def test_a_database_of_the_previous_release_upgrades_with_everything_kept(demo_model, demo_model_dir, tmp_path):
    """A database at the previous release's revision (0002: feedback and complaints, before accounts) with a
    decided complaint and its feedback record is upgraded to head; the service then serves both unchanged."""
    from datetime import UTC, date, datetime

    from service import create_app
    from service.db import complaints, feedback

    url = f"sqlite:///{tmp_path / 'previous.sqlite3'}"
    assert upgrade(url, "0002_complaints") == "0002_complaints"
    engine = create_engine(url)
    decided = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    with engine.begin() as conn:
        fid = conn.execute(
            feedback.insert().values(
                idempotency_key="desk:OLD-1",
                complaint_id="OLD-1",
                text="jalan rusak di desa jelekong",
                text_sha256="0" * 64,
                confidential=False,
                suggested=["Dinas PUTR"],
                chosen_agency="Dinas PUTR",
                action="accepted",
                admin="Ani",
                model_version="m-old",
                needs_review=False,
                note=None,
                created_at=decided,
            )
        ).inserted_primary_key[0]
        conn.execute(
            complaints.insert().values(
                id="OLD-1",
                received_at=datetime(2026, 11, 20, 8, 0),
                due=date(2026, 11, 25),
                follow_up_due=date(2026, 12, 2),
                title="Jalan rusak",
                text="jalan rusak di desa jelekong",
                text_sha256="0" * 64,
                confidential=False,
                source=[["Tracking ID", "OLD-1"]],
                suggestions=[{"agency": "Dinas PUTR", "confidence": 0.9}],
                reasons=["jalan"],
                warnings=[],
                outside_region=None,
                needs_review=False,
                model_version="m-old",
                agency="Dinas PUTR",
                status="decided",
                action="accepted",
                decided_at=decided,
                decided_by="Ani",
                feedback_id=fid,
                imported_at=decided,
            )
        )
    engine.dispose()

    assert upgrade(url) == head_revision()
    assert schema_differences(url) == []
    app = create_app({"MODEL": demo_model, "MODEL_DIR": str(demo_model_dir), "DATABASE_URL": url, "ADMIN_TOKENS": "t"})
    try:
        c = app.test_client()
        item = c.get("/v1/complaints/OLD-1", headers={"Authorization": "Bearer t"}).json
        assert (item["status"], item["decision"]["decided_by"], item["decision"]["feedback_id"]) == (
            "decided",
            "Ani",
            fid,
        )
        # the complaint stored before the search index existed is found by it (0006_search indexes old rows)
        found = c.get("/v1/queue?status=all&q=Jelek", headers={"Authorization": "Bearer t"}).json
        assert [i["id"] for i in found["items"]] == ["OLD-1"]
        (record,) = app.extensions["disposisi"].store.export_rows()
        assert (record["complaint_id"], record["chosen_agency"], record["admin"]) == ("OLD-1", "Dinas PUTR", "Ani")
    finally:
        app.extensions["disposisi"].close()
