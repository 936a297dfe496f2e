"""`flask users create|token|list|password|deactivate`."""

from __future__ import annotations

import contextlib

import click
from flask.cli import AppGroup
from sqlalchemy import select

from accounts import departments, service
from accounts.errors import InvalidUser
from accounts.models import ROLES, User
from core.config import ROOT
from core.db import get_db

users_cli = AppGroup("users", help="Users of the supervisor pages and the API.")


def _department_id(s, value: str | None) -> int | None:
    """A department given by id, code or name (tickets' departments table)."""
    if value is None:
        return None
    found = departments.directory().find(s, value)
    if found is None:
        raise click.BadParameter(
            f"no department {value!r} (id, code or name)", param_hint="--department"
        )
    return found


@contextlib.contextmanager
def _session_reporting_errors():
    """A transaction whose InvalidUser becomes a one-line CLI error."""
    try:
        with get_db().session() as s:
            yield s
    except InvalidUser as exc:
        raise click.ClickException(str(exc)) from exc


def _user(s, username: str) -> User:
    user = service.get_user(s, username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--department", help="Department id, code or name (role 'department').")
@click.option("--name", "display_name", help="Display name, e.g. 张伟.")
@click.password_option(help="Asked for when not given (at least 10 characters).")
def create(username, role, department, display_name, password):
    """Create a user."""
    with _session_reporting_errors() as s:
        user = service.create_user(
            s,
            username,
            password,
            role=role,
            department_id=_department_id(s, department),
            display_name=display_name,
        )
    click.echo(f"created {user.username} ({user.role})")


@users_cli.command("token")
@click.argument("username")
def token(username):
    """Issue a new API bearer token for the user (replaces the old one; shown once)."""
    with get_db().session() as s:
        value = service.issue_token(_user(s, username))
    click.echo(value)


@users_cli.command("password")
@click.argument("username")
@click.password_option()
def password(username, password):
    """Set a user's password (ends the user's open sessions)."""
    with _session_reporting_errors() as s:
        service.set_password(_user(s, username), password)
    click.echo(f"password of {username} changed")


@users_cli.command("deactivate")
@click.argument("username")
def deactivate(username):
    """Disable a user: no login, token revoked, open sessions ended."""
    with get_db().session() as s:
        service.deactivate(_user(s, username))
    click.echo(f"{username} deactivated")


@users_cli.command("list")
def list_users():
    """List users."""
    with get_db().session() as s:
        for u in s.scalars(select(User).order_by(User.username)):
            dept = f" department={u.department_id}" if u.department_id else ""
            state = "" if u.active else " (inactive)"
            token = " token" if u.api_token_hash else ""
            click.echo(f"{u.username}\t{u.role}{dept}{token}{state}")


@users_cli.command("bootstrap")
@click.option("--username", default="admin", show_default=True)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False),
    help="Where to write the password [default: var/admin-password].",
)
def bootstrap(username, password_file):
    """First start: create a supervisor when there is none; its password goes to var/.

    Safe to run on every start (scripts/run does): it does nothing once a supervisor exists.
    """
    import secrets
    from pathlib import Path

    with _session_reporting_errors() as s:
        if s.scalar(select(User).where(User.role == "supervisor").limit(1)) is not None:
            return
        password = secrets.token_urlsafe(12)
        service.create_user(s, username, password, role="supervisor", display_name="管理员")
    path = Path(password_file) if password_file else ROOT / "var" / "admin-password"
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created 0600 before the secret is written into it.
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_text(f"{username} {password}\n")
    click.echo(f"created supervisor '{username}'; its password is in {path}")
