"""Bring a database to the latest schema with Alembic (all package branches)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from core.config import ROOT
from core.db import make_engine


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Apply every pending migration of every branch."""
    command.upgrade(alembic_config(database_url), revision)


def current_heads(database_url: str) -> set[str]:
    """Revisions the database is at (empty before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def latest_heads() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())
