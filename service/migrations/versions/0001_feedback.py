"""Create the feedback table: what admins did with each suggestion.

Revision ID: 0001_feedback
Revises:
Create Date: 2026-11-23
"""

from alembic import op

# The columns are defined once, for the store, this migration and the learning loop.
from routing_model.io.feedback_schema import FEEDBACK_INDEXES, TABLE, feedback_columns, feedback_constraints

revision = "0001_feedback"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(TABLE, *feedback_columns(), *feedback_constraints())
    for name, columns in FEEDBACK_INDEXES:
        op.create_index(name, TABLE, columns)


def downgrade() -> None:
    for name, _ in reversed(FEEDBACK_INDEXES):
        op.drop_index(name, table_name=TABLE)
    op.drop_table(TABLE)
