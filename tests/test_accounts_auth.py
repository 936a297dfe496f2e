"""Login, logout, session expiry, role decorators and API bearer auth (real app, SQLite)."""

from __future__ import annotations

import time

import pytest
from accounts_support import PASSWORD, csrf_token, login, make_user
from flask import Blueprint, jsonify

from accounts import api_auth_required, current_actor, role_required
from accounts.auth import safe_next


def _probe_blueprint() -> Blueprint:
    """Routes guarded by each decorator, answering with who the app thinks is asking."""
    bp = Blueprint("probe", __name__)

    @bp.get("/probe/any")
    @role_required()
    def any_role():
        return "any:" + current_actor()

    @bp.route("/probe/supervisor", methods=["GET", "POST"])
    @role_required("supervisor")
    def supervisor_only():
        return "supervisor:" + current_actor()

    @bp.route("/api/probe", methods=["GET", "POST"])
    @api_auth_required
    def api_probe():
        return jsonify(actor=current_actor())

    @bp.get("/api/probe/supervisor")
    @api_auth_required(roles=("supervisor",))
    def api_supervisor():
        return jsonify(actor=current_actor())

    return bp


@pytest.fixture
def app(make_app):
    app = make_app(
        SESSION_IDLE_MINUTES="30",
        SESSION_MAX_HOURS="12",
        LOGIN_MAX_FAILURES="3",
        LOGIN_LOCKOUT_MINUTES="15",
    )
    app.register_blueprint(_probe_blueprint())
    make_user(app, "boss", "supervisor", display_name="王班长")
    make_user(app, "agent1", "agent")
    return app


def test_anonymous_is_sent_to_login_with_next(client):
    r = client.get("/probe/supervisor?x=1")
    assert r.status_code == 302
    assert r.headers["Location"] == "/login?next=/probe/supervisor?x%3D1"


def test_login_then_page_then_logout(client):
    r = login(client, "boss")
    assert r.status_code == 302
    assert client.get("/probe/supervisor").get_data(as_text=True) == "supervisor:boss"
    page = client.get("/account").get_data(as_text=True)
    assert "王班长" in page and "退出 Log out" in page
    r = client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert r.status_code == 302
    assert client.get("/probe/any").status_code == 302


def test_login_follows_safe_next_only(client):
    token = csrf_token(client)
    r = client.post(
        "/login",
        data={"username": "boss", "password": PASSWORD, "csrf_token": token, "next": "/probe/any"},
    )
    assert r.headers["Location"] == "/probe/any"
    assert safe_next("//evil.example/x") is None
    assert safe_next("https://evil.example/") is None
    assert safe_next("javascript:alert(1)") is None
    assert safe_next("/tickets/?q=1") == "/tickets/?q=1"


def test_wrong_role_gets_403(client):
    login(client, "agent1")
    assert client.get("/probe/any").get_data(as_text=True) == "any:agent1"
    r = client.get("/probe/supervisor")
    assert r.status_code == 403
    assert "无权访问" in r.get_data(as_text=True)


def test_wrong_password_is_401_and_says_nothing_about_which(client):
    r = login(client, "boss", "wrong password!")
    assert r.status_code == 401
    body = r.get_data(as_text=True)
    assert "用户名或密码错误" in body
    assert (
        login(client, "nobody", "wrong password!").get_data(as_text=True).count("用户名或密码错误")
        == 1
    )


def test_lockout_after_repeated_failures_even_with_right_password(client):
    for _ in range(3):
        assert login(client, "boss", "guess-guess-guess").status_code == 401
    r = login(client, "boss")
    assert r.status_code == 429
    assert "登录失败次数过多" in r.get_data(as_text=True)
    # Another user from the same address is not locked by boss's failures (below x4).
    assert login(client, "agent1").status_code == 302


def test_deactivated_user_cannot_log_in_and_open_sessions_end(app, client):
    from accounts import service
    from core.db import get_db

    login(client, "agent1")
    assert client.get("/probe/any").status_code == 200
    with app.app_context(), get_db(app).session() as s:
        service.deactivate(service.get_user(s, "agent1"))
    assert client.get("/probe/any").status_code == 302
    assert login(client, "agent1").status_code == 401


