"""Whole survey and return calls: dispatcher -> twilio library -> FakeTwilio over real HTTP,
then a TwiML-following phone answering through our signed webhooks (callbacks' answer and
status routes, the flow's survey / return_call entries through ivr's steps), with a
controlled clock, on each database backend in turn."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from speech_support import korean_model_path
from sqlalchemy import select

from callbacks import jobs, service, ticketing
from callbacks import models as m
from callbacks.dispatcher import Dispatcher
from callbacks.policy import Policy
from core.db import get_db
from ivr.flows.session import Session
from ivr.models import CallSession
from simulator.phone import Action, Phone
from simulator.transport import FlaskTransport
from telephony.fake_twilio import FakeTwilio
from telephony.twilio_port import TwilioPort
from tests.conftest import TEST_AUTH_TOKEN
from tickets import service as tickets
from tickets.models import Department, Ticket, Topic

SH = ZoneInfo("Asia/Shanghai")
SID = "AC" + "0" * 32
NUMBER = "+8613812345678"

pytestmark = pytest.mark.store


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def env(make_store_app, fake):
    app = make_store_app(
        TELEPHONY="twilio",
        TWILIO_API_BASE=fake.base_url,
        CALLBACK_CPS="50",
        VOSK_MODEL_PATH=str(korean_model_path()),  # the survey listens for spoken answers
    )
    policy = Policy.from_config(app.config)
    port = TwilioPort.from_config(app.config)
    clock = Clock(datetime(2026, 11, 27, 9, 0, tzinfo=SH))
    db = get_db(app)
    dispatcher = Dispatcher(db, port, policy, app.config["PUBLIC_BASE_URL"], clock=clock)
    app.extensions["callbacks_clock"] = clock
    jobs.RUNTIME.db = db
    with app.app_context():
        yield app, dispatcher, clock, fake
    port.close()


def resolve_ticket(app, caller=NUMBER, reply="已安排维修，供暖已恢复") -> int:
    with get_db(app).session() as s:
        dept = s.scalar(select(Department).where(Department.code == "heat"))
        if dept is None:
            dept = Department(code="heat", name="热力公司")
            s.add_all([dept, Topic(code="heating", name="供暖")])
            s.flush()
        t = tickets.create_ticket(
            s, channel="phone", caller_number=caller, topic="heating", description="暖气不热"
        )
        tickets.dispatch(s, t, dept, actor="agent")
        tickets.resolve(s, t, reply=reply, actor="dept")
        return t.id


def open_attempt(app, ticket_id: int) -> m.CallbackAttempt:
    with get_db(app).session() as s:
        return s.scalar(
            select(m.CallbackAttempt)
            .join(m.CallbackRequest)
            .where(
                m.CallbackRequest.ticket_id == ticket_id,
                m.CallbackAttempt.state.in_(m.OPEN_ATTEMPT_STATES),
            )
        )


def make_due(app, clock, ticket_id: int) -> m.CallbackAttempt:
    """What the attempt's APScheduler job does at its time; the clock moves there."""
    attempt = open_attempt(app, ticket_id)
    jobs.attempt_due(attempt.id)
    clock.at = m.aware(attempt.due_at)
    return attempt


def answer(app, call, answered_by="human", recordings=None, actions=()):
    """The citizen's phone: follows our TwiML for the call FakeTwilio received."""
    transport = FlaskTransport(app.test_client(), app.config["PUBLIC_BASE_URL"])
    phone = Phone.outbound(
        transport,
        TEST_AUTH_TOKEN,
        url=call.url,
        from_=call.from_,
        to=call.to,
        account_sid=SID,
        call_sid=call.sid,
        status_callback=call.status_callback,
        status_events=call.status_callback_events,
        answered_by=answered_by,
        recordings=recordings,
        prompt_text=captions(app),
    )
    return phone, transport


def captions(app):
    """url -> text of the synthesized prompts our webhooks <Play> (fixed and per survey)."""
    prompts = app.extensions.get("speech_prompts")
    flow = app.extensions["ivr.flows"].latest()

    def lookup(url: str) -> str | None:
        with get_db(app).session() as s:
            texts = [
                text
                for r in s.scalars(select(m.CallbackRequest))
                for text, _ in flow.texts_with(ticketing.call_values(r))
            ]
        for text in (*texts, *(t for t, _ in flow.texts())):
            key = prompts.key(text, "zh-CN") if prompts else None
            if key and prompts.url(key) == url:
                return text
        return None

    return lookup


