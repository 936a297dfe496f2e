"""studio: flow revisions, drafts, web-phone calls

Revision ID: studio_0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "studio_0001"
down_revision = None
branch_labels = ("studio",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studio_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column(
            "restored_from", sa.Integer(), sa.ForeignKey("studio_revisions.id"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_studio_revisions_version", "studio_revisions", ["version"])
    op.create_table(
        "studio_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "base_revision_id", sa.Integer(), sa.ForeignKey("studio_revisions.id"), nullable=True
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "studio_phone_calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("flow_version", sa.String(64), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_studio_phone_calls_username", "studio_phone_calls", ["username"])


def downgrade() -> None:
    op.drop_index("ix_studio_phone_calls_username", table_name="studio_phone_calls")
    op.drop_table("studio_phone_calls")
    op.drop_table("studio_drafts")
    op.drop_index("ix_studio_revisions_version", table_name="studio_revisions")
    op.drop_table("studio_revisions")
