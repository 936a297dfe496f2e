"""CSRF: every cookie-authenticated write needs the token; header-authenticated ones do not."""

from __future__ import annotations

import pytest
from accounts_support import PASSWORD, csrf_token, login, make_user
from flask import Blueprint

from accounts import csrf


@pytest.fixture
def app(make_app):
    app = make_app()
    hooks = Blueprint("hooks", __name__)

    @hooks.post("/hooks/exempt")
    def exempt_hook():
        return "ok"

    csrf.exempt(hooks)
    guarded = Blueprint("guarded", __name__)

    @guarded.post("/guarded")
    def guarded_post():
        return "ok"

    app.register_blueprint(hooks)
    app.register_blueprint(guarded)
    make_user(app, "boss", "supervisor")
    return app


def test_login_form_without_token_is_rejected(client):
    r = client.post("/login", data={"username": "boss", "password": PASSWORD})
    assert r.status_code == 400
    assert "表单已过期或无效" in r.get_data(as_text=True)


def test_token_from_another_session_is_rejected(app, client):
    other = app.test_client()
    stolen = csrf_token(other)
    client.get("/login")
    r = client.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": stolen})
    assert r.status_code == 400


def test_logout_needs_the_token(client):
    login(client, "boss")
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200  # still logged in


def test_any_post_needs_the_token(client):
    assert client.post("/guarded").status_code == 400
    token = csrf_token(client)
    assert client.post("/guarded", data={"csrf_token": token}).status_code == 200


def test_exempt_blueprint_and_header_authenticated_requests(client):
    assert client.post("/hooks/exempt").status_code == 200
    assert client.post("/guarded", headers={"X-Twilio-Signature": "sig"}).status_code == 200
    assert client.post("/guarded", headers={"Authorization": "Bearer x"}).status_code == 200
    # A cookie alone is not a header-authenticated request.
    assert client.post("/guarded", headers={"Authorization": "Basic eDp5"}).status_code == 400
