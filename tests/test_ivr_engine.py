"""The engine alone: sessions round-tripped through JSON, tries, keywords, the step cap."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.flows import engine, load_flow, load_text
from ivr.flows import events as ev
from ivr.flows.hold import Hold, hold
from ivr.flows.session import SESSION_VERSION, Listening, Phase, Session, SessionVersionError

ROOT = Path(__file__).resolve().parent.parent


class FixedServices:
    """The engine's port with fixed answers: the engine's own unit tests only."""

    def __init__(self, *, workday=True, hour=10, notices=(), articles=None):
        self.workday, self.hour = workday, hour
        self.notices = list(notices)
        self.articles = articles or {}
        self.messages: list[dict] = []

    def now(self):
        return datetime(2026, 11, 26, self.hour, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    def is_workday(self, day):
        return self.workday

    def known_caller(self, caller):
        return False

    def incident_mode(self):
        return bool(self.notices)

    def active_notices(self, *, district, topic, language):
        return self.notices

    def kb_answer(self, article, language):
        return self.articles.get(article)

    def ticket_status(self, number, language):
        return None

    def can_listen(self):
        return True

    def leave_voice_message(self, session, *, recording_url, recording_sid, duration):
        self.messages.append({"url": recording_url, "sid": recording_sid})
        return "20261126000007"


def play(flow, services, inputs):
    """Run a call; the session goes through JSON between every turn, as in the database."""
    session = engine.new_session(flow, call_sid="CA1", caller="+8613812345678")
    turns = [engine.start(flow, session, services)]
    for value in inputs:
        session = Session.from_json(json.loads(json.dumps(turns[-1].session.to_json())))
        turns.append(engine.resume(flow, session, value, services))
    return turns


def texts(turn):
    return [e.text for e in turn.events if isinstance(e, ev.Say)]


def test_shipped_flow_straight_to_queue_with_notice():
    flow = load_flow(ROOT / "flows.yaml")
    turns = play(
        flow,
        FixedServices(notices=["因台风影响，全市公交停运。"]),
        [ev.Timeout(), ev.QueueResult(ev.QueueOutcome.ANSWERED, 40)],
    )
    assert isinstance(turns[0].wait, ev.GatherDigits)
    assert texts(turns[1]) == [
        "请注意以下近期通知：",
        "因台风影响，全市公交停运。",
        "正在为您转接人工服务，请稍候。",
    ]
    assert turns[1].wait == ev.Enqueue("agents", "agent_queue", 15, True)
    assert turns[2].ended and turns[2].session.outcome == "agent"
    assert turns[2].session.path == ["greeting", "notices", "opening_hours", "agent_queue"]


def test_menu_counts_invalid_and_timeouts_separately():
    flow = load_flow(ROOT / "examples" / "classic_menu.yaml")
    services = FixedServices()
    # Two invalid keys and two silences (each silence goes through the spoken-keyword try):
    # neither counter reaches three, so the caller is still in the menu.
    inputs = [
        ev.Digits("7"),
        ev.Timeout(),
        ev.Timeout(),
        ev.Digits("5"),
        ev.Timeout(),
        ev.Timeout(),
    ]
    turns = play(flow, services, inputs)
    assert turns[-1].session.node == "demand_menu"
    assert turns[-1].session.tries == {"invalid": 2, "timeout": 2}
    # The third invalid key takes the fallback: the operator queue.
    last = play(flow, services, [*inputs, ev.Digits("6")])[-1]
    assert last.session.node == "operator"
    assert isinstance(last.wait, ev.Enqueue)


def test_spoken_keyword_after_keypad_timeout():
    flow = load_flow(ROOT / "examples" / "classic_menu.yaml")
    turns = play(
        flow,
        FixedServices(articles={"heating-season": "供暖期为11月15日至次年3月15日。"}),
        [ev.Digits("1"), ev.Timeout(), ev.Speech("我家暖气不热", 0.8)],
    )
    listen = turns[2].wait
    assert isinstance(listen, ev.RecordAudio) and listen.purpose == "listen"
    assert "暖气" in listen.words
    assert texts(turns[3])[0] == "供暖期为11月15日至次年3月15日。"
    assert turns[3].session.outcome == "self_service"


def test_speech_the_recogniser_rejected_is_an_invalid_try():
    # Below SPEECH_GRAMMAR_MIN_CONFIDENCE the recogniser answers no word, only its confidence.
    flow = load_flow(ROOT / "examples" / "classic_menu.yaml")
    turns = play(flow, FixedServices(), [ev.Digits("1"), ev.Timeout(), ev.Speech("", 0.2)])
    assert turns[-1].session.node == "topic_menu"
    assert turns[-1].session.tries == {"invalid": 1}
    assert texts(turns[-1])[0] == "您的输入有误，请重新选择。"


def test_speech_the_recogniser_accepted_is_taken_whatever_its_confidence():
    # One threshold, the recogniser's: a word it passed on is not judged again by the engine.
    flow = load_flow(ROOT / "examples" / "classic_menu.yaml")
    turns = play(
        flow,
        FixedServices(articles={"heating-season": "供暖期为11月15日至次年3月15日。"}),
        [ev.Digits("1"), ev.Timeout(), ev.Speech("暖气", 0.31)],
    )
    assert turns[-1].session.vars["heard"] == "暖气"
    assert texts(turns[-1])[0] == "供暖期为11月15日至次年3月15日。"


def test_star_repeats_and_zero_reaches_operator():
    flow = load_flow(ROOT / "examples" / "classic_menu.yaml")
    turns = play(flow, FixedServices(), [ev.Digits("*"), ev.Digits("0")])
    assert turns[1].session.node == "demand_menu" and turns[1].session.tries == {}
    assert turns[2].session.node == "operator"


def test_language_switch():
    flow = load_flow(ROOT / "examples" / "classic_menu.yaml")
    turns = play(flow, FixedServices(), [ev.Digits("8")])
    assert turns[1].session.language == "en-US"
    assert turns[1].events[0] == ev.Say(
        "For a question press 1, a complaint press 2, a suggestion press 3, an operator press 0.",
        "en-US",
    )


def test_voice_message_reads_ticket_number_digit_by_digit():
    flow = load_flow(ROOT / "flows.yaml")
    services = FixedServices(workday=False)
    turns = play(flow, services, [ev.Timeout(), ev.RecordingDone("https://rec/1", "RE1", 30)])
    assert texts(turns[1])[0].startswith("现在是非工作时间")
    assert texts(turns[2])[0] == (
        "您的工单编号是：二 零 二 六 幺 幺 二 六 零 零 零 零 零 七。我们会尽快处理并回复您。"
    )
    assert services.messages == [{"url": "https://rec/1", "sid": "RE1"}]
    assert turns[2].ended and turns[2].session.outcome == "voice_message"


def test_caller_hangup_in_queue_needs_return_call():
    flow = load_flow(ROOT / "flows.yaml")
    turns = play(flow, FixedServices(), [ev.Timeout(), ev.CallerHangup()])
    assert turns[-1].session.outcome == "abandoned_queue"
    assert turns[-1].session.needs_return_call is True


LOOP = """
flow:
  name: loop
  start: check