def play(phone, actions):
    need = phone.start()
    for action in actions:
        if need is None:
            break
        need = phone.resume(action)
    phone.hangup()
    return phone


def said(phone) -> str:
    return " ".join(e.get("text", "") for e in phone.events if e["kind"] in ("say", "play"))


def test_dissatisfied_by_keypad_reopens_the_ticket(env):
    app, dispatcher, clock, fake = env
    ticket_id = resolve_ticket(app)
    attempt = make_due(app, clock, ticket_id)
    clock.at -= timedelta(seconds=1)
    assert dispatcher.tick().placed == []  # not yet due
    clock.at += timedelta(seconds=1)
    assert dispatcher.tick().placed == [attempt.id]
    [call] = fake.calls
    assert call.to == NUMBER and call.machine_detection == "Enable" and call.timeout == 30
    assert call.url.endswith(f"/callbacks/voice/{attempt.id}")
    assert set(call.status_callback_events) == {"initiated", "ringing", "answered", "completed"}

    phone, transport = answer(app, call)
    play(phone, [Action("keys", "3"), Action("wait", 4)])
    transport.close()
    text = said(phone)
    assert "您于" in text and "反映的供暖问题， 承办单位答复：已安排维修，供暖已恢复。" in text
    assert "不满意请按3" in text and "请按9" in text

    with get_db(app).session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket.status == "reopened" and ticket.satisfaction == "dissatisfied"
        att = s.get(m.CallbackAttempt, attempt.id)
        assert (att.state, att.outcome, att.status, att.call_sid) == (
            m.FINISHED,
            "answered",
            "completed",
            call.sid,
        )
        assert att.request.state == m.DONE and att.request.result == m.DISSATISFIED
        statuses = [
            e.status for e in s.scalars(select(m.CallbackEvent).order_by(m.CallbackEvent.id))
        ]
        assert statuses == ["queued", "ringing", "in-progress", "completed"]
        # The second resolution gets the survey that counts.
        tickets.dispatch(s, ticket, ticket.department, actor="agent")
        tickets.resolve(s, ticket, reply="已更换阀门", actor="dept")
    attempt2 = make_due(app, clock, ticket_id)
    assert dispatcher.tick().placed == [attempt2.id]
    phone, transport = answer(app, fake.calls[-1])
    play(phone, [Action("keys", "1"), Action("wait", 4)])
    transport.close()
    with get_db(app).session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket.status == "callback_done" and ticket.satisfaction == "satisfied"
        assert service.satisfaction_figures(s) == {m.SATISFIED: 1}


def test_busy_machine_no_answer_retried_then_unreachable(env):
    app, dispatcher, clock, fake = env
    ticket_id = resolve_ticket(app)
    make_due(app, clock, ticket_id)
    first_at = clock.at
    for n, how in enumerate(("busy", "machine", "no-answer"), start=1):
        report = dispatcher.tick()
        assert len(report.placed) == 1, (n, report)
        call = fake.calls[-1]
        if how == "machine":
            phone, transport = answer(app, call, answered_by="machine_start")
            play(phone, [])
            transport.close()
            assert [e["kind"] for e in phone.events].count("say") == 0  # no message left
        else:
            phone, transport = answer(app, call)
            phone.not_answered(how)
            transport.close()
        if n < 3:
            attempt = make_due(app, clock, ticket_id)
            assert attempt.attempt_no == n + 1
            expected = first_at + (timedelta(minutes=30) if n == 1 else timedelta(minutes=150))
            assert abs(clock.at - expected) < timedelta(seconds=1)
    with get_db(app).session() as s:
        attempts = s.scalars(select(m.CallbackAttempt).order_by(m.CallbackAttempt.id)).all()
        assert [a.outcome for a in attempts] == ["busy", "machine", "no-answer"]
        assert attempts[1].answered_by == "machine_start"
        assert attempts[0].request.state == m.GAVE_UP
        ticket = s.get(Ticket, ticket_id)
        assert ticket.status == "callback_done" and ticket.satisfaction is None


