"""Golden transcripts of the shipped outgoing-call entries (survey, return call).

The engine alone, the session round-tripped through JSON between turns as in the
database; results, opt-out and comments are what the engine hands its services.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr.flows import engine, load_flow
from ivr.flows import events as ev
from ivr.flows.session import Session
from tests.test_ivr_engine import FixedServices

ROOT = Path(__file__).resolve().parent.parent
CITIZEN = "+8613812345678"
VALUES = {"reported_on": "11月3日", "topic": "供暖", "reply": "已安排维修，供暖已恢复"}
QUESTION = (
    "请您对办理结果进行评价。满意请按1或说满意，基本满意请按2，不满意请按3。"
    "今后不希望接到回访电话请按9。"
)


class OutboundServices(FixedServices):
    """FixedServices plus what an outgoing call reports."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.reported: list[tuple] = []

    def record_result(self, session, result):
        self.reported.append(("result", result, session.vars.get("heard")))

    def opt_out(self, session):
        self.reported.append(("opt_out", session.call.caller))

    def keep_comment(self, session, *, recording_url, recording_sid, duration):
        self.reported.append(("comment", recording_url, recording_sid))


@pytest.fixture(scope="module")
def flow():
    return load_flow(ROOT / "flows.yaml")


def call(flow, services, entry, inputs, values=VALUES):
    """Run an outgoing call; returns the transcript: (heard texts, wait or end) per turn."""
    session = engine.new_session(
        flow, call_sid="CA9", caller=CITIZEN, called="12345", variables=values
    )
    turns = [engine.start(flow, session, services, entry=entry)]
    for value in inputs:
        session = Session.from_json(json.loads(json.dumps(turns[-1].session.to_json())))
        turns.append(engine.resume(flow, session, value, services))
    return turns


def transcript(turns) -> list[tuple[list[str], str]]:
    out = []
    for t in turns:
        said = [e.text for e in t.events if isinstance(e, ev.Say)]
        last = t.events[-1] if t.events else None
        out.append((said, type(last).__name__ if last is not None else "-"))
    return out


def test_survey_dissatisfied_by_key_then_comment(flow):
    services = OutboundServices()
    turns = call(
        flow,
        services,
        "survey",
        [ev.Digits("3"), ev.RecordingDone("https://rec/RE1", "RE1", 6)],
    )
    assert transcript(turns) == [
        (
            [
                "您好，这里是12345政务服务热线。您于11月3日反映的供暖问题，",
                "承办单位答复：已安排维修，供暖已恢复。",
                QUESTION,
            ],
            "GatherDigits",
        ),
        (["感谢您的评价。如您还有其他意见，请在提示音后留言，说完请按井号键。"], "RecordAudio"),
        (["感谢您对12345热线的支持，再见。"], "Hangup"),
    ]
    assert turns[0].wait == ev.GatherDigits(timeout=2, num_digits=1)
    assert services.reported == [
        ("result", "dissatisfied", None),
        ("comment", "https://rec/RE1", "RE1"),
    ]
    assert turns[-1].session.vars["result"] == "dissatisfied"


def test_survey_spoken_answer_after_a_silent_pause(flow):
    services = OutboundServices()
    turns = call(flow, services, "survey", [ev.Timeout(), ev.Speech("不满意", 0.8), ev.Timeout()])
    listen = turns[1].wait
    # No "you can also say" hint: the question already says so.
    assert turns[1].events == [listen] and listen.purpose == "listen"
    assert {"满意", "基本满意", "不满意", "还可以"} <= set(listen.words)
    assert services.reported == [("result", "dissatisfied", "不满意")]  # not 满意
    assert transcript(turns)[-1] == (["感谢您对12345热线的支持，再见。"], "Hangup")


def test_survey_silence_asks_twice_then_unanswered(flow):
    services = OutboundServices()
    turns = call(flow, services, "survey", [ev.Timeout()] * 4)
    said = [text for texts, _ in transcript(turns) for text in texts]
    assert said.count(QUESTION) == 2
    assert "抱歉，没有听清您的选择。" in said
    assert said[-1] == "没有收到您的选择，我们稍后再联系您。再见。"
    assert turns[-1].ended and services.reported == [("result", "unanswered", None)]


def test_survey_opt_out_by_9(flow):
    services = OutboundServices()
    turns = call(flow, services, "survey", [ev.Digits("9")])
    assert transcript(turns)[-1] == (
        ["已为您登记，今后不再拨打回访电话。感谢您的支持，再见。"],
        "Hangup",
    )
    assert services.reported == [("opt_out", CITIZEN)]


@pytest.mark.parametrize(
    ("values", "intro"),
    [
        ({"reported_on": "11月3日"}, "您好，这里是12345政务服务热线。您于11月3日反映的问题，"),
        ({}, "您好，这里是12345政务服务热线。您反映的问题，"),
    ],
)
def test_survey_says_only_what_the_ticket_has(flow, values, intro):
    turns = call(flow, OutboundServices(), "survey", [], values=values)
    assert transcript(turns)[0][0] == [intro, "承办单位已经办结。", QUESTION]


def test_return_call_reaches_the_agent_queue(flow):
    services = OutboundServices()
    turns = call(
        flow, services, "return_call", [ev.QueueResult(ev.QueueOutcome.ANSWERED, 12)], values={}
    )
    assert transcript(turns)[0] == (
        [
            "您好，这里是12345政务服务热线。您刚才来电时坐席繁忙，未能接通，"
            "现在为您转接人工服务，请稍候。"
        ],
        "Enqueue",
    )
    assert turns[0].wait.queue == "agents"
    assert services.reported == [("result", "reached", None)]
    assert turns[-1].ended and turns[-1].session.outcome == "agent"


def test_survey_without_speech_recognition_takes_keys_only(flow):
    services = OutboundServices()
    services.can_listen = lambda: False
    turns = call(flow, services, "survey", [ev.Timeout(), ev.Timeout()])
    assert [type(t.wait).__name__ for t in turns[:2]] == ["GatherDigits", "GatherDigits"]
    assert transcript(turns)[1][0] == ["抱歉，没有听清您的选择。", QUESTION]
    assert turns[-1].ended and services.reported == [("result", "unanswered", None)]


def test_flows_check_names_the_outgoing_call_entries(make_app):
    result = make_app().test_cli_runner().invoke(args=["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "outgoing calls: survey → survey, return_call → return_call" in result.output
