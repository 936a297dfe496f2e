"""tickets: saved versions of the classification rules and the routing table

Revision ID: tickets_0006
Revises: tickets_0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "tickets_0006"
down_revision = "tickets_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets_rule_sets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accuracy", sa.JSON(), nullable=True),
    )
    op.create_index("ux_tickets_rule_sets", "tickets_rule_sets", ["kind", "version"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_tickets_rule_sets", table_name="tickets_rule_sets")
    op.drop_table("tickets_rule_sets")
