"""planning: imported half-hour call history

Revision ID: planning_0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "planning_0001"
down_revision = None
branch_labels = ("planning",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planning_history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slot_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offered", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=True),
        sa.Column("abandoned", sa.Integer(), nullable=True),
        sa.Column("answered_within_target", sa.Integer(), nullable=True),
        sa.Column("handle_seconds", sa.Float(), nullable=True),
        sa.Column("surge", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("slot_start"),
    )


def downgrade() -> None:
    op.drop_table("planning_history")
