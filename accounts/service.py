"""Creating users, checking passwords and issuing API tokens (no Flask here)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from accounts import throttle
from accounts.errors import BadCredentials, InvalidUser
from accounts.models import ROLES, User
from core.db import utcnow

MIN_PASSWORD_LENGTH = 10
TOKEN_BYTES = 32
# Checked against when the username is unknown, so a miss costs as long as a hit.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(s: Session, username: str) -> User | None:
    return s.scalar(select(User).where(User.username == username.strip().lower()))


def create_user(
    s: Session,
    username: str,
    password: str,
    *,
    role: str,
    department_id: int | None = None,
    display_name: str | None = None,
) -> User:
    """Add a user; department users must name their department, others must not."""
    username = username.strip().lower()
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace("-", "").replace(".", "").isalnum()
    ):
        raise InvalidUser("username: letters, digits, '.', '-', '_' (at most 64)")
    if role not in ROLES:
        raise InvalidUser(f"role: one of {', '.join(ROLES)}")
    if (role == "department") != (department_id is not None):
        raise InvalidUser("department: required for (and only for) role 'department'")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if get_user(s, username) is not None:
        raise InvalidUser(f"username: '{username}' already exists")
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        department_id=department_id,
        display_name=display_name,
        active=True,
        session_epoch=0,
        created_at=utcnow(),
    )
    s.add(user)
    s.flush()
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidUser(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = generate_password_hash(password)
    user.session_epoch += 1


def end_sessions(user: User) -> None:
    """Revoke every browser session of the user (a session carries the epoch it began in)."""
    user.session_epoch += 1


def deactivate(user: User) -> None:
    user.active = False
    user.api_token_hash = None
    user.session_epoch += 1


def authenticate(
    s: Session,
    username: str,
    password: str,
    *,
    address: str | None,
    max_failures: int,
    lockout: timedelta,
) -> User:
    """The user for these credentials; raises LoginLocked or BadCredentials.

    Failures are recorded by the caller's transaction, so commit even on error.
    """
    throttle.check(s, username, address)
    user = get_user(s, username)
    ok = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if not (ok and user is not None and user.active):
        throttle.record_failure(s, username, address, max_failures=max_failures, lockout=lockout)
        raise BadCredentials()
    throttle.record_success(s, username)
    user.last_login_at = utcnow()
    return user


def issue_token(user: User) -> str:
    """A new bearer token for the user (replaces any previous one); shown once."""
    token = "u_" + secrets.token_urlsafe(TOKEN_BYTES)
    user.api_token_hash = token_digest(token)
    return token


def user_for_token(s: Session, token: str) -> User | None:
    # Looked up by digest: comparing digests leaks nothing useful about the token.
    user = s.scalar(select(User).where(User.api_token_hash == token_digest(token)))
    return user if user is not None and user.active else None
