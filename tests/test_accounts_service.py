"""Users, passwords, tokens and login throttling on every database backend."""

from __future__ import annotations

from datetime import timedelta

import pytest

from accounts import service, throttle
from accounts.errors import BadCredentials, InvalidUser, LoginLocked
from accounts.models import LoginFailure
from core.db import get_db, utcnow

pytestmark = pytest.mark.store
LIMITS = {"max_failures": 3, "lockout": timedelta(minutes=15)}


@pytest.fixture
def db(store_app):
    return get_db(store_app)


def test_create_and_authenticate(db):
    with db.session() as s:
        user = service.create_user(
            s, " Zhang.Wei ", "long enough pw", role="agent", display_name="张伟"
        )
        assert user.id and user.username == "zhang.wei"
        assert user.password_hash != "long enough pw"
    with db.session() as s:
        user = service.authenticate(s, "zhang.wei", "long enough pw", address="10.0.0.1", **LIMITS)
        assert user.label == "张伟" and user.last_login_at is not None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "a b", "role": "agent"}, "username"),
        ({"username": "x", "role": "admin"}, "role"),
        ({"username": "x", "role": "department"}, "department"),
        ({"username": "x", "role": "agent", "department_id": 3}, "department"),
        ({"username": "x", "role": "agent", "password": "short"}, "password"),
    ],
)
def test_invalid_users_are_refused(db, kwargs, field):
    kwargs = dict(kwargs)  # shared by both backends' runs
    password = kwargs.pop("password", "long enough pw")
    username = kwargs.pop("username")
    with db.session() as s, pytest.raises(InvalidUser, match=f"^{field}:"):
        service.create_user(s, username, password, **kwargs)


def test_duplicate_username_is_refused(db):
    with db.session() as s:
        service.create_user(s, "li", "long enough pw", role="agent")
    with db.session() as s, pytest.raises(InvalidUser, match="already exists"):
        service.create_user(s, "LI", "long enough pw", role="agent")


def _fail(db, username, address="10.0.0.9"):
    with db.session() as s, pytest.raises(BadCredentials):
        service.authenticate(s, username, "wrong password", address=address, **LIMITS)


def test_lockout_counts_across_sessions_and_success_resets(db):
    with db.session() as s:
        service.create_user(s, "li", "long enough pw", role="agent")
    _fail(db, "li")
    _fail(db, "li")
    with db.session() as s:  # a success before the limit clears the username's count
        service.authenticate(s, "li", "long enough pw", address="10.0.0.9", **LIMITS)
        assert s.get(LoginFailure, "user:li") is None
        assert s.get(LoginFailure, "ip:10.0.0.9").failures == 2
    for _ in range(3):
        _fail(db, "li")
    with db.session() as s, pytest.raises(LoginLocked) as locked:
        service.authenticate(s, "li", "long enough pw", address="10.0.0.1", **LIMITS)
    assert locked.value.until > utcnow() + timedelta(minutes=14)


def test_unknown_usernames_lock_the_address(db):
    for i in range(3 * throttle.ADDRESS_LIMIT_FACTOR):
        _fail(db, f"guess{i}", address="192.0.2.7")
    with db.session() as s, pytest.raises(LoginLocked):
        throttle.check(s, "someone-else", "192.0.2.7")


def test_lock_ends_and_old_failures_expire(db):
    now = utcnow()
    with db.session() as s:
        for _ in range(3):
            throttle.record_failure(s, "li", None, now=now, **LIMITS)
    with db.session() as s:
        with pytest.raises(LoginLocked):
            throttle.check(s, "li", None, now=now + timedelta(minutes=14))
        throttle.check(s, "li", None, now=now + timedelta(minutes=16))
        throttle.record_failure(s, "li", None, now=now + timedelta(minutes=16), **LIMITS)
        row = s.get(LoginFailure, "user:li")
        assert row.failures == 1 and row.locked_until is None


def test_tokens(db):
    with db.session() as s:
        user = service.create_user(s, "dept1", "long enough pw", role="department", department_id=7)
        token = service.issue_token(user)
        assert user.api_token_hash == service.token_digest(token) != token
    with db.session() as s:
        assert service.user_for_token(s, token).username == "dept1"
        assert service.user_for_token(s, token + "x") is None
        service.deactivate(service.get_user(s, "dept1"))
    with db.session() as s:
        assert service.user_for_token(s, token) is None


def test_client_address_behind_trusted_proxies():
    # Directly exposed: a client-sent X-Forwarded-For is ignored.
    assert throttle.client_address("203.0.113.9", "1.2.3.4", 0) == "203.0.113.9"
    # Behind nginx: nginx appended the real client; what the client sent stays to the left.
    assert throttle.client_address("127.0.0.1", "1.2.3.4, 198.51.100.7", 1) == "198.51.100.7"
    assert throttle.client_address("127.0.0.1", None, 1) == "127.0.0.1"
    assert throttle.client_address("127.0.0.1", "198.51.100.7", 2) == "127.0.0.1"
