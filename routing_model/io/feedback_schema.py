"""The admins' feedback record, defined once: its columns, its actions, and what "accepted" means.

The service stores feedback (service/store.py), Alembic creates the table
(service/migrations/versions/0001_feedback.py), the learning loop reads it back or reads a CSV
export of it (training/learning/feedback.py), and the stats, the report and the docs count acceptances.
All of them import this module, so a column or an action cannot differ between them.

A later change of the table is a new Alembic revision that alters it, plus the change here; the
column list below stays what revision 0001 plus later revisions produce.
"""

from __future__ import annotations

import sqlalchemy as sa

TABLE = "feedback"

#: what an admin did with a suggestion
ACTIONS = ("accepted", "corrected", "not_our_authority", "archived")
#: actions whose ``chosen_agency`` is the agency that handles the complaint (a training label)
LABEL_ACTIONS = frozenset({"accepted", "corrected"})
#: actions that decide something about the suggestion (``archived`` decides nothing)
DECIDED_ACTIONS = ("accepted", "corrected", "not_our_authority")


def feedback_columns() -> list[sa.Column]:
    """The columns revision 0001 creates, as fresh Column objects (a Column belongs to one Table; Alembic and
    the store each need theirs). Later revisions add ``region_columns``."""
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("complaint_id", sa.String(200), nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("suggested", sa.JSON, nullable=False),
        sa.Column("chosen_agency", sa.String(300), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("admin", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("needs_review", sa.Boolean, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


def region_columns() -> list[sa.Column]:
    """Added by revision 0004_regions: the region whose admin decided; ``""`` is the deployment's own region."""
    return [sa.Column("region_slug", sa.String(200), nullable=False, server_default=sa.text("''"))]


def monev_columns() -> list[sa.Column]:
    """Added by revision 0007_monev_rank: what a decision was when it was made, written by the service
    (``service.store.FeedbackStore.add``): the 1-based position of the chosen agency among the suggestions (NULL: not
    among them) and the first suggestion, so Monev counts top-1/top-3 and corrections from an index instead of parsing
    ``suggested`` (JSON) per row. Derived from ``suggested`` and ``chosen_agency``: not part of a feedback record
    (``COLUMNS``), its export, or what the learning loop reads."""
    return [sa.Column("suggested_rank", sa.SmallInteger), sa.Column("first_suggested", sa.String(300))]


def feedback_constraints() -> list:
    return [sa.UniqueConstraint("idempotency_key", name="uq_feedback_idempotency_key")]


#: (index name, columns)
FEEDBACK_INDEXES = (("ix_feedback_complaint_id", ["complaint_id"]), ("ix_feedback_created_at", ["created_at"]))

COLUMNS = tuple(c.name for c in feedback_columns() + region_columns())
DERIVED_COLUMNS = tuple(c.name for c in monev_columns())  # in the table, never in a record
#: what a CSV export of the table must have for the learning loop (the rest is optional)
REQUIRED_COLUMNS = ("complaint_id", "text", "chosen_agency", "action", "created_at")
OPTIONAL_COLUMNS = tuple(c for c in COLUMNS if c not in REQUIRED_COLUMNS)

metadata = sa.MetaData()
feedback = sa.Table(
    TABLE,
    metadata,
    *feedback_columns(),
    *region_columns(),
    *monev_columns(),
    *feedback_constraints(),
    *(sa.Index(name, *cols) for name, cols in FEEDBACK_INDEXES),
    sa.Index("ix_feedback_region_created", "region_slug", "created_at"),
)


def accepted_as_suggested(action: str, suggested, chosen: str | None) -> bool:
    """The admin dispatched the complaint to the top suggestion.

    Only an ``accepted`` or ``corrected`` decision can be an acceptance: a ``not_our_authority``
    names the agency that refused the complaint, so it is never one, even when that agency was
    the top suggestion; ``archived`` decides nothing.
    """
    return action in LABEL_ACTIONS and bool(suggested) and bool(chosen) and list(suggested)[0] == chosen


def in_top3(action: str, suggested, chosen: str | None) -> bool:
    """The agency the admin dispatched to was among the first three suggestions."""
    return action in LABEL_ACTIONS and bool(chosen) and chosen in list(suggested or [])[:3]
