"""Monev: covering indexes so a province's figures are read from indexes alone (no row of the tables is visited).

Revision ID: 0005_monev
Revises: 0004_regions
Create Date: 2026-12-06

``service/monev.py`` reads, for the complaints received in a period, their status, deadline and decision time, and
for the decisions made in a period, their action, chosen agency and suggestions. Measured on PostgreSQL 15 with 2M
complaints (a province of 40 regions, 100k a year; a machine at load 7.9 on 2 cores): a year's figures took 3.8 s
with rows read from the tables, 1.6 s from these indexes (12 weeks: 0.84 s -> 0.31 s). On SQLite the feedback
index has the plain key (SQLite has no INCLUDE).
"""

from alembic import op

revision = "0005_monev"
down_revision = "0004_regions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_complaints_region_received_monev",
        "complaints",
        ["region_slug", "received_at", "status", "due", "decided_at"],
    )
    op.create_index(
        "ix_feedback_region_created_monev",
        "feedback",
        ["region_slug", "created_at"],
        postgresql_include=["action", "chosen_agency", "suggested"],
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_region_created_monev", table_name="feedback")
    op.drop_index("ix_complaints_region_received_monev", table_name="complaints")
