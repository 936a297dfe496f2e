"""Whole calls on the shipped flows.yaml, over real HTTP, placed by the simulator phone.

The app runs in a real server (werkzeug, threaded) and the phone reaches it
exactly as Twilio would: signed form posts, following the TwiML it returns. Each
call runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from simulator_support import serving
from sqlalchemy import select

from core.db import get_db
from ivr.models import Call
from simulator.cli import STATUS_PATH, VOICE_PATH
from simulator.phone import Phone
from simulator.prompts import PromptIndex
from simulator.recordings import AppRecordings
from simulator.script import ScriptedCaller, parse_script, run_call
from simulator.transport import HttpTransport

WORKDAY_MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thu 10:00 Shanghai
WORKDAY_NIGHT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)  # Thu 22:00 Shanghai
CALLER = "+8613812345678"

pytestmark = pytest.mark.store


@pytest.fixture
def live(make_store_app):
    """(app, base_url): the app with the shipped flow, served on a real port."""
    app = make_store_app()
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    with serving(app) as base:
        yield app, base


def place(app, base: str, script: str) -> Phone:
    cfg = app.config
    public = cfg["PUBLIC_BASE_URL"]
    with HttpTransport(base, public) as transport:
        phone = Phone.inbound(
            transport,
            cfg["TWILIO_AUTH_TOKEN"],
            voice_url=public + VOICE_PATH,
            from_=CALLER,
            to="12345",
            account_sid=cfg["TWILIO_ACCOUNT_SID"],
            status_callback=public + STATUS_PATH,
            recordings=AppRecordings(
                transport, public, cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]
            ),
            prompt_text=PromptIndex.for_app(app),
        )
        return run_call(phone, ScriptedCaller(parse_script(script)))


def heard(phone: Phone) -> list[str]:
    return [e.get("text") or e.get("url") for e in phone.events if e["kind"] in ("say", "play")]


def call_record(app, phone: Phone) -> Call:
    with app.app_context(), get_db().session() as s:
        return s.scalars(select(Call).where(Call.call_sid == phone.state["call_sid"])).one()


def assert_clean(phone: Phone) -> None:
    kinds = [e["kind"] for e in phone.events]
    assert "application-error" not in kinds and "http-error" not in kinds, phone.events
    assert all(
        e["status"] == 200
        for e in phone.events
        if e["kind"] == "request" and "/ivr/status" not in e["url"]
    ), phone.events
    assert phone.ended


def test_in_hours_caller_waits_and_an_agent_answers(live):
    app, base = live
    phone = place(app, base, "wait:1,wait:5,agent:40")
    assert_clean(phone)
    said = heard(phone)
    assert said[0].startswith("您好，欢迎致电12345政务服务便民热线")
    assert any("正在为您转接人工服务" in t for t in said)
    assert any(e["kind"] == "enqueue" for e in phone.events)
    call = call_record(app, phone)
    assert call.outcome == "agent"
    assert "agent_queue" in [n if isinstance(n, str) else n.get("node") for n in call.nodes]


def test_queue_overflow_then_voice_message(live):
    app, base = live
    phone = place(app, base, "wait:1,wait:20,1,say:我家楼下的路灯坏了三天了,hangup")
    assert_clean(phone)
    said = heard(phone)
    assert any(t.startswith("当前来电较多") for t in said)
    assert any(t.startswith("请在提示音后说出您的诉求") for t in said)
    recorded = [e for e in phone.events if e["kind"] == "recorded"]
    assert recorded and recorded[0]["url"].startswith(app.config["PUBLIC_BASE_URL"])
    assert call_record(app, phone).outcome == "voice_message"


def test_key_during_greeting_opens_self_service(live):
    app, base = live
    phone = place(app, base, "5,3,wait:1,9")
    assert_clean(phone)
    said = heard(phone)
    assert any(t.startswith("查询工单办理进度请按1") for t in said)
    assert any(t.startswith("返回自助服务请按1") for t in said)
    assert said[-1] == "感谢您的来电，再见。"
    assert call_record(app, phone).outcome == "self_service"


def test_after_hours_goes_to_voice_message(live):
    app, base = live
    app.extensions["ivr.clock"] = lambda: WORKDAY_NIGHT
    phone = place(app, base, "wait:1,wait:5,say:噪音扰民,hangup")
    assert_clean(phone)
    assert any(t.startswith("现在是非工作时间") for t in heard(phone))


def test_cli_script_prints_the_transcript(live):
    app, base = live
    result = app.test_cli_runner().invoke(
        args=["ivr", "call", "--url", base, "--script", "5,3,wait:1,9"]
    )
    assert result.exit_code == 0, result.output
    assert "查询工单办理进度请按1" in result.output
    assert "pressed 3" in result.output
    assert "感谢您的来电，再见。" in result.output
    assert "ended: completed" in result.output
    assert CALLER not in result.output


def test_cli_interactive_keys_from_the_keyboard(live):
    app, base = live
    result = app.test_cli_runner().invoke(args=["ivr", "call", "--url", base], input="5\n9\n")
    assert result.exit_code == 0, result.output
    assert "[gather]" in result.output and "pressed 9" in result.output


def test_cli_answers_the_survey_with_typed_values(live):
    app, base = live
    assert app.config["TELEPHONY"] == "simulator"  # nobody real is called
    result = app.test_cli_runner().invoke(
        args=[
            "ivr",
            "call",
            "--url",
            base,
            "--entry",
            "survey",
            "--value",
            "reported_on=11月3日",
            "--value",
            "topic=供暖",
            "--script",
            "3,wait:5",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "您于11月3日反映的供暖问题" in result.output
    assert "承办单位已经办结。" in result.output  # no reply given
    assert "pressed 3" in result.output and "感谢您的评价" in result.output
    assert "感谢您对12345热线的支持，再见。" in result.output
    bad = app.test_cli_runner().invoke(
        args=["ivr", "call", "--url", base, "--entry", "survey", "--value", "caller=x"]
    )
    assert bad.exit_code == 2 and "expected NAME=TEXT" in bad.output
