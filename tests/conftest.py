"""Shared fixtures: the app on a fresh database, and store tests over every backend.

`database_url` is parametrized over SQLite and PostgreSQL. PostgreSQL is the
machine's 127.0.0.1:5432 (database `test` is only used to create a private
database per test run, so parallel runs do not collide). Under CI=true an
unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, inspect, text

from core import migrate
from core.db import Base, import_all_models
from core.scratch import scratch_database

pytest_plugins = ["reliability_plugin"]

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TEST_API_TOKEN = "test-api-token"


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url():
    """A private PostgreSQL database for this test run, migrated once."""
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL} (required under CI)")
        pytest.skip("PostgreSQL not reachable")
    with scratch_database(PG_ADMIN_URL, "hotline_test") as url:
        migrate.upgrade(url)
        yield url


def _truncate_all(url: str) -> None:
    import_all_models()
    engine = create_engine(url)
    existing = set(inspect(engine).get_table_names())
    names = [t.name for t in Base.metadata.sorted_tables if t.name in existing]
    if names:
        with engine.begin() as conn:
            quoted = ", ".join(f'"{n}"' for n in names)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated, empty database on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
        migrate.upgrade(url)
        return url
    url = request.getfixturevalue("pg_url")
    _truncate_all(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def shared_audio_dir(tmp_path_factory):
    """One prompt-audio cache for the run: files are content-addressed, so sharing is safe and
    spares every app its own synthesis of the whole flow (tests of the cache set their own)."""
    return tmp_path_factory.mktemp("audio")


def _test_config(tmp_path, url: str, audio_dir) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret",
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "PUBLIC_BASE_URL": "http://hotline.test",
        "HOTLINE_API_TOKEN": TEST_API_TOKEN,
        "AUDIO_DIR": str(audio_dir),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "TELEPHONY": "simulator",
    }


@pytest.fixture
def make_app(tmp_path, sqlite_url, shared_audio_dir):
    """Build an app on a fresh SQLite database; keyword overrides go into its config."""
    from ivr import create_app

    apps = []

    def factory(**overrides):
        config = _test_config(tmp_path, sqlite_url, shared_audio_dir) | overrides
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["db"].dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def store_app(tmp_path, database_url, shared_audio_dir):
    """The app on each database backend in turn (store tests)."""
    from ivr import create_app

    app = create_app(_test_config(tmp_path, database_url, shared_audio_dir))
    yield app
    app.extensions["db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
