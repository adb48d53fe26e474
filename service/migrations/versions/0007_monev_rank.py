"""What a decision was at decision time, for Monev; a region-first Tracking ID trigram index (PostgreSQL).

Revision ID: 0007_monev_rank
Revises: 0006_search
Create Date: 2026-12-06

- ``feedback.suggested_rank`` (1-based position of the chosen agency among the suggestions, NULL when not among
  them) and ``feedback.first_suggested`` (the first suggestion), written by ``FeedbackStore.add`` from now on and
  computed here for every existing row, in batches of ids (the whole upgrade stays one transaction: interrupted, it
  leaves the database at 0006 with nothing changed). Monev then counts top-1 / top-3 and corrections away from an
  agency from ``ix_feedback_region_created_monev`` alone (its INCLUDE now holds these instead of the JSON).
- PostgreSQL: the trigram index on ``complaints.id`` becomes ``(region_slug, id gin_trgm_ops)`` (``btree_gin``): a
  Tracking ID fragment in one region is one GIN scan that skips through the digits' long posting lists with the
  region's short one, instead of collecting every matching id of the deployment first (docs/performance.md).
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_monev_rank"
down_revision = "0006_search"
branch_labels = None
depends_on = None

BATCH = 50_000  # feedback ids per UPDATE: a bounded statement on a database of millions of decisions
BACKFILL = {
    "postgresql": """
UPDATE feedback SET
  first_suggested = left(suggested ->> 0, 300),
  suggested_rank = (SELECT min(e.n) FROM json_array_elements_text(feedback.suggested) WITH ORDINALITY AS e(agency, n)
                    WHERE e.agency = feedback.chosen_agency AND feedback.chosen_agency <> '')
WHERE id >= :lo AND id < :hi AND json_typeof(suggested) = 'array'
""",
    "sqlite": """
UPDATE feedback SET
  first_suggested = substr(json_extract(suggested, '$[0]'), 1, 300),
  suggested_rank = (SELECT min(CAST(e.key AS INTEGER)) + 1 FROM json_each(feedback.suggested) AS e
                    WHERE e.value = feedback.chosen_agency AND feedback.chosen_agency <> '')
WHERE id >= :lo AND id < :hi AND json_type(suggested) = 'array'
""",
}
MONEV_INDEX = "ix_feedback_region_created_monev"


def backfill(bind) -> None:
    """Compute both columns for every feedback row already stored, ``BATCH`` ids at a time."""
    lo, hi = bind.execute(sa.text("SELECT min(id), max(id) FROM feedback")).one()
    if lo is None:
        return
    statement = sa.text(BACKFILL[bind.dialect.name])
    for start in range(lo, hi + 1, BATCH):
        bind.execute(statement, {"lo": start, "hi": start + BATCH})


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("suggested_rank", sa.SmallInteger, nullable=True))
        batch.add_column(sa.Column("first_suggested", sa.String(300), nullable=True))
    backfill(bind)
    op.drop_index(MONEV_INDEX, table_name="feedback")
    op.create_index(
        MONEV_INDEX,
        "feedback",
        ["region_slug", "created_at"],
        postgresql_include=["action", "suggested_rank", "first_suggested", "chosen_agency"],
    )
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_complaints_id_trgm")
        op.execute("CREATE INDEX ix_complaints_region_id_trgm ON complaints USING gin (region_slug, id gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_complaints_region_id_trgm")
        op.execute("CREATE INDEX ix_complaints_id_trgm ON complaints USING gin (id gin_trgm_ops)")
    op.drop_index(MONEV_INDEX, table_name="feedback")
    op.create_index(
        MONEV_INDEX,
        "feedback",
        ["region_slug", "created_at"],
        postgresql_include=["action", "chosen_agency", "suggested"],
    )
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("first_suggested")
        batch.drop_column("suggested_rank")
