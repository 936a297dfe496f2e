"""Knowledge-base editor: versions, diff, restore, retirement refused while the published
flow reads an article (store on both backends), the write API's errors and roles, the
editor pages with CSRF, and "listen" through speech's prompt audio."""

from __future__ import annotations

from datetime import date

import pytest
from accounts_support import csrf_token
from content_support import _forget_process_calendar, logged_in, token_for  # noqa: F401

from core.db import get_db
from ivr.services import DbServices
from tickets import kb, kb_edit
from tickets.errors import ValidationError
from tickets.seed import seed

HEATING = "heating-season"  # read by node 'heating' of the shipped flow
PORK = "reserve-pork"  # in the knowledge base, read by no node


@pytest.fixture
def seeded(store_app):
    with store_app.app_context(), get_db(store_app).session() as s:
        seed(s)
    return store_app


@pytest.mark.store
def test_versions_diff_restore_and_seed_keeps_edits(seeded):
    with seeded.app_context():
        with get_db().session() as s:
            article = kb.get_article(s, PORK)
            original = article.answer
            assert (article.version, article.updated_by) == (1, "seed")
            kb_edit.update(s, article, {"answer": "今年冬季储备肉投放已结束。"}, author="wang")
            kb_edit.update(s, article, {"topic": "other"}, author="li")
        with get_db().session() as s:
            seed(s)  # the shipped file does not overwrite the editor's versions
            article = kb.get_article(s, PORK)
            assert (article.version, article.answer) == (3, "今年冬季储备肉投放已结束。")
            history = kb_edit.versions(s, article)
            assert [(v.version, v.action, v.author) for v in history] == [
                (3, "edited", "li"),
                (2, "edited", "wang"),
                (1, "created", "seed"),
            ]
            changes = kb_edit.changes(history[2].fields, history[1].fields)
            assert changes == [("答复", original, "今年冬季储备肉投放已结束。")]
            assert "+今年冬季储备肉投放已结束。" in kb_edit.answer_diff(
                history[2].fields, history[1].fields
            )
            kb_edit.restore(s, article, 1, author="zhao")
        with get_db().session() as s:
            article = kb.get_article(s, PORK)
            assert (article.version, article.answer, article.topic) == (4, original, "commerce")
            assert kb_edit.versions(s, article)[0].action == "restored"


@pytest.mark.store
def test_retired_and_out_of_date_articles_are_not_found_or_spoken(seeded):
    with seeded.app_context(), get_db().session() as s:
        article = kb.get_article(s, PORK)
        assert kb_edit.spoken_answer(s, PORK, date(2027, 1, 1)) == article.answer
        kb_edit.update(s, article, {"valid_until": date(2026, 12, 31)}, author="wang")
        assert kb_edit.spoken_answer(s, PORK, date(2027, 1, 1)) is None
        assert kb_edit.spoken_answer(s, PORK, date(2026, 12, 31)) == article.answer
        kb_edit.update(s, article, {"valid_until": date(2020, 1, 1)}, author="wang")
        assert PORK not in [a.key for a, _ in kb.search(s, "储备肉")]  # out of date today
        kb_edit.retire(s, article, author="wang")
        assert kb_edit.spoken_answer(s, PORK, date(2026, 12, 1)) is None
        assert PORK not in [a.key for a, _ in kb.search(s, "储备肉")]
        assert PORK in [a.key for a, _ in kb.search(s, "储备肉", include_retired=True)]
        services = DbServices(s, seeded, call_sid="CA" + "0" * 32, step=1)
        assert services.kb_answer(PORK, "zh-CN") is None
        assert services.kb_answer(HEATING, "zh-CN")


def test_field_errors():
    with pytest.raises(ValidationError) as caught:
        kb_edit.parse_fields(
            {"question": "", "answer": "x" * 3000, "topic": "nope", "valid_from": "2027-02-30",
             "colour": "red"},
            topics={"heating"},
            departments=set(),
        )  # fmt: skip
    assert set(caught.value.errors) == {"question", "answer", "topic", "valid_from", "body"}
    assert "allowed: question" in caught.value.errors["body"]


