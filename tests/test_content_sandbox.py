"""The studio's web phone answers like the real line: the sandbox reads the live
knowledge base, notices, calendar and rules (and writes none of them)."""

from __future__ import annotations

import shutil

import pytest
from accounts_support import csrf_token, login, make_user
from content_support import _forget_process_calendar  # noqa: F401
from sqlalchemy import func, select

from core import calendar_store
from core.config import ROOT
from core.db import get_db
from ivr.flows import load_flow
from ivr.notices import add_notice
from studio import sandbox
from tickets import kb, kb_edit
from tickets.models import Article
from tickets.seed import seed

NEW_ANSWER = "今年供暖季从十一月十五日开始，到次年三月十五日结束。"


@pytest.fixture
def studio(make_app, tmp_path):
    flows = tmp_path / "flows.yaml"
    shutil.copy(ROOT / "flows.yaml", flows)
    app = make_app(FLOWS_PATH=str(flows))
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    make_user(app, "lead", "supervisor")
    client = app.test_client()
    login(client, "lead")
    yield app, client, csrf_token(client, "/studio/")
    sandbox.dispose_all()


def post(client, token, url, **body):
    resp = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def flows_text(app) -> str:
    with open(app.config["FLOWS_PATH"], encoding="utf-8") as f:
        return f.read()


def heard(view) -> str:
    return " ".join(e.get("text") or "" for e in view["events"] if e["kind"] in ("say", "play"))


def test_web_phone_reads_the_live_knowledge_base_and_notices(studio):
    app, client, token = studio
    with app.app_context(), get_db(app).session() as s:
        kb_edit.update(s, kb.get_article(s, "heating-season"), {"answer": NEW_ANSWER}, author="t")
        add_notice(s, text="因道路施工，西城区今晚停水。")
    # Prompts as <Say>, so what the caller hears is readable text (audio is tested elsewhere).
    text = flows_text(app)
    built = sandbox.sandbox_for(app, text, load_flow(app.config["FLOWS_PATH"]).version)
    built.extensions["prompt_audio"] = None
    view = post(client, token, "/studio/phone", mode="published")
    waited = post(client, token, f"/studio/phone/{view['id']}", kind="wait")
    assert "因道路施工，西城区今晚停水。" in heard(waited), waited["events"]
    post(client, token, f"/studio/phone/{view['id']}", kind="hangup")
    view = post(client, token, "/studio/phone", mode="published")
    view = post(client, token, f"/studio/phone/{view['id']}", kind="keys", value="5")
    view = post(client, token, f"/studio/phone/{view['id']}", kind="keys", value="3")
    assert NEW_ANSWER in heard(view), view["events"]
    assert "暂时没有相关信息" not in heard(view)
    assert built.extensions[calendar_store.EXTENSION] is calendar_store.source(app)
    with built.app_context(), get_db(built).session() as s:
        assert s.scalar(select(func.count(Article.id))) == 0  # nothing copied or written there
