"""`flask users bootstrap`: the first supervisor on a fresh install, once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accounts import service
from accounts.models import User
from core.db import get_db


def test_bootstrap_creates_one_supervisor_once(app, runner, tmp_path):
    path = tmp_path / "admin-password"
    first = runner.invoke(
        args=["users", "bootstrap", "--username", "boot", "--password-file", str(path)]
    )
    assert first.exit_code == 0, first.output
    assert "created supervisor 'boot'" in first.output
    username, password = path.read_text().split()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with app.app_context(), get_db().session() as s:
        user = service.get_user(s, username)
        assert user.role == "supervisor"
        assert (
            service.authenticate(
                s,
                username,
                password,
                address="127.0.0.1",
                max_failures=5,
                lockout=timedelta(minutes=1),
            )
            is user
        )
    again = runner.invoke(
        args=[
            "users",
            "bootstrap",
            "--username",
            "other",
            "--password-file",
            str(tmp_path / "other"),
        ]
    )
    assert again.exit_code == 0 and again.output == ""
    assert not (tmp_path / "other").exists()
    with app.app_context(), get_db().session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1
