"""callbacks: requests, attempts, events, do-not-call list, control switches

Revision ID: callbacks_0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "callbacks_0001"
down_revision = None
branch_labels = ("callbacks",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("resolution_no", sa.Integer(), nullable=True),
        sa.Column("source_call_sid", sa.String(length=64), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("script", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("result", sa.String(length=30), nullable=True),
        sa.Column("comment_recording_url", sa.String(length=500), nullable=True),
        sa.Column("counts", sa.Boolean(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "kind", "ticket_id", "resolution_no", name="uq_callback_request_ticket"
        ),
        sa.UniqueConstraint("source_call_sid", name="uq_callback_request_call"),
    )
    op.create_index("ix_callback_requests_state", "callback_requests", ["state"])
    op.create_index("ix_callback_requests_ticket_id", "callback_requests", ["ticket_id"])
    op.create_index("ix_callback_requests_number", "callback_requests", ["number"])
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("job_id", sa.String(length=100), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("answered_by", sa.String(length=30), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("silences", sa.Integer(), nullable=False),
        sa.Column("heard", sa.String(length=100), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["callback_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "attempt_no", name="uq_callback_attempt_no"),
        sa.UniqueConstraint("call_sid"),
    )
    op.create_index("ix_callback_attempts_state_due", "callback_attempts", ["state", "due_at"])
    op.create_index("ix_callback_attempts_number", "callback_attempts", ["number"])
    op.create_table(
        "callback_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("answered_by", sa.String(length=30), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["callback_attempts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_callback_events_attempt_id", "callback_events", ["attempt_id"])
    op.create_table(
        "callback_do_not_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
    )
    op.create_table(
        "callback_control",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("flag", sa.Boolean(), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_by", sa.String(length=100), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("callback_control")
    op.drop_table("callback_do_not_call")
    op.drop_index("ix_callback_events_attempt_id", table_name="callback_events")
    op.drop_table("callback_events")
    op.drop_index("ix_callback_attempts_number", table_name="callback_attempts")
    op.drop_index("ix_callback_attempts_state_due", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index("ix_callback_requests_number", table_name="callback_requests")
    op.drop_index("ix_callback_requests_ticket_id", table_name="callback_requests")
    op.drop_index("ix_callback_requests_state", table_name="callback_requests")
    op.drop_table("callback_requests")
