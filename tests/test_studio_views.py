"""Flow studio pages: who may publish, validation messages, revisions in step with the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from accounts_support import csrf_token, login, make_user

from core.config import ROOT
from core.db import get_db
from studio import revisions
from studio.models import FlowRevision

SHIPPED = ROOT / "flows.yaml"


@pytest.fixture
def flows_file(tmp_path) -> Path:
    path = tmp_path / "flows.yaml"
    shutil.copy(SHIPPED, path)
    return path


@pytest.fixture
def studio_app(make_app, flows_file):
    app = make_app(FLOWS_PATH=str(flows_file))
    make_user(app, "lead", "supervisor")
    make_user(app, "agent1", "agent")
    return app


@pytest.fixture
def sup(studio_app):
    client = studio_app.test_client()
    login(client, "lead")
    return client


def test_only_supervisors_see_the_studio(studio_app):
    anon = studio_app.test_client()
    assert anon.get("/studio/").status_code == 302
    agent = studio_app.test_client()
    login(agent, "agent1")
    assert agent.get("/studio/").status_code == 403
    token = csrf_token(agent, "/studio/")  # the 403 page carries the layout
    resp = agent.post("/studio/publish", data={"text": "x", "message": "m", "csrf_token": token})
    assert resp.status_code == 403


def test_page_imports_the_file_as_first_revision(sup, studio_app, flows_file):
    page = sup.get("/studio/").get_data(as_text=True)
    assert "greeting" in page and '<svg xmlns="http://www.w3.org/2000/svg"' in page
    with studio_app.app_context(), get_db().session() as s:
        rev = revisions.latest(s)
        assert rev.action == "import" and rev.text == flows_file.read_text()


def test_validate_reports_file_line_path_message(sup, flows_file):
    sup.get("/studio/")
    token = csrf_token(sup, "/studio/")
    broken = flows_file.read_text().replace("next: notices", "next: noticez", 1)
    resp = sup.post("/studio/validate", json={"text": broken}, headers={"X-CSRFToken": token})
    data = resp.get_json()
    assert data["ok"] is False and data["svg"] is None
    line = broken.splitlines().index("    next: noticez") + 1
    issue = data["issues"][0]
    assert issue["line"] == line
    assert issue["text"].startswith(f"flows.yaml:{line} nodes.greeting.next:")
    assert "did you mean 'notices'" in issue["text"]
    ok = sup.post(
        "/studio/validate", json={"text": flows_file.read_text()}, headers={"X-CSRFToken": token}
    ).get_json()
    assert ok["ok"] and ok["svg"].startswith("<svg")


def test_validate_needs_csrf(sup, flows_file):
    resp = sup.post("/studio/validate", json={"text": flows_file.read_text()})
    assert resp.status_code == 400


def test_publish_writes_file_stores_revision_and_diff(sup, studio_app, flows_file):
    sup.get("/studio/")
    token = csrf_token(sup, "/studio/")
    old = flows_file.read_text()
    new = old.replace("感谢您的来电，再见。", "感谢来电，祝您生活愉快。")
    resp = sup.post(
        "/studio/publish",
        data={
            "text": new,
            "message": "friendlier goodbye",
            "base_revision_id": "1",
            "csrf_token": token,
        },
    )
    assert resp.status_code == 302
    assert flows_file.read_text() == new  # comments and key order: the supervisor's bytes
    with studio_app.app_context(), get_db().session() as s:
        rev = revisions.latest(s)
        assert (rev.id, rev.action, rev.author, rev.message) == (
            2,
            "publish",
            "lead",
            "friendlier goodbye",
        )
        assert "-    say: 感谢您的来电，再见。" in rev.diff
        assert "+    say: 感谢来电，祝您生活愉快。" in rev.diff
        assert rev.version == revisions.text_version(new)
    page = sup.get("/revisions/2".join(["/studio", ""])).get_data(as_text=True)
    assert "friendlier goodbye" in page


def test_invalid_publish_is_refused_and_kept_as_draft(sup, studio_app, flows_file):
    sup.get("/studio/")
    token = csrf_token(sup, "/studio/")
    old = flows_file.read_text()
    bad = old.replace("kind: record", "kind: recrod", 1)
    sup.post(
        "/studio/publish",
        data={"text": bad, "message": "oops", "base_revision_id": "1", "csrf_token": token},
    )
    assert flows_file.read_text() == old
    page = sup.get("/studio/").get_data(as_text=True)
    assert "recrod" in page and "草稿 draft" in page
    with studio_app.app_context(), get_db().session() as s:
        assert s.query(FlowRevision).count() == 1


def test_publish_conflict_and_restore(sup, studio_app, flows_file):
    sup.get("/studio/")
    token = csrf_token(sup, "/studio/")
    original = flows_file.read_text()
    first = original.replace("请稍候。", "请稍等。")
    sup.post(
        "/studio/publish",
        data={"text": first, "message": "a", "base_revision_id": "1", "csrf_token": token},
    )
    stale = original.replace("再见。", "再会。")
    sup.post(
        "/studio/publish",
        data={"text": stale, "message": "b", "base_revision_id": "1", "csrf_token": token},
    )
    assert flows_file.read_text() == first  # the stale draft did not overwrite revision 2
    resp = sup.post("/studio/revisions/1/restore", data={"csrf_token": token})
    assert resp.status_code == 302
    assert flows_file.read_text() == original
    with studio_app.app_context(), get_db().session() as s:
        rev = revisions.latest(s)
        assert (rev.action, rev.restored_from, rev.author) == ("restore", 1, "lead")
        assert [r.action for r in revisions.history(s)] == ["restore", "publish", "import"]


def test_file_edited_outside_the_studio_is_imported(sup, studio_app, flows_file):
    sup.get("/studio/")
    flows_file.write_text(flows_file.read_text() + "\n# tuned by hand\n")
    sup.get("/studio/")
    with studio_app.app_context(), get_db().session() as s:
        rev = revisions.latest(s)
        assert rev.action == "import" and rev.author == "disk"
        assert "+# tuned by hand" in rev.diff


def test_publish_applies_to_new_calls_only(sup, studio_app, flows_file):
    from ivr.models import Call
    from simulator.phone import Action, Phone
    from simulator.prompts import PromptIndex
    from simulator.transport import FlaskTransport

    cfg = studio_app.config

    def ring():
        transport = FlaskTransport(studio_app.test_client(), cfg["PUBLIC_BASE_URL"])
        phone = Phone.inbound(
            transport,
            cfg["TWILIO_AUTH_TOKEN"],
            voice_url=cfg["PUBLIC_BASE_URL"] + "/ivr/voice",
            from_="+8613800001111",
            to="12345",
            account_sid=cfg["TWILIO_ACCOUNT_SID"],
            prompt_text=PromptIndex.for_app(studio_app),
        )
        phone.start()
        return phone

    def last_heard(phone):
        e = [e for e in phone.events if e["kind"] in ("say", "play")][-1]
        return e.get("text") or e["url"]

    old_menu = "查询工单办理进度请按1；"
    new_menu = "查询工单请按1；"
    sup.get("/studio/")
    token = csrf_token(sup, "/studio/")
    original = flows_file.read_text()
    in_progress = ring()
    text = original.replace(old_menu, new_menu)
    sup.post(
        "/studio/publish",
        data={
            "text": text,
            "message": "shorter menu",
            "base_revision_id": "1",
            "csrf_token": token,
        },
    )
    studio_app.extensions["ivr.flows"].reload()  # what the next webhook does within 1 s
    fresh = ring()
    in_progress.resume(Action("keys", "5"))
    fresh.resume(Action("keys", "5"))
    with studio_app.app_context(), get_db().session() as s:
        versions = {c.call_sid: c.flow_version for c in s.query(Call)}
    assert versions[in_progress.state["call_sid"]] == revisions.text_version(original)
    assert versions[fresh.state["call_sid"]] == revisions.text_version(text)
    assert last_heard(fresh).startswith(new_menu)
    # The call that began before the publish still hears its own version's menu.
    assert not last_heard(in_progress).startswith(new_menu)
    old_prompt = [e for e in in_progress.events if e["kind"] in ("say", "play")][-1]
    assert old_prompt.get("text", "").startswith(old_menu) or old_prompt["kind"] == "play"
