"""Many regions in one deployment: regions, the region of every complaint and decision, forwards, jobs.

Revision ID: 0004_regions
Revises: 0003_accounts
Create Date: 2026-12-06

Rows written before this revision belong to the deployment's own region, slug ``""`` (``serve --model DIR``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_regions"
down_revision = "0003_accounts"
branch_labels = None
depends_on = None

ACTIVE_JOB = "state IN ('queued', 'running')"


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("slug", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("province", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False, server_default="region"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_detail", sa.Text, nullable=True),
        sa.Column("base_digest", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_regions_province", "regions", ["province", "slug"])
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("region_slug", sa.String(200), nullable=False, server_default=sa.text("''")))
    op.create_index("ix_complaints_region_status_due", "complaints", ["region_slug", "status", "due", "id"])
    op.create_index("ix_complaints_region_received", "complaints", ["region_slug", "received_at"])
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(sa.Column("region_slug", sa.String(200), nullable=False, server_default=sa.text("''")))
    op.create_index("ix_feedback_region_created", "feedback", ["region_slug", "created_at"])
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("region", sa.String(200), nullable=True))
    op.create_index("ix_audit_region_at", "audit", ["region", "at"])
    op.create_table(
        "forwards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("complaint_id", sa.String(200), nullable=False),
        sa.Column("from_region", sa.String(200), nullable=False),
        sa.Column("to_region", sa.String(200), nullable=True),
        sa.Column("destination", sa.String(300), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_forwards_complaint", "forwards", ["complaint_id", "at"])
    op.create_index("ix_forwards_from_at", "forwards", ["from_region", "at"])
    op.create_index("ix_forwards_to_at", "forwards", ["to_region", "at"])
    op.create_index("ix_forwards_state_at", "forwards", ["state", "at"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("region_slug", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("progress", sa.JSON, nullable=True),
        sa.Column("figures", sa.JSON, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_jobs_region_requested", "jobs", ["region_slug", "requested_at"])
    op.create_index(
        "uq_jobs_region_active",
        "jobs",
        ["region_slug"],
        unique=True,
        sqlite_where=sa.text(ACTIVE_JOB),
        postgresql_where=sa.text(ACTIVE_JOB),
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_region_active", table_name="jobs")
    op.drop_index("ix_jobs_region_requested", table_name="jobs")
    op.drop_table("jobs")
    for name in ("ix_forwards_state_at", "ix_forwards_to_at", "ix_forwards_from_at", "ix_forwards_complaint"):
        op.drop_index(name, table_name="forwards")
    op.drop_table("forwards")
    op.drop_index("ix_audit_region_at", table_name="audit")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("region")
    op.drop_index("ix_feedback_region_created", table_name="feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("region_slug")
    op.drop_index("ix_complaints_region_received", table_name="complaints")
    op.drop_index("ix_complaints_region_status_due", table_name="complaints")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("region_slug")
    op.drop_index("ix_regions_province", table_name="regions")
    op.drop_table("regions")
