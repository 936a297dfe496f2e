"""tickets: 诉求摘要 (summary of a request, written by agents or the office)

Revision ID: tickets_0007
Revises: tickets_0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "tickets_0007"
down_revision = "tickets_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("summary")
