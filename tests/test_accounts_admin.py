"""Own password change, and supervisors managing users and API tokens (real app, SQLite)."""

from __future__ import annotations

import re

import pytest
from accounts_support import PASSWORD, csrf_token, login, make_user
from sqlalchemy import select

from accounts import service
from core.db import get_db
from tickets import seed
from tickets.models import Department


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context(), get_db(app).session() as s:
        seed.seed(s)
    make_user(app, "boss", "supervisor")
    make_user(app, "agent1", "agent")
    return app


def as_user(app, username, password=PASSWORD):
    client = app.test_client()
    assert login(client, username, password).status_code == 302
    return client


def post(client, path, **data):
    data["csrf_token"] = csrf_token(client, "/account")
    return client.post(path, data=data, follow_redirects=True)


def _housing_id(app) -> int:
    with app.app_context(), get_db(app).session() as s:
        return s.scalar(select(Department.id).where(Department.code == "housing"))


def test_only_supervisors_manage_users(app):
    assert app.test_client().get("/users/").headers["Location"].startswith("/login")
    agent = as_user(app, "agent1")
    assert agent.get("/users/").status_code == 403
    assert (
        post(
            agent, "/users/", username="x", role="supervisor", password="long enough pw"
        ).status_code
        == 403
    )
    assert "用户 Users" not in agent.get("/account").get_data(as_text=True)


def test_supervisor_creates_a_department_user_who_can_log_in(app):
    boss = as_user(app, "boss")
    page = post(
        boss,
        "/users/",
        username="Housing2",
        display_name="住建局李科长",
        role="department",
        department=str(_housing_id(app)),
        password="long enough pw",
    ).get_data(as_text=True)
    assert "已创建用户 Created housing2" in page and "住建局李科长" in page
    assert "市住房和城乡建设局" in page
    housing = as_user(app, "housing2", "long enough pw")
    assert housing.get("/inbox/").status_code == 200
    # A department user without a department is refused with the reason.
    page = post(
        boss,
        "/users/",
        username="nodept",
        role="department",
        department="",
        password="long enough pw",
    ).get_data(as_text=True)
    assert "未创建" in page and "department" in page
    page = post(boss, "/users/", username="short", role="agent", password="short").get_data(
        as_text=True
    )
    assert "password" in page


def test_token_is_shown_once_and_works(app):
    boss = as_user(app, "boss")
    with app.app_context(), get_db(app).session() as s:
        agent_id = service.get_user(s, "agent1").id
    r = post(boss, f"/users/{agent_id}/token")
    assert r.headers["Cache-Control"] == "no-store"
    token = re.search(r"(u_[A-Za-z0-9_\-]{40,})", r.get_data(as_text=True)).group(1)
    with app.app_context(), get_db(app).session() as s:
        assert service.user_for_token(s, token).username == "agent1"
    api = app.test_client().get("/api/kb?q=储备肉", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


def test_deactivate_others_not_oneself(app):
    boss = as_user(app, "boss")
    agent = as_user(app, "agent1")
    with app.app_context(), get_db(app).session() as s:
        ids = {u: service.get_user(s, u).id for u in ("boss", "agent1")}
    assert "不能停用自己的账户" in post(boss, f"/users/{ids['boss']}/deactivate").get_data(
        as_text=True
    )
    assert "已停用 Deactivated agent1" in post(boss, f"/users/{ids['agent1']}/deactivate").get_data(
        as_text=True
    )
    assert agent.get("/account").status_code == 302  # its open session ended
    assert login(app.test_client(), "agent1").status_code == 401


def test_change_own_password(app):
    agent = as_user(app, "agent1")
    other_session = as_user(app, "agent1")
    page = post(
        agent,
        "/account",
        current="wrong password",
        new="a new long password",
        confirm="a new long password",
    ).get_data(as_text=True)
    assert "当前密码不正确" in page
    page = post(
        agent, "/account", current=PASSWORD, new="a new long password", confirm="a different one!"
    ).get_data(as_text=True)
    assert "两次输入不一致" in page
    page = post(
        agent,
        "/account",
        current=PASSWORD,
        new="a new long password",
        confirm="a new long password",
    ).get_data(as_text=True)
    assert "密码已修改" in page
    assert agent.get("/account").status_code == 200  # this session carries on
    assert other_session.get("/account").status_code == 302  # the other one ended
    assert login(app.test_client(), "agent1").status_code == 401
    assert login(app.test_client(), "agent1", "a new long password").status_code == 302
