"""Golden call transcripts of the shipped 12345 flow over the real webhooks and database.

Each step: what the caller does, then the prompts heard and the TwiML verbs returned.
The session lives in the database between steps (stored as JSON), as in production,
on each database backend in turn.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ivr_support import CALLER, NATIONAL_DAY, WORKDAY_MORNING, WORKDAY_NIGHT, Phone, set_clock
from speech_support import korean_model_path
from sqlalchemy import func, select

from core.db import get_db
from ivr.models import Call, CallSession
from ivr.notices import add_notice
from speech.models import SpeechJob
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent
GREETING = "您好，欢迎致电12345政务服务便民热线。查询工单进度或常见问题，请按任意键。"
CONNECTING = "正在为您转接人工服务，请稍候。"
OVERFLOW = "当前来电较多。留言请按1，我们将尽快给您回电；继续等待请按2。"
LEAVE_MESSAGE = "请在提示音后说出您的诉求、所在区县和联系方式，说完请挂机或按井号键。"
SELF_SERVICE = (
    "查询工单办理进度请按1；住房公积金请按2；供暖问题请按3；异地车辆年检请按4；"
    "人工服务请按0；重听请按星号键。"
)
AFTER_SELF_SERVICE = "返回自助服务请按1，转人工服务请按0，结束通话请按9。"
GOODBYE = "感谢您的来电，再见。"

pytestmark = pytest.mark.store


@pytest.fixture
def app(store_app):
    """Every call here runs on SQLite and on PostgreSQL."""
    return store_app


@pytest.fixture
def phone(app, client):
    set_clock(app, WORKDAY_MORNING)
    with get_db(app).session() as s:
        from tickets.seed import seed

        seed(s)
    return Phone(client, app)


def call_record(app, sid=None) -> Call:
    with get_db(app).session() as s:
        return s.scalar(select(Call).where(Call.call_sid == (sid or "CA" + "1" * 32)))


def session_of(app, sid="CA" + "1" * 32) -> dict:
    with get_db(app).session() as s:
        return s.get(CallSession, sid).data


def step(phone, action, said, verbs):
    """One line of a golden transcript."""
    action()
    assert (phone.said(), phone.verbs()) == (said, verbs), phone.raw
    # What is stored is plain JSON: it survives a round trip unchanged.
    data = session_of(phone.app, phone.call_sid)
    assert json.loads(json.dumps(data)) == data


def test_overflow_to_voice_message(app, phone):
    step(phone, phone.dial, [GREETING], ["Gather", "Redirect"])
    gather = phone.find("Gather")
    assert (gather.get("numDigits"), gather.get("timeout")) == ("1", "1")
    step(phone, phone.silence, [CONNECTING], ["Say", "Enqueue"])
    assert phone.find("Enqueue").text == "agents"

    hold = phone.hold(queue_time=5, position=3)
    assert [e.tag for e in hold] == ["Say", "Say", "Pause"]
    assert hold[1].text == "您前面还有2位来电。"
    # Close to the overflow time only the seconds left are waited, so Twilio asks again at 15 s.
    near = phone.hold(queue_time=12)
    assert [(e.tag, e.get("length")) for e in near] == [("Pause", "3")]
    assert [e.tag for e in phone.hold(queue_time=15)] == ["Leave"]  # GB/T 33358-2016: 15 s

    step(phone, lambda: phone.queue_result("leave", 15), [OVERFLOW], ["Gather", "Redirect"])
    step(phone, lambda: phone.press("1"), [LEAVE_MESSAGE], ["Say", "Record", "Redirect"])
    record = phone.find("Record")
    assert (record.get("maxLength"), record.get("timeout")) == ("120", "5")
    phone.leave_recording(duration=25)
    with get_db(app).session() as s:
        ticket = s.scalar(select(Ticket))
        jobs = s.scalars(select(SpeechJob)).all()
    digits = " ".join("零幺二三四五六七八九"[int(d)] for d in ticket.number)
    assert phone.said() == [f"您的工单编号是：{digits}。我们会尽快处理并回复您。", GOODBYE]
    assert phone.verbs() == ["Say", "Say", "Hangup"]
    assert (ticket.channel, ticket.caller_number, ticket.call_sid) == (
        "voice_message",
        CALLER,
        phone.call_sid,
    )
    assert [(j.kind, j.ticket_id) for j in jobs] == [("transcribe", ticket.id)]

    assert phone.hang_up().status_code == 200
    call = call_record(app)
    assert (call.outcome, call.needs_return_call, call.ticket_number) == (
        "voice_message",
        False,
        ticket.number,
    )
    assert call.nodes == [
        "greeting",
        "notices",
        "opening_hours",
        "agent_queue",
        "overflow_offer",
        "leave_message",
        "goodbye",
    ]
    assert call.ended_at is not None and call.caller == CALLER


def test_notice_after_greeting_then_agent(app, phone):
    with get_db(app).session() as s:
        add_notice(s, text="受台风影响，今日全市公交停运。", now=WORKDAY_MORNING)
    phone.dial()
    step(
        phone,
        phone.silence,
        ["请注意以下近期通知：", "受台风影响，今日全市公交停运。", CONNECTING],
        ["Say", "Say", "Say", "Enqueue"],
    )
    step(phone, lambda: phone.queue_result("bridged", 8), [], ["Hangup"])
    phone.hang_up()
    call = call_record(app)
    assert (call.outcome, call.needs_return_call) == ("agent", False)


@pytest.mark.parametrize("moment", [NATIONAL_DAY, WORKDAY_NIGHT], ids=["holiday", "night"])
def test_closed_line_takes_a_voice_message(app, phone, moment):
    set_clock(app, moment)
    phone.dial()
    step(
        phone,
        phone.silence,
        [
            "现在是非工作时间，人工服务时间为工作日早八点至晚八点。请留言，我们将在工作时间给您回电。",
            LEAVE_MESSAGE,
        ],
        ["Say", "Say", "Record", "Redirect"],
    )


def test_abandoned_in_queue_is_marked_for_return_call(app, phone):
    phone.dial()
    phone.silence()
    phone.hang_up()
    call = call_record(app)
    assert (call.outcome, call.needs_return_call) == ("abandoned_queue", True)
    assert session_of(app)["ended"] is True


def test_abandoned_at_overflow_offer(app, phone):
    phone.dial()
    phone.silence()
    phone.queue_result("leave", 15)
    phone.hang_up()
    assert (call_record(app).outcome, call_record(app).needs_return_call) == (
        "abandoned_queue",
        True,
    )


def test_self_service_ticket_progress(app, phone):
    from tickets.service import create_ticket

    with get_db(app).session() as s:
        number = create_ticket(
            s, channel="phone", caller_number=CALLER, description="路灯不亮"
        ).number
    phone.dial()
    step(phone, lambda: phone.press("5"), [SELF_SERVICE], ["Gather", "Redirect"])
    step(
        phone,
        lambda: phone.press("1"),
        ["请输入十四位工单编号，以井号键结束。"],
        ["Gather", "Redirect"],
    )
    assert phone.find("Gather").get("numDigits") == "14"
    phone.press(number)
    status, menu = phone.said()
    assert status.startswith("您的工单号") and "已受理" in status
    assert menu == AFTER_SELF_SERVICE
    step(phone, lambda: phone.press("9"), [GOODBYE], ["Say", "Hangup"])
    phone.hang_up()
    assert call_record(app).outcome == "self_service"


def test_self_service_unknown_ticket_and_knowledge_answer(app, phone):
    phone.dial()
    phone.press("#")
    phone.press("1")
    step(
        phone,
        lambda: phone.press("20990101000001"),
        ["没有查询到该工单，请核对工单编号。", AFTER_SELF_SERVICE],
        ["Gather", "Redirect"],
    )
    phone.press("1")
    phone.press("4")
    answer, menu = phone.said()
    assert (
        answer.startswith("按照有关规定，除大型载客汽车以外的机动车") and menu == AFTER_SELF_SERVICE
    )


def test_wrong_ticket_number_is_reprompted(app, phone):
    phone.dial()
    phone.press("1")
    phone.press("1")
    step(
        phone,
        lambda: phone.press("123#"),
        ["您的输入有误，请重新选择。", "请输入十四位工单编号，以井号键结束。"],
        ["Gather", "Redirect"],
    )


def test_spoken_keyword_through_grammar_job(app, phone):
    from speech import jobs

    app.config["VOSK_MODEL_PATH"] = str(korean_model_path())  # menus invite speech
    phone.dial()
    phone.press("1")
    step(
        phone,
        phone.silence,
        ["您也可以在提示音后直接说出您要办理的业务。"],
        ["Say", "Record", "Redirect"],
    )
    assert phone.find("Record").get("maxLength") == "4"
    step(phone, lambda: phone.leave_recording(duration=2), [], ["Pause", "Redirect"])
    step(phone, phone.poll, [], ["Pause", "Redirect"])  # the worker has not answered yet
    with get_db(app).session() as s:
        job = jobs.claim(s, "test-worker", kinds=("grammar",))
        assert "暖气" in job.words
        jobs.complete(s, job.id, "test-worker", {"word": "暖气", "confidence": 0.92})
    phone.poll()
    answer, menu = phone.said()
    assert "供暖" in answer and menu == AFTER_SELF_SERVICE
    assert session_of(app)["path"][-2:] == ["heating", "after_self_service"]


def test_grammar_poll_is_bounded(app, phone):
    from ivr.webhooks import MAX_GRAMMAR_POLLS

    app.config["VOSK_MODEL_PATH"] = str(korean_model_path())  # menus invite speech
    phone.dial()
    phone.press("1")
    phone.silence()
    phone.leave_recording(duration=2)
    for _ in range(MAX_GRAMMAR_POLLS):
        assert phone.verbs() == ["Pause", "Redirect"]
        phone.poll()
    # No answer in time: counted as an invalid try, the menu is offered again.
    assert phone.said() == ["您的输入有误，请重新选择。", SELF_SERVICE]


def test_three_invalid_keys_fall_back_to_the_operator_queue(app, phone):
    phone.dial()
    phone.press("1")
    phone.press("7")
    phone.press("8")
    step(phone, lambda: phone.press("9"), [CONNECTING], ["Say", "Enqueue"])


def test_status_of_unknown_call_is_ignored(app, client):
    phone = Phone(client, app, call_sid="CA" + "9" * 32)
    assert phone.hang_up().status_code == 200
    with get_db(app).session() as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 0


def test_hangup_in_self_service_menu_is_abandoned_menu(app, phone):
    phone.dial()
    phone.press("1")
    phone.hang_up()
    call = call_record(app)
    assert (call.outcome, call.needs_return_call) == ("abandoned_menu", False)
    assert call.status == "completed"


def test_known_caller_branch(app, phone, tmp_path):
    flow = tmp_path / "flows.yaml"
    flow.write_text(
        """
flow: {name: known, start: check}
nodes:
  check:
    kind: branch
    cases:
      - when: {known_caller: true}
        next: welcome_back
    default: agents
  welcome_back:
    kind: prompt
    say: 欢迎您再次来电。
    next: agents
  agents:
    kind: transfer
    dial: "sip:agents@pbx.example.gov.cn"
""",
        encoding="utf-8",
    )
    from ivr.registry import FlowRegistry

    app.config["DIAL_ALLOWED"] = "+86,sip:pbx.example.gov.cn"  # the city's own PBX
    app.extensions["ivr.flows"] = FlowRegistry(str(flow))
    first = Phone(phone.client, app, call_sid="CA" + "3" * 32)
    first.dial()
    assert first.said() == [] and first.find("Dial").find("Sip").text == (
        "sip:agents@pbx.example.gov.cn"
    )
    second = Phone(phone.client, app, call_sid="CA" + "4" * 32)
    second.dial()
    assert second.said() == ["欢迎您再次来电。"]
    second._follow(second.action("Dial"), DialCallStatus="completed", DialCallDuration="60")
    assert second.verbs() == ["Hangup"]
    assert call_record(app, second.call_sid).outcome == "agent"