def test_api_create_edit_retire_with_roles_and_errors(app):
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    client = app.test_client()
    office = token_for(app, "office", "supervisor")
    agent = token_for(app, "agent1", "agent")
    new = {"key": "winter-parking", "question": "冬季小区停车怎么办？", "answer": "请联系物业。",
           "keywords": ["停车", "冬季"], "topic": "property_management"}  # fmt: skip
    assert client.post("/api/kb", json=new).status_code == 401
    assert client.post("/api/kb", json=new, headers=agent).status_code == 403
    bad = client.post("/api/kb", json={**new, "key": "Bad Key", "topic": "x"}, headers=office)
    assert bad.status_code == 400 and set(bad.get_json()["fields"]) == {"key", "topic"}
    made = client.post("/api/kb", json=new, headers=office)
    assert made.status_code == 201, made.get_json()
    assert made.headers["Location"].endswith("/api/kb/winter-parking")
    assert made.get_json()["keywords"] == ["停车", "冬季"]
    assert client.post("/api/kb", json=new, headers=office).status_code == 409  # exists
    edited = client.put(
        "/api/kb/winter-parking", json={"answer": "请拨打物业电话。"}, headers=office
    )
    assert edited.get_json()["version"] == 2 and edited.get_json()["question"] == new["question"]
    assert client.put("/api/kb/none", json={"answer": "x"}, headers=office).status_code == 404
    assert (
        client.get("/api/kb/winter-parking", headers=agent).get_json()["answer"]
        == "请拨打物业电话。"
    )
    refused = client.delete(f"/api/kb/{HEATING}", headers=office)
    assert refused.status_code == 409
    assert refused.get_json()["nodes"] == ["heating"] and "'heating'" in refused.get_json()["error"]
    assert client.delete("/api/kb/winter-parking", headers=agent).status_code == 403
    retired = client.delete("/api/kb/winter-parking", headers=office)
    assert retired.status_code == 200 and retired.get_json()["retired"] is True
    found = client.get("/api/kb?q=冬季停车", headers=agent).get_json()["items"]
    assert "winter-parking" not in [a["key"] for a in found]


def test_editor_pages_roles_csrf_and_flow(app):
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    assert app.test_client().get("/content/kb/").status_code == 302
    agent = logged_in(app, "agent1", "agent")
    assert agent.get("/content/kb/").status_code == 403
    office = logged_in(app, "office", "supervisor")
    page = office.get("/content/kb/?q=暖气不热找谁").get_data(as_text=True)
    assert "heating-not-warm" in page and "score" in page
    assert (
        office.post(f"/content/kb/{PORK}", data={"question": "x", "answer": "y"}).status_code == 400
    )
    token = csrf_token(office, "/content/kb/")
    bad = office.post("/content/kb/new", data={"csrf_token": token, "key": "x y", "question": ""})
    assert bad.status_code == 400
    assert "2-80 characters" in bad.get_data(as_text=True), bad.get_data(as_text=True)
    form = {"csrf_token": token, "question": "储备肉什么时候投放？", "answer": "春节前投放。",
            "keywords": "储备肉", "topic": "commerce", "department": "", "valid_from": "",
            "valid_until": ""}  # fmt: skip
    saved = office.post(f"/content/kb/{PORK}", data=form, follow_redirects=True)
    assert "已保存 saved: version 2" in saved.get_data(as_text=True)
    expired = {**form, "valid_until": "2020-12-31"}
    office.post("/content/kb/heating-fee", data={**expired, "question": "取暖费?"})
    assert "已过期 expired" in office.get("/content/kb/").get_data(as_text=True)
    diff = office.get(f"/content/kb/{PORK}/versions/2").get_data(as_text=True)
    assert "+春节前投放。" in diff and "答复" in diff
    restored = office.post(
        f"/content/kb/{PORK}/versions/1/restore", data={"csrf_token": token}, follow_redirects=True
    )
    assert "restored version 1 as version 3" in restored.get_data(as_text=True)
    refused = office.post(
        f"/content/kb/{HEATING}/retire", data={"csrf_token": token}, follow_redirects=True
    )
    assert "node &#39;heating&#39; of the published flow" in refused.get_data(as_text=True)
    agent_token = csrf_token(agent, "/account")
    assert (
        agent.post(f"/content/kb/{PORK}/retire", data={"csrf_token": agent_token}).status_code
        == 403
    )


@pytest.mark.slow
def test_listen_plays_the_answer_as_the_phone_says_it(app):
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    office = logged_in(app, "office", "supervisor")
    response = office.get(f"/content/kb/{PORK}/listen")
    assert response.status_code == 302 and response.location.startswith("/audio/")
    with office.get(response.location) as audio:
        assert audio.status_code == 200 and audio.mimetype == "audio/wav"
        assert audio.data[:4] == b"RIFF" and len(audio.data) > 20_000
    with app.app_context(), get_db(app).session() as s:
        answer = kb.get_article(s, PORK).answer
    expected = app.extensions["prompt_audio"](answer, "zh-CN")
    assert expected.endswith(response.location)
