"""The admins' desk: imported complaints, their suggestions, SLA due dates, decisions and near-duplicates.

Revision ID: 0002_complaints
Revises: 0001_feedback
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_complaints"
down_revision = "0001_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.String(200), primary_key=True),  # the LAPOR! Tracking ID
        sa.Column("received_at", sa.DateTime(timezone=False), nullable=False),  # local time (WIB)
        sa.Column("due", sa.Date, nullable=False),  # verification deadline (3 working days)
        sa.Column("follow_up_due", sa.Date, nullable=False),  # agency follow-up deadline (5 more)
        sa.Column("title", sa.Text, nullable=True),
        sa.Column("text", sa.Text, nullable=True),  # masked; NULL when confidential (Rahasia)
        sa.Column("text_sha256", sa.String(64), nullable=True),
        sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("source", sa.JSON, nullable=False),  # the import's original columns (masked)
        sa.Column("suggestions", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("outside_region", sa.JSON, nullable=True),
        sa.Column("needs_review", sa.Boolean, nullable=False),
        sa.Column("model_version", sa.String(200), nullable=False),
        sa.Column("agency", sa.String(300), nullable=False),  # decided agency, else the top suggestion
        sa.Column("status", sa.String(20), nullable=False),  # open | decided
        sa.Column("action", sa.String(40), nullable=True),
        sa.Column("destination", sa.String(300), nullable=True),
        sa.Column("duplicate_of", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("feedback_id", sa.Integer, nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_complaints_status_due", "complaints", ["status", "due", "id"])
    op.create_index("ix_complaints_review_due", "complaints", ["needs_review", "status", "due", "id"])
    op.create_index("ix_complaints_agency_due", "complaints", ["agency", "due", "id"])
    op.create_index("ix_complaints_due", "complaints", ["due", "id"])
    op.create_index("ix_complaints_received", "complaints", ["received_at"])
    op.create_index("ix_complaints_decided_at", "complaints", ["decided_at"])
    op.create_table(
        "complaint_duplicates",
        sa.Column("complaint_id", sa.String(200), primary_key=True),
        sa.Column("earlier_id", sa.String(200), primary_key=True),
        sa.Column("similarity", sa.Float, nullable=False),
    )
    op.create_index("ix_complaint_duplicates_earlier", "complaint_duplicates", ["earlier_id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_duplicates_earlier", table_name="complaint_duplicates")
    op.drop_table("complaint_duplicates")
    for name in (
        "ix_complaints_decided_at",
        "ix_complaints_received",
        "ix_complaints_due",
        "ix_complaints_agency_due",
        "ix_complaints_review_due",
        "ix_complaints_status_due",
    ):
        op.drop_index(name, table_name="complaints")
    op.drop_table("complaints")
