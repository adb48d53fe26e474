"""The schema has one definition (``service.db.metadata``); the Alembic history must produce exactly it.
A database is upgraded by `disposisi db upgrade` only: an app on an older (or empty) one refuses to start."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from test_service_store import postgres_url  # noqa: F401  (the suite's one PostgreSQL fixture)

from service.db import create_engine, head_revision, metadata, upgrade


def schema_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def test_migrated_sqlite_matches_the_metadata(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    assert upgrade(url) == head_revision()
    assert schema_differences(url) == []
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
