"""tickets: trigram (pg_trgm) indexes for text search

Revision ID: tickets_0004
Revises: tickets_0003

On PostgreSQL GIN trigram indexes serve LIKE '%…%'. SQLite gets plain indexes of
the same names (the models declare one schema for both backends).
"""

from alembic import op

revision = "tickets_0004"
down_revision = "tickets_0003"
branch_labels = None
depends_on = None

COLUMNS = ("description", "transcript", "location")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # Needs CREATE on the database (pg_trgm is a trusted extension since PostgreSQL 13).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name in COLUMNS:
        op.create_index(
            f"ix_tickets_{name}_trgm",
            "tickets",
            [name],
            postgresql_using="gin",
            postgresql_ops={name: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_index(f"ix_tickets_{name}_trgm", table_name="tickets")
