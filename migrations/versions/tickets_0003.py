"""tickets: indexes for filtering by place (topic, district, status) and (district, opened_on)

Revision ID: tickets_0003
Revises: tickets_0002
"""

from alembic import op

revision = "tickets_0003"
down_revision = "tickets_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_topic_district_status", "tickets", ["topic", "district", "status"])
    op.create_index("ix_tickets_district_opened", "tickets", ["district", "opened_on"])


def downgrade() -> None:
    op.drop_index("ix_tickets_district_opened", table_name="tickets")
    op.drop_index("ix_tickets_topic_district_status", table_name="tickets")
