"""tickets: knowledge-base validity dates, retirement and versions

Revision ID: tickets_0005
Revises: tickets_0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "tickets_0005"
down_revision = "tickets_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kb_articles") as batch:
        batch.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("valid_until", sa.Date(), nullable=True))
        batch.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("updated_by", sa.String(100), nullable=True))
    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("kb_articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
    )
    op.create_index(
        "ux_kb_article_versions", "kb_article_versions", ["article_id", "version"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_kb_article_versions", table_name="kb_article_versions")
    op.drop_table("kb_article_versions")
    with op.batch_alter_table("kb_articles") as batch:
        for name in ("updated_by", "version", "retired_at", "valid_until", "valid_from"):
            batch.drop_column(name)
