"""Text search over the complaint queue through the database's own text index, never a ``LIKE`` scan.

A complaint matches a search when every word typed starts a word of its Tracking ID, title or text
(case-insensitive: ``blanko`` finds "BLANKO habis", ``jel`` finds "Jelekong"), or when the search is its
Tracking ID exactly (or, on PostgreSQL, a part of it of three characters or more).

The index is kept by the database (revision ``0006_search``), so no code path can forget to update it:
- PostgreSQL: a stored generated ``tsvector`` column ``complaints.search_vector`` (the ``simple``
  configuration: PostgreSQL has no Indonesian one, and ``simple`` only lower-cases) holding every word and its
  prefixes of 3 to 20 letters, with a GIN index over ``(region_slug, search_vector)`` (``btree_gin``: a region's
  search is one index scan), and a ``pg_trgm`` GIN index on ``complaints.id`` for Tracking ID fragments;
- SQLite: an FTS5 table ``complaints_fts`` over ``complaints`` (external content, rowid = the
  complaint's rowid), kept by three triggers.

Neither is in ``service.db.metadata``: SQLAlchemy cannot declare them for one dialect only.
``SEARCH_OBJECTS`` names them for the schema test, which checks they exist and leaves them out of the
metadata comparison. A later revision that rebuilds ``complaints`` with ``batch_alter_table`` on SQLite
drops the triggers with the old table and may renumber rowids: it must recreate the triggers and run
``INSERT INTO complaints_fts(complaints_fts) VALUES('rebuild')``, as ``0006_search`` does.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from .db import complaints

TS_CONFIG = "simple"
MIN_ID_FRAGMENT = 3  # pg_trgm indexes trigrams: a shorter fragment would scan every Tracking ID
MIN_PREFIX, MAX_PREFIX = 3, 20  # the prefixes 0006_search stores for every word
MAX_WORDS = 12  # a search is typed by a person; more words only make the query slower, never better
_WORD = re.compile(r"\w+", re.UNICODE)

# what 0006_search creates outside the metadata, per dialect: {kind: names}
SEARCH_OBJECTS = {
    "postgresql": {
        "column": {"search_vector"},
        "index": {"ix_complaints_search", "ix_complaints_region_id_trgm"},
        "function": {"disposisi_prefixes"},
    },
    "sqlite": {
        "table": {
            "complaints_fts",
            "complaints_fts_data",
            "complaints_fts_idx",
            "complaints_fts_docsize",
            "complaints_fts_config",
        },
        "trigger": {"complaints_fts_ai", "complaints_fts_ad", "complaints_fts_au"},
    },
}


def words(q: str) -> list[str]:
    """The words of a search as the index splits them (letters and digits), lower-cased, at most MAX_WORDS."""
    return [w.lower() for w in _WORD.findall(q or "")][:MAX_WORDS]


def fts5_query(ws: list[str]) -> str:
    """An FTS5 MATCH expression: every word as a quoted prefix term (a quoted term cannot be an operator)."""
    return " ".join(f'"{w}"*' for w in ws)


def tsquery(ws: list[str]) -> str:
    """A ``to_tsquery`` expression, all words required: a word of 3 to 20 letters is looked up as it is (the
    column stores every word's prefixes of that length, ``0006_search``), a shorter or longer one as a prefix."""
    return " & ".join(w if MIN_PREFIX <= len(w) <= MAX_PREFIX else f"{w}:*" for w in ws)


def search_clause(q: str, dialect: str) -> sa.ColumnElement[bool] | None:
    """The WHERE condition for the queue's ``q=`` on ``dialect`` ("postgresql" or "sqlite"); None for a blank
    search. Combine it with the other filters (``region_slug`` first) with AND."""
    q = (q or "").strip()
    if not q:
        return None
    c = complaints.c
    exact = c.id == q
    ws = words(q)
    if dialect == "postgresql":
        found = [exact]
        if ws:
            found.append(
                sa.literal_column("complaints.search_vector").op("@@")(
                    sa.func.to_tsquery(sa.literal_column(f"'{TS_CONFIG}'::regconfig"), tsquery(ws))
                )
            )
        if len(q) >= MIN_ID_FRAGMENT:  # served by the trigram index (ILIKE escapes its own wildcards)
            found.append(c.id.ilike(f"%{_escape_like(q)}%", escape="\\"))
        return sa.or_(*found)
    if dialect == "sqlite":
        if not ws:
            return exact
        matching = sa.text("SELECT rowid FROM complaints_fts WHERE complaints_fts MATCH :fts").bindparams(
            fts=fts5_query(ws)
        )
        return sa.or_(exact, sa.literal_column("complaints.rowid").in_(matching))
    raise ValueError(f"no text search for the {dialect} database")


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """For Alembic's ``compare_metadata``: leave out the search objects (they are checked on their own)."""
    if not reflected:
        return True
    return not any(name in names for kinds in SEARCH_OBJECTS.values() for names in kinds.values())
