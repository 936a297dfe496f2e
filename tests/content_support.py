"""Helpers for the content editors' tests: users with API tokens, a logged-in client."""

from __future__ import annotations

import pytest
from accounts_support import login, make_user

from accounts import service as accounts
from core import calendar
from core.db import get_db


def token_for(app, username: str, role: str) -> dict:
    """Authorization header of a new user of this role."""
    make_user(app, username, role)
    with app.app_context(), get_db(app).session() as s:
        token = accounts.issue_token(accounts.get_user(s, username))
    return {"Authorization": f"Bearer {token}"}


def logged_in(app, username: str, role: str):
    client = app.test_client()
    make_user(app, username, role)
    login(client, username)
    return client


@pytest.fixture(autouse=True)
def _forget_process_calendar():
    """Entries of this test's database must not reach later tests' process-wide lookups."""
    yield
    calendar.install_source(None)