def test_password_change_ends_other_sessions(app, client):
    from accounts import service
    from core.db import get_db

    assert login(client, "boss").status_code == 302
    assert client.get("/probe/any").status_code == 200  # signed in before the change
    with app.app_context(), get_db(app).session() as s:
        service.set_password(service.get_user(s, "boss"), "a brand new password")
    assert client.get("/probe/any").status_code == 302


def _age_session(client, **seconds_ago):
    with client.session_transaction() as sess:
        for key, ago in seconds_ago.items():
            sess[key] = time.time() - ago


def test_idle_session_expires(client):
    login(client, "boss")
    _age_session(client, seen_at=29 * 60)
    assert client.get("/probe/any").status_code == 200  # and refreshes last-seen
    _age_session(client, seen_at=31 * 60)
    r = client.get("/probe/any")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert "会话已过期" in client.get("/login").get_data(as_text=True)


def test_absolute_lifetime_ends_an_active_session(client):
    assert login(client, "boss").status_code == 302
    _age_session(client, login_at=12 * 3600 - 60)
    assert client.get("/probe/any").status_code == 200  # within the lifetime
    _age_session(client, login_at=12 * 3600 + 5)  # seen_at is fresh: only the lifetime ends it
    assert client.get("/probe/any").status_code == 302


def test_forged_session_for_unknown_user_is_rejected(client):
    with client.session_transaction() as sess:
        sess.update(uid=999, epoch=0, login_at=time.time(), seen_at=time.time())
    assert client.get("/probe/any").status_code == 302


def test_api_requires_a_token(client):
    r = client.get("/api/probe")
    assert r.status_code == 401
    assert r.json == {"error": "authentication required: Authorization: Bearer <token>"}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = client.get("/api/probe", headers={"Authorization": "Bearer not-the-token"})
    assert r.status_code == 401


def test_api_service_token_acts_as_api(app, client):
    service_token = app.config["HOTLINE_API_TOKEN"]  # conftest's TEST_API_TOKEN
    r = client.post("/api/probe", headers={"Authorization": f"Bearer {service_token}"})
    assert r.status_code == 200 and r.json == {"actor": "api"}
    r = client.get("/api/probe/supervisor", headers={"Authorization": f"Bearer {service_token}"})
    assert r.status_code == 200


def test_api_user_token_acts_as_the_user_and_is_role_checked(app, client):
    from accounts import service
    from core.db import get_db

    with app.app_context(), get_db(app).session() as s:
        token = service.issue_token(service.get_user(s, "agent1"))
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/probe", headers=auth).json == {"actor": "agent1"}
    assert client.get("/api/probe/supervisor", headers=auth).status_code == 403
    # Re-issuing revokes the old token.
    with app.app_context(), get_db(app).session() as s:
        service.issue_token(service.get_user(s, "agent1"))
    assert client.get("/api/probe", headers=auth).status_code == 401


def test_api_accepts_a_logged_in_session_but_its_writes_need_csrf(client):
    login(client, "boss")
    assert client.get("/api/probe").json == {"actor": "boss"}
    assert client.post("/api/probe").status_code == 400
    token = csrf_token(client, "/account")
    assert client.post("/api/probe", headers={"X-CSRFToken": token}).json == {"actor": "boss"}


def test_pages_carry_protective_headers(client):
    r = client.get("/login")
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    login(client, "boss")
    assert client.get("/account").headers["Cache-Control"] == "private, no-store"


def test_session_cookie_is_secure_behind_https(make_app):
    assert (
        make_app(PUBLIC_BASE_URL="https://hotline.example.gov.cn").config["SESSION_COOKIE_SECURE"]
        is True
    )


def test_behind_a_proxy_one_client_is_locked_not_everyone(make_app):
    app = make_app(LOGIN_MAX_FAILURES="1", TRUSTED_PROXIES="1")
    make_user(app, "boss", "supervisor")
    attacker, colleague = app.test_client(), app.test_client()
    for name in ("a", "b", "c", "d"):  # 4 unknown names x limit 1 = the address limit
        token = csrf_token(attacker)
        attacker.post(
            "/login",
            data={"username": name, "password": "x" * 10, "csrf_token": token},
            headers={"X-Forwarded-For": "198.51.100.66"},
        )
    token = csrf_token(attacker)
    r = attacker.post(
        "/login",
        data={"username": "boss", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.66"},
    )
    assert r.status_code == 429
    token = csrf_token(colleague)
    r = colleague.post(
        "/login",
        data={"username": "boss", "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-For": "198.51.100.10"},
    )
    assert r.status_code == 302