nodes:
  check:
    kind: branch
    cases:
      - when: {workday: true}
        next: again
    default: bye
  again:
    kind: goto
    next: check
  bye:
    kind: hangup
"""


def test_step_cap_apologises_and_transfers():
    flow = load_text(LOOP)
    turn = play(flow, FixedServices(workday=True), [])[0]
    assert len(turn.session.path) == engine.MAX_STEPS_PER_TURN
    assert turn.events[-1] == ev.TransferToOperator("step cap reached")
    assert texts(turn) == ["非常抱歉，系统暂时出现问题，正在为您转接人工服务。"]
    assert turn.session.outcome == "error_transfer"
    assert play(flow, FixedServices(workday=False), [])[0].events == [ev.Hangup()]


def test_hold_rounds_rotate_prompts_then_leave_for_the_overflow():
    flow = load_text(
        """
flow: {name: hold, start: queue, languages: [zh-CN]}
nodes:
  queue:
    kind: transfer
    queue: agents
    hold: [第一段, 第二段]
    overflow_after: 20
    overflow: bye
  bye:
    kind: hangup
"""
    )
    rounds = [hold(flow, "queue", "zh-CN", queue_time=t, position=1) for t in (0, 5, 10)]
    assert [r.prompts[0].text for r in rounds] == ["第一段", "第二段", "第一段"]
    ahead = hold(flow, "queue", "zh-CN", queue_time=0, position=3)
    assert ahead.prompts[1].text == "您前面还有2位来电。"
    assert hold(flow, "queue", "zh-CN", queue_time=17, position=1) == Hold(pause=3)
    assert hold(flow, "queue", "zh-CN", queue_time=20, position=1) == Hold(leave=True)


def test_session_json_round_trip_and_version_check():
    flow = load_flow(ROOT / "flows.yaml")
    turns = play(flow, FixedServices(), [ev.Timeout()])
    session = turns[-1].session
    stored = json.loads(json.dumps(session.to_json()))
    assert stored["v"] == SESSION_VERSION and stored["wait"] == "queue"
    assert Session.from_json(stored) == session
    assert set(stored) == {"v"} | {f.name for f in dataclasses.fields(Session)}  # none forgotten
    with pytest.raises(SessionVersionError, match="version 7"):
        Session.from_json({**stored, "v": 7})


def test_version_1_session_is_upgraded():
    """Calls in progress while the release changes keep going."""
    v1 = {
        "v": 1,
        "flow_version": "abc",
        "call": {"sid": "CA1", "caller": None, "called": None},
        "language": "zh-CN",
        "node": "menu",
        "wait": "RecordAudio",
        "phase": "listen",
        "tries": {"timeout": 1},
        "vars": {},
        "path": ["menu"],
        "outcome": None,
        "needs_return_call": False,
        "overflowed": False,
        "ended": False,
        "turn": 3,
        "listen": {"job": 12, "polls": 2},
    }
    session = Session.from_json(v1)
    assert session.wait is ev.WaitKind.RECORDING and session.phase is Phase.LISTEN
    assert session.listening == Listening(job=12, polls=2)
    assert session.to_json()["v"] == SESSION_VERSION
