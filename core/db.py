"""Database access: one engine per process, sessions per unit of work.

SQLite (WAL, busy timeout) is the embedded default; PostgreSQL through
DATABASE_URL. Every package declares its tables on `Base`; the schema is
owned by Alembic (`flask db upgrade`), never by `create_all` in production.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from core.config import ROOT

SQLITE_BUSY_TIMEOUT_MS = 10_000
PG_POOL_SIZE = 10


class Base(DeclarativeBase):
    """Declarative base shared by every package's models."""


def utcnow() -> datetime:
    """Timezone-aware UTC now; stored as UTC everywhere."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each backend needs."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=PG_POOL_SIZE, max_overflow=20, pool_pre_ping=True)


class Database:
    """An engine and its session factory; one per process and URL."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        with self.Session() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app) -> Database:
    """Attach a Database for app.config['DATABASE_URL'] to the Flask app."""
    db = Database(app.config["DATABASE_URL"])
    app.extensions["db"] = db
    return db


def get_db(app=None) -> Database:
    """The Database of the given or current Flask app."""
    if app is None:
        from flask import current_app

        app = current_app
    return app.extensions["db"]


def import_all_models() -> None:
    """Import every package's models (`<package>/models.py`) so Base.metadata is complete."""
    importlib.import_module("core.calendar_store")
    for path in sorted(ROOT.glob("*/models.py")):
        importlib.import_module(f"{path.parent.name}.models")
