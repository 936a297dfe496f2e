"""The web phone: calls on the sandbox app, driven one caller action per request."""

from __future__ import annotations

import io
import shutil
import wave
from datetime import UTC, datetime

import pytest
from accounts_support import csrf_token, login, make_user

from core.config import ROOT
from ivr.flows import load_flow
from simulator.voice import speak
from studio import sandbox
from studio.webphone import path_through

WORKDAY_MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def studio(make_app, tmp_path):
    flows = tmp_path / "flows.yaml"
    shutil.copy(ROOT / "flows.yaml", flows)
    app = make_app(FLOWS_PATH=str(flows))
    make_user(app, "lead", "supervisor")
    client = app.test_client()
    login(client, "lead")
    client.get("/studio/")
    yield app, client, csrf_token(client, "/studio/"), flows
    sandbox.dispose_all()


def post(client, token, url, **body):
    resp = client.post(url, json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def says(view):
    """What the caller heard: <Say> text, or the caption of a synthesized <Play>."""
    return [e.get("text") or e["url"] for e in view["events"] if e["kind"] in ("say", "play")]


def test_published_call_self_service_path(studio):
    app, client, token, _ = studio
    view = post(client, token, "/studio/phone", mode="published")
    assert says(view)[0].startswith("您好，欢迎致电12345")
    assert view["need"]["kind"] == "gather" and view["path"] == ["greeting"]
    view = post(client, token, f"/studio/phone/{view['id']}", kind="keys", value="5")
    assert says(view)[-1].startswith("查询工单办理进度请按1")
    assert view["path"][-1] == "self_service"
    view = post(client, token, f"/studio/phone/{view['id']}", kind="keys", value="9")
    view = post(client, token, f"/studio/phone/{view['id']}", kind="hangup")
    assert view["ended"]


def test_audio_of_a_prompt_is_served(studio):
    app, client, token, _ = studio
    view = post(client, token, "/studio/phone", mode="published")
    first = next(e for e in view["events"] if e["kind"] in ("say", "play"))
    resp = client.get(first["audio"])
    assert resp.status_code == 200 and resp.data[:4] == b"RIFF"
    with wave.open(io.BytesIO(resp.data)) as w:
        assert w.getnframes() / w.getframerate() > 2  # a whole sentence of speech


def test_draft_is_tried_without_touching_the_file(studio):
    app, client, token, flows = studio
    original = flows.read_text()
    draft = original.replace("您好，欢迎致电12345政务服务便民热线。", "您好，这里是草稿流程。")
    view = post(client, token, "/studio/phone", mode="draft", text=draft)
    assert says(view)[0].startswith("您好，这里是草稿流程。")
    assert flows.read_text() == original
    published = post(client, token, "/studio/phone", mode="published")
    assert says(published)[0].startswith("您好，欢迎致电12345")


def test_voice_message_with_uploaded_audio(studio):
    app, client, token, _ = studio
    view = post(client, token, "/studio/phone", mode="published")
    call = view["id"]
    # No key during the greeting; the web phone's sandbox runs on the real clock, so the
    # flow goes either to the queue (in hours) or straight to the voice message.
    view = post(client, token, f"/studio/phone/{call}", kind="wait")
    for _ in range(10):
        if view["ended"] or view["need"]["kind"] == "record" and "leave_message" in view["path"]:
            break
        kind = view["need"]["kind"]
        if kind == "queue":
            view = post(client, token, f"/studio/phone/{call}", kind="wait")
        elif kind == "gather":
            view = post(client, token, f"/studio/phone/{call}", kind="keys", value="1")
        else:
            view = post(client, token, f"/studio/phone/{call}", kind="wait")
    assert view["need"]["kind"] == "record"
    resp = client.post(
        f"/studio/phone/{call}",
        data={"audio": (io.BytesIO(speak("路灯坏了")), "speech.wav")},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.data
    view = resp.get_json()
    assert any(e["kind"] == "recorded" for e in view["events"])
    assert says(view)[-1] == "感谢您的来电，再见。"


def test_path_from_prompts_heard():
    flow = load_flow(ROOT / "flows.yaml")
    events = [
        {"kind": "say", "text": flow.nodes["greeting"].prompt.say["zh-CN"]},
        {"kind": "keys", "digits": "5"},
        {"kind": "say", "text": flow.nodes["self_service"].prompt.say["zh-CN"]},
    ]
    assert path_through(flow, events) == ["greeting", "self_service"]


def test_other_users_cannot_drive_my_call(studio):
    app, client, token, _ = studio
    view = post(client, token, "/studio/phone", mode="published")
    make_user(app, "lead2", "supervisor")
    other = app.test_client()
    login(other, "lead2")
    t2 = csrf_token(other, "/studio/")
    resp = other.post(
        f"/studio/phone/{view['id']}",
        json={"kind": "keys", "value": "1"},
        headers={"X-CSRFToken": t2},
    )
    assert resp.status_code == 404


def test_survey_entry_rings_the_web_phone_with_typed_values(studio):
    app, client, token, _ = studio
    values = {"reported_on": "11月3日", "topic": "噪音", "reply": "已约谈施工单位"}
    view = post(client, token, "/studio/phone", mode="published", entry="survey", values=values)
    heard = says(view)
    assert heard[:2] == [
        "您好，这里是12345政务服务热线。您于11月3日反映的噪音问题，",
        "承办单位答复：已约谈施工单位。",
    ]
    assert view["need"]["kind"] == "gather"
    assert view["path"] == ["survey", "survey_topic", "survey_reply", "survey_reply_given"] + [
        "survey_question"
    ]
    view = post(client, token, f"/studio/phone/{view['id']}", kind="keys", value="2")
    assert says(view)[-1].startswith("感谢您的评价。") and view["need"]["kind"] == "record"
    view = post(client, token, f"/studio/phone/{view['id']}", kind="wait")
    assert says(view)[-1] == "感谢您对12345热线的支持，再见。" and view["ended"]
    assert view["path"][-3:] == ["survey_basically_satisfied", "survey_comment", "survey_goodbye"]


def test_return_call_entry_and_unknown_entries(studio):
    app, client, token, _ = studio
    view = post(client, token, "/studio/phone", mode="published", entry="return_call")
    assert "未能接通" in says(view)[0] and view["need"]["kind"] == "queue"
    assert view["path"] == ["return_call", "return_call_queue"]
    for body in ({"entry": "surveys"}, {"entry": "survey", "values": {"caller": "x"}}):
        resp = client.post(
            "/studio/phone", json={"mode": "published", **body}, headers={"X-CSRFToken": token}
        )
        assert resp.status_code == 400