def test_silence_asks_twice_then_counts_as_unanswered(env):
    app, dispatcher, clock, fake = env
    ticket_id = resolve_ticket(app)
    make_due(app, clock, ticket_id)
    dispatcher.tick()
    phone, transport = answer(app, fake.calls[-1])
    play(phone, [Action("wait", 2), Action("wait", 3)] * 3)
    transport.close()
    assert said(phone).count("满意请按1") == 2 and "没有收到您的选择" in said(phone)
    retry = open_attempt(app, ticket_id)
    assert retry.attempt_no == 2
    with get_db(app).session() as s:
        first = s.scalar(select(m.CallbackAttempt).where(m.CallbackAttempt.attempt_no == 1))
        assert first.outcome == "unanswered" and first.request.state == m.PENDING


def test_opt_out_by_9_is_respected_by_every_later_call(env):
    app, dispatcher, clock, fake = env
    ticket_a = resolve_ticket(app)
    make_due(app, clock, ticket_a)
    dispatcher.tick()
    phone, transport = answer(app, fake.calls[-1])
    play(phone, [Action("keys", "9")])
    transport.close()
    assert "今后不再拨打回访电话" in said(phone)
    ticket_b = resolve_ticket(app)
    with get_db(app).session() as s:
        assert service.is_do_not_call(s, NUMBER)
        req_b = s.scalar(select(m.CallbackRequest).where(m.CallbackRequest.ticket_id == ticket_b))
        assert req_b.state == m.SKIPPED and req_b.attempts == []
        req_a = s.scalar(select(m.CallbackRequest).where(m.CallbackRequest.ticket_id == ticket_a))
        assert req_a.state == m.OPTED_OUT
    clock.at += timedelta(days=3)
    assert dispatcher.tick().placed == [] and len(fake.calls) == 1


def test_spoken_answer_is_matched_by_the_speech_grammar(env):
    app, dispatcher, clock, fake = env
    from speech import jobs as speech_jobs

    ticket_id = resolve_ticket(app)
    make_due(app, clock, ticket_id)
    dispatcher.tick()
    call = fake.calls[-1]
    phone, transport = answer(app, call, recordings=fake)

    def speech_worker(method, url, data=None, headers=None):
        # Stands in for the speech worker process between two polls of the call.
        if "poll=1" in url:
            with get_db(app).session() as s:
                job = speech_jobs.claim(s, "test-worker", kinds=("grammar",))
                if job is not None:
                    assert "基本满意" in job.words and job.recording_url.startswith(fake.base_url)
                    speech_jobs.complete(
                        s, job.id, "test-worker", {"word": "还可以", "confidence": 0.8}
                    )
        return real_request(method, url, data=data, headers=headers)

    real_request, transport.request = transport.request, speech_worker
    play(phone, [Action("wait", 2), Action("audio", "还可以", audio=_wav()), Action("wait", 4)])
    transport.close()
    with get_db(app).session() as s:
        ticket = s.get(Ticket, ticket_id)
        assert ticket.satisfaction == "basically_satisfied"
        att = s.scalar(select(m.CallbackAttempt))
        assert att.heard == "还可以" and att.outcome == "answered"


def test_spoken_comment_is_queued_for_transcription_onto_the_ticket(env):
    app, dispatcher, clock, fake = env
    from speech.models import SpeechJob

    ticket_id = resolve_ticket(app)
    make_due(app, clock, ticket_id)
    dispatcher.tick()
    phone, transport = answer(app, fake.calls[-1], recordings=fake)
    play(phone, [Action("keys", "2"), Action("audio", "维修很及时", audio=_wav(2.0))])
    transport.close()
    with get_db(app).session() as s:
        job = s.scalar(select(SpeechJob).where(SpeechJob.kind == "transcribe"))
        assert job.ticket_id == ticket_id and job.recording_url.startswith(fake.base_url)
        req = s.scalar(select(m.CallbackRequest))
        assert req.comment_recording_url == job.recording_url


