"""Helpers for tests of pages behind login (accounts, tickets pages, browser)."""

from __future__ import annotations

import re

from accounts import service
from core.db import get_db

PASSWORD = "correct horse battery"


def make_user(
    app,
    username: str,
    role: str,
    *,
    department_id: int | None = None,
    password: str = PASSWORD,
    display_name: str | None = None,
):
    with app.app_context(), get_db(app).session() as s:
        return service.create_user(
            s, username, password, role=role, department_id=department_id, display_name=display_name
        )


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF meta tag"
    return match.group(1)


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session (read from a rendered page)."""
    return csrf_from(client.get(path).get_data(as_text=True))


def login(client, username: str, password: str = PASSWORD, *, follow: bool = False):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=follow,
    )
