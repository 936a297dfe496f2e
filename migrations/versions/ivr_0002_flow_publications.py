"""ivr: flow publications (the version every process serves)

Revision ID: ivr_0002
Revises: ivr_0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "ivr_0002"
down_revision = "ivr_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ivr_flow_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["version"], ["ivr_flow_versions.version"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ivr_flow_publications")
