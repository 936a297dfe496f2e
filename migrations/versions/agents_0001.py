"""agents: agents, queue membership, presence history, queue calls, offers

Revision ID: agents_0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "agents_0001"
down_revision = None
branch_labels = ("agents",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("device", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(100), nullable=True),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idle_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wrap_up_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agents_status_idle", "agents", ["status", "idle_since"])
    op.create_table(
        "agent_queues",
        sa.Column(
            "agent_id",
            sa.Integer(),
            sa.ForeignKey("agents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("queue", sa.String(64), primary_key=True),
    )
    op.create_index("ix_agent_queues_queue", "agent_queues", ["queue"])
    op.create_table(
        "agent_presence_changes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(100), nullable=True),
    )
    op.create_index("ix_agent_presence_changes_username", "agent_presence_changes", ["username"])
    op.create_index("ix_agent_presence_changes_at", "agent_presence_changes", ["at"])
    op.create_table(
        "agent_queue_calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("first_offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent", sa.String(64), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
    )
    op.create_index(
        "ix_agent_queue_calls_open", "agent_queue_calls", ["queue", "state", "entered_at"]
    )
    op.create_index("ix_agent_queue_calls_sid", "agent_queue_calls", ["call_sid", "state"])
    op.create_index("ix_agent_queue_calls_agent", "agent_queue_calls", ["agent"])
    op.create_table(
        "agent_offers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "queue_call_id",
            sa.Integer(),
            sa.ForeignKey("agent_queue_calls.id"),
            nullable=False,
        ),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("leg_sid", sa.String(64), nullable=True, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("result", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bridged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_agent_offers_live", "agent_offers", ["state", "created_at"])
    op.create_index("ix_agent_offers_queue_call_id", "agent_offers", ["queue_call_id"])
    op.create_index("ix_agent_offers_agent_id", "agent_offers", ["agent_id"])


def downgrade() -> None:
    op.drop_table("agent_offers")
    op.drop_table("agent_queue_calls")
    op.drop_table("agent_presence_changes")
    op.drop_table("agent_queues")
    op.drop_table("agents")
