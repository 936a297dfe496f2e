"""Shared fixtures: the app on a fresh database, and store tests over every backend.

`database_url` is parametrized over SQLite and PostgreSQL. PostgreSQL is the
machine's 127.0.0.1:5432 (database `test` is only used to create private
databases): the schema is migrated once per run into a template, and each test
gets its own copy, dropped afterwards, so no test sees another's rows and
parallel runs do not collide. Under CI=true an unreachable PostgreSQL fails the
run instead of skipping, and so do a missing Chromium and nginx (`missing`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from core import migrate
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


def missing(what: str) -> None:
    """Skip this test for want of a part the machine lacks; under CI=true, fail it instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (required under CI)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def pg_template_url():
    """A PostgreSQL database for this test run, migrated once; never connected to afterwards
    (PostgreSQL copies a template only while nobody is connected to it)."""
    if not _pg_available():
        missing(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    with scratch_database(PG_ADMIN_URL, "hotline_template") as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A migrated, empty database of this test's own on each backend in turn."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hotline.db'}"
        migrate.upgrade(url)
        yield url
        return
    template = request.getfixturevalue("pg_template_url")
    # Dropped WITH (FORCE): connections a test left open (or a process it started) go too.
    with scratch_database(PG_ADMIN_URL, "hotline_test", template=template) as url:
        yield url


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


@contextlib.contextmanager
def _apps_on(url: str, tmp_path, audio_dir) -> Iterator:
    """A factory of apps on the database at `url` (keyword overrides go into their config);
    their connections are closed afterwards."""
    from ivr import create_app

    apps = []

    def factory(**overrides):
        app = create_app(_test_config(tmp_path, url, audio_dir) | overrides)
        apps.append(app)
        return app

    try:
        yield factory
    finally:
        for app in apps:
            app.extensions["db"].dispose()


@pytest.fixture
def make_app(tmp_path, sqlite_url, shared_audio_dir):
    """Build an app on a fresh SQLite database; keyword overrides go into its config."""
    with _apps_on(sqlite_url, tmp_path, shared_audio_dir) as factory:
        yield factory


@pytest.fixture
def make_store_app(tmp_path, database_url, shared_audio_dir):
    """As make_app, on each database backend in turn (store tests)."""
    with _apps_on(database_url, tmp_path, shared_audio_dir) as factory:
        yield factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def store_app(make_store_app):
    """The app on each database backend in turn (store tests)."""
    return make_store_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
