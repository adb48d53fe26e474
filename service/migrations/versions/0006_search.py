"""Text search by index: a tsvector column with GIN and a trigram index (PostgreSQL), an FTS5 table (SQLite);
the plain region/received index goes (0005_monev's index starts with the same two columns).

Revision ID: 0006_search
Revises: 0005_monev
Create Date: 2026-12-06

The objects are outside ``service.db.metadata`` (one dialect each); ``service.search`` queries them and
names them (``SEARCH_OBJECTS``). Existing complaints are indexed here: PostgreSQL computes the generated
column for every row, SQLite's FTS5 table is rebuilt from ``complaints``.
"""

from alembic import op

revision = "0006_search"
down_revision = "0005_monev"
branch_labels = None
depends_on = None

# id + title + text, as service.search describes; 'simple' only lower-cases (no Indonesian configuration)
PG_VECTOR = (
    "to_tsvector('simple'::regconfig, coalesce(id, '') || ' ' || coalesce(title, '') || ' ' || coalesce(text, ''))"
)
# Every word is stored with its prefixes of 3 to 20 letters as lexemes of their own, so a typed prefix ("jalan"
# for "jalanan", "jelek" for "Jelekong") is an exact lexeme the GIN index finds by skipping through its posting
# lists, AND-ed with the region inside the same index; a `jalan:*` partial match would gather every complaint of
# every word starting so into one bitmap first (0.4 s at 2,000,000 complaints, whatever the region).
PG_PREFIXES = """
CREATE FUNCTION disposisi_prefixes(v tsvector) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT v || coalesce(array_to_tsvector(array(
    SELECT DISTINCT left(lexeme, n)
    FROM unnest(tsvector_to_array(v)) AS lexeme, generate_series(3, least(length(lexeme) - 1, 20)) AS n
  )), ''::tsvector)
$$"""
PG_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",  # region_slug in the GIN index: a region's search in one scan
    PG_PREFIXES,
    f"ALTER TABLE complaints ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (disposisi_prefixes({PG_VECTOR})) "
    "STORED",
    "CREATE INDEX ix_complaints_search ON complaints USING gin (region_slug, search_vector)",
    "CREATE INDEX ix_complaints_id_trgm ON complaints USING gin (id gin_trgm_ops)",
)
SQLITE_TRIGGERS = {
    "complaints_fts_ai": "AFTER INSERT ON complaints BEGIN "
    "INSERT INTO complaints_fts(rowid, id, title, text) VALUES (new.rowid, new.id, new.title, new.text); END",
    "complaints_fts_ad": "AFTER DELETE ON complaints BEGIN "
    "INSERT INTO complaints_fts(complaints_fts, rowid, id, title, text) "
    "VALUES ('delete', old.rowid, old.id, old.title, old.text); END",
    # a decision updates status and agency only: the index is touched when the searchable text changes
    "complaints_fts_au": "AFTER UPDATE OF id, title, text ON complaints BEGIN "
    "INSERT INTO complaints_fts(complaints_fts, rowid, id, title, text) "
    "VALUES ('delete', old.rowid, old.id, old.title, old.text); "
    "INSERT INTO complaints_fts(rowid, id, title, text) VALUES (new.rowid, new.id, new.title, new.text); END",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    # a province's Monev reads (region_slug, received_at, status, due, decided_at) from 0005_monev's index alone
    op.drop_index("ix_complaints_region_received", table_name="complaints")
    if dialect == "postgresql":
        for statement in PG_UPGRADE:
            op.execute(statement)
    elif dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE complaints_fts USING fts5(id, title, text, content='complaints', "
            "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
        )
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute("INSERT INTO complaints_fts(complaints_fts) VALUES ('rebuild')")
    else:  # pragma: no cover - the service supports these two databases only
        raise RuntimeError(f"no text search for the {dialect} database")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index("ix_complaints_region_received", "complaints", ["region_slug", "received_at"])
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_complaints_id_trgm")
        op.execute("DROP INDEX IF EXISTS ix_complaints_search")
        op.execute("ALTER TABLE complaints DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP FUNCTION IF EXISTS disposisi_prefixes(tsvector)")
    elif dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS complaints_fts")