def test_return_call_enqueues_the_citizen(env):
    app, dispatcher, clock, fake = env
    with get_db(app).session() as s:
        req = service.request_return_call(
            s,
            call_sid="CA" + "1" * 32,
            number=NUMBER,
            missed_at=clock.at,
            now=clock.at,
            policy=dispatcher.policy,
        )
        assert (
            service.request_return_call(
                s,
                call_sid="CA" + "1" * 32,
                number=NUMBER,
                missed_at=clock.at,
                now=clock.at,
                policy=dispatcher.policy,
            )
            is None
        )
        jobs_ids = [a.id for a in req.attempts]
    jobs.attempt_due(jobs_ids[0])
    assert dispatcher.tick().placed == jobs_ids
    phone, transport = answer(app, fake.calls[-1])
    need = phone.start()
    transport.close()
    assert need.kind == "queue" and "未能接通" in said(phone)
    with get_db(app).session() as s:
        # A second missed call the same day is not called back again.
        again = service.request_return_call(
            s,
            call_sid="CA" + "2" * 32,
            number=NUMBER,
            missed_at=clock.at,
            now=clock.at,
            policy=dispatcher.policy,
        )
        second_id = again.attempts[0].id
    jobs.attempt_due(second_id)
    report = dispatcher.tick()
    assert report.placed == [] and report.skipped[second_id] in (
        "already called back today",
        "number already in a call",
    )


def test_forged_webhook_is_refused(env):
    app, *_ = env
    resp = app.test_client().post("/callbacks/status/1", data={"CallStatus": "completed"})
    assert resp.status_code == 403


def _wav(seconds: float = 1.0) -> bytes:
    from simulator.port import spoken_wav

    return spoken_wav(seconds)


def test_survey_of_a_ticket_reopened_meanwhile_is_not_placed(env):
    app, dispatcher, clock, fake = env
    ticket_id = resolve_ticket(app)
    attempt = make_due(app, clock, ticket_id)
    with get_db(app).session() as s:
        tickets.reopen(s, s.get(Ticket, ticket_id), actor="agent", reason="citizen called again")
    report = dispatcher.tick()
    assert report.skipped == {attempt.id: "ticket no longer resolved"} and fake.calls == []


def test_hanging_up_without_answering_ends_the_survey_as_unreachable(env):
    app, dispatcher, clock, fake = env
    ticket_id = resolve_ticket(app)
    make_due(app, clock, ticket_id)
    dispatcher.tick()
    phone, transport = answer(app, fake.calls[-1])
    play(phone, [Action("hangup")])
    transport.close()
    with get_db(app).session() as s:
        att = s.scalar(select(m.CallbackAttempt))
        assert att.outcome == "hung_up" and att.request.state == m.GAVE_UP
        assert s.get(Ticket, ticket_id).status == "callback_done"
        # The flow's session ended with the call (the status went to callbacks).
        session = Session.from_json(s.get(CallSession, att.call_sid).data)
        assert session.ended and session.node == "survey_question"


def test_no_call_is_placed_while_the_flow_lacks_its_entry(env, make_store_app):
    app, dispatcher, clock, fake = env
    from core import health
    from core.config import ROOT

    ticket_id = resolve_ticket(app)
    attempt = make_due(app, clock, ticket_id)
    without = Dispatcher(
        get_db(app),
        dispatcher.port,
        dispatcher.policy,
        app.config["PUBLIC_BASE_URL"],
        clock=clock,
        has_entry=lambda entry: entry != "survey",
    )
    report = without.tick()
    assert report.placed == [] and fake.calls == []
    assert report.skipped == {attempt.id: "the flow has no 'survey' entry"}
    assert open_attempt(app, ticket_id).state == m.DUE  # dialled once the flow has one
    assert dispatcher.tick().placed == [attempt.id]
    # /healthz says why: a flow with no entries for the outgoing calls.
    classic = make_store_app(FLOWS_PATH=str(ROOT / "examples" / "classic_menu.yaml"))
    ok, checks = health.run_all(classic)
    assert not ok and checks["callbacks"]["flow_entries_missing"] == ["survey", "return_call"]
    assert "flow_entries_missing" not in health.run_all(app)[1]["callbacks"]
