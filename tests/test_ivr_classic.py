"""Golden call transcripts of examples/classic_menu.yaml over the real webhooks, on each
database backend in turn."""

from __future__ import annotations

from pathlib import Path

import pytest
from ivr_support import WORKDAY_MORNING, Phone, set_clock
from speech_support import korean_model_path
from sqlalchemy import select

from core.db import get_db
from ivr.models import Call
from tickets.models import Ticket

CLASSIC = str(Path(__file__).resolve().parent.parent / "examples" / "classic_menu.yaml")
DEMAND = "咨询请按1，投诉请按2，建议请按3，人工服务请按0。For English, press 8."
TOPIC = "供暖请按1，住房公积金请按2，异地车辆年检请按3，其他问题请按9。您也可以直接说出问题类别。"
MORE = "返回上级菜单请按1，转人工服务请按0，结束通话请按9。"

pytestmark = pytest.mark.store


@pytest.fixture
def phone(make_store_app):
    # A usable speech model: the topic menu invites the caller to speak after a silence.
    app = make_store_app(FLOWS_PATH=CLASSIC, VOSK_MODEL_PATH=str(korean_model_path()))
    set_clock(app, WORKDAY_MORNING)
    from tickets.seed import seed

    with get_db(app).session() as s:
        seed(s)
    return Phone(app.test_client(), app)


# (caller action, prompts heard, TwiML verbs)
CONSULTATION = [
    ("dial", ["您好，欢迎致电12345政务服务便民热线。", DEMAND], ["Gather", "Redirect"]),
    ("press 1", [TOPIC], ["Gather", "Redirect"]),
    ("press 2", ["*housing", MORE], ["Gather", "Redirect"]),
    ("press 1", [TOPIC], ["Gather", "Redirect"]),
    ("press *", [TOPIC], ["Gather", "Redirect"]),
    ("press 7", ["您的输入有误，请重新选择。", TOPIC], ["Gather", "Redirect"]),
    ("silence", ["您也可以在提示音后直接说出您要办理的业务。"], ["Say", "Record", "Redirect"]),
    ("silence", ["我们没有收到您的按键。", TOPIC], ["Gather", "Redirect"]),
    ("press 9", ["正在为您转接人工服务。"], ["Say", "Enqueue"]),
    ("queue bridged", [], ["Hangup"]),
]

ENGLISH_COMPLAINT = [
    ("dial", ["您好，欢迎致电12345政务服务便民热线。", DEMAND], ["Gather", "Redirect"]),
    (
        "press 8",
        ["For a question press 1, a complaint press 2, a suggestion press 3, an operator press 0."],
        ["Gather", "Redirect"],
    ),
    (
        "press 2",
        ["After the tone, please describe your complaint, the place and how to reach you."],
        ["Say", "Record", "Redirect"],
    ),
    ("record", ["*readback", "Thank you for calling. Goodbye."], ["Say", "Say", "Hangup"]),
]


def run(phone, script):
    for action, said, verbs in script:
        if action == "dial":
            phone.dial()
        elif action.startswith("press "):
            phone.press(action.split()[1])
        elif action == "silence":
            phone.silence()
        elif action == "record":
            phone.leave_recording(duration=40)
        elif action == "queue bridged":
            phone.queue_result("bridged", 6)
        heard = phone.said()
        for i, text in enumerate(said):
            if text.startswith("*"):  # content from the KB or the ticket: checked below
                said[i] = heard[i] if i < len(heard) else None
        assert (heard, phone.verbs()) == (said, verbs), (action, phone.raw)


def test_consultation_topic_menu_then_operator(phone):
    run(phone, [(a, list(s), v) for a, s, v in CONSULTATION])
    phone.hang_up()
    with get_db(phone.app).session() as s:
        call = s.scalar(select(Call))
    assert call.outcome == "agent"
    assert call.nodes[:4] == ["welcome", "demand_menu", "topic_menu", "housing_fund"]


def test_kb_answer_is_read(phone):
    phone.dial()
    phone.press("1")
    phone.press("2")
    assert "公积金" in phone.said()[0]


def test_english_complaint_is_a_ticket_read_back_in_english(phone):
    run(phone, [(a, list(s), v) for a, s, v in ENGLISH_COMPLAINT])
    with get_db(phone.app).session() as s:
        ticket = s.scalar(select(Ticket))
    assert phone.said()[0] == (
        f"Your ticket number is {', '.join(ticket.number)}. We will call you back."
    )
    assert phone.find("Say").get("language") == "en-US"


def test_prompt_audio_replaces_say(phone):
    phone.app.extensions["prompt_audio"] = (
        lambda text, lang: "https://hotline.test/audio/w.wav" if lang == "zh-CN" else None
    )
    phone.dial()
    gather = phone.find("Gather")
    assert [e.tag for e in gather] == ["Play", "Play"]
    phone.press("8")
    assert [e.tag for e in phone.find("Gather")] == ["Say"]
