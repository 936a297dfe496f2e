"""Faults a city's line meets: the database goes away, speech breaks, Twilio's REST API fails.

Each test injects a real fault (a PostgreSQL database that refuses connections
and loses the ones it had, a hung pyttsx3 engine stopped with SIGSTOP, a cache
directory that cannot be created, a broken flows.yaml, FakeTwilio answering 500
or not at all) and asserts what the caller hears and what the database holds.
Faults under load (SIGKILL of web workers and the scheduler) are in
bench/load_scaled.py; see README "Reliability".
"""

from __future__ import annotations

import shutil
import signal
import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import PG_ADMIN_URL, TEST_API_TOKEN, TEST_AUTH_TOKEN, _pg_available, missing
from sqlalchemy import create_engine, func, select, text

from callbacks import models as cb
from callbacks.dispatcher import TRANSIENT_RETRY, Dispatcher
from callbacks.policy import Policy
from core import migrate
from core.db import get_db, utcnow
from ivr import models as ivr_models
from speech import jobs, tts
from speech.prompts import REQUEST_WAIT
from telephony.fake_twilio import FakeTwilio
from telephony.twilio_port import TwilioPort
from tests.ivr_support import WORKDAY_MORNING, Phone
from tickets.models import Ticket

OPERATOR = "+8605468888888"
SID = "AC" + "0" * 32
TWILIO_WEBHOOK_TIMEOUT = 15  # seconds Twilio waits for a webhook before its own error
SERVICE = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz with each check's detail


def is_apology_and_transfer(root: ET.Element) -> bool:
    verbs = [el.tag for el in root]
    dial = root.find("Dial")
    return (
        verbs[-1:] == ["Dial"]
        and dial is not None
        and (dial.text or "").strip() == OPERATOR
        and verbs[0] in ("Say", "Play")
    )


def counts(app) -> dict:
    with app.app_context(), get_db(app).session() as s:
        return {
            "tickets": s.scalar(select(func.count()).select_from(Ticket)),
            "calls": s.scalar(select(func.count()).select_from(ivr_models.Call)),
        }


# -- the database goes away ----------------------------------------------------------------


@pytest.fixture
def own_pg():
    """A private PostgreSQL database this test may take offline."""
    if not _pg_available():
        missing(f"PostgreSQL unreachable at {PG_ADMIN_URL}")
    name = f"hotline_fault_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)

    def outage(down: bool) -> None:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(not down).lower()}'))
            if down:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :n AND pid <> pg_backend_pid()"
                    ),
                    {"n": name},
                )

    yield url, outage
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_database_gone_mid_call_apologises_transfers_and_recovers(make_app, own_pg):
    url, outage = own_pg
    app = make_app(DATABASE_URL=url, OPERATOR_NUMBER=OPERATOR)
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    client = app.test_client()
    first = Phone(client, app, call_sid="CA" + "d" * 32)
    first.dial()
    first.press("1")  # barge in: self-service menu
    with app.app_context(), get_db(app).session() as s:
        step_before = s.get(ivr_models.CallSession, first.call_sid).step
    before = counts(app)

    outage(True)
    try:
        root = first.press("1")  # mid-call: the database is gone
        assert is_apology_and_transfer(root), first.raw
        late = Phone(client, app, call_sid="CA" + "e" * 32)
        assert is_apology_and_transfer(late.dial()), late.raw  # a new call during the outage
    finally:
        outage(False)

    # Nothing half-written: the failed turn left the session where it was.
    with app.app_context(), get_db(app).session() as s:
        assert s.get(ivr_models.CallSession, first.call_sid).step == step_before
        assert s.get(ivr_models.CallSession, late.call_sid) is None
    assert counts(app) == before
    # Recovered by itself (the pool reconnects): the next call runs the flow normally.
    again = Phone(client, app, call_sid="CA" + "f" * 32)
    root = again.dial()
    assert root.find("Gather") is not None and not is_apology_and_transfer(root), again.raw
    assert counts(app)["calls"] == before["calls"] + 1


def test_database_gone_while_a_voice_message_is_saved(make_app, own_pg):
    """The recording's webhook fails whole: no ticket without its call, no call without data."""
    url, outage = own_pg
    app = make_app(DATABASE_URL=url, OPERATOR_NUMBER=OPERATOR)
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING.replace(hour=14)  # 22:00 local
    client = app.test_client()
    phone = Phone(client, app, call_sid="CA" + "a" * 32)
    phone.dial()
    root = phone.silence()
    while root.find("Record") is None:
        root = phone.silence()
    outage(True)
    try:
        assert is_apology_and_transfer(phone.leave_recording()), phone.raw
    finally:
        outage(False)
    assert counts(app)["tickets"] == 0
    # Twilio retries nothing here; the caller talks to the operator. A later message works.
    other = Phone(client, app, call_sid="CA" + "b" * 32)
    other.dial()
    root = other.silence()
    while root.find("Record") is None:
        root = other.silence()
    other.leave_recording(sid="RE" + "2" * 32)
    assert counts(app)["tickets"] == 1


# -- speech faults ------------------------------------------------------------------------


def test_audio_cache_that_cannot_be_created_falls_back_to_say(make_app, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    app = make_app(AUDIO_DIR=str(blocker / "audio"))
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    phone = Phone(app.test_client(), app)
    root = phone.dial()
    assert root.find(".//Say") is not None and root.find(".//Play") is None, phone.raw
    # Reported, not failed: every caller still hears the prompts.
    assert app.test_client().get("/healthz").status_code == 200
    health = app.test_client().get("/healthz", headers=SERVICE).get_json()
    speech = health["checks"]["speech"]
    assert speech["ok"] and "prompt audio cache" in speech["warning"], speech
    assert str(blocker / "audio") in speech["warning"] and "<Say>" in speech["warning"]


def join_presynthesis() -> None:
    for thread in threading.enumerate():
        if thread.name == "tts-presynthesize":
            thread.join(timeout=60)


def test_hung_tts_engine_never_holds_a_webhook(make_app, tmp_path):
    """The engine stops answering while two calls need the greeting synthesized. Its own
    timeout is an hour here: the calls are answered (with <Say>) only because each webhook
    gives the engine at most REQUEST_WAIT, well within the 15 s Twilio waits. (Before: a
    webhook waited for the engine's timeout, a restart and a second try: 14 s.)"""
    assert REQUEST_WAIT < TWILIO_WEBHOOK_TIMEOUT
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"))  # nothing cached: every prompt needs it
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    prompts = app.extensions["speech_prompts"]
    synth = tts.Synthesizer(timeout=3600)  # never declared hung by its own timeout
    prompts._synth = synth
    try:
        synth.synthesize("你好", tts.Voice("cmn", 165))
        synth._process.send_signal(signal.SIGSTOP)  # the engine stops answering
        results = {}

        def call(sid):
            phone = Phone(app.test_client(), app, call_sid=sid)
            results[sid] = phone.dial()

        threads = [threading.Thread(target=call, args=("CA" + c * 32,)) for c in "12"]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert len(results) == 2  # both answered
        for root in results.values():
            assert root.find(".//Gather") is not None
            assert root.find(".//Say") is not None and root.find(".//Play") is None
    finally:
        engine = synth._process  # hung still, or a fresh one started after it was killed
        if engine is not None:
            engine.send_signal(signal.SIGCONT)
        join_presynthesis()
        synth.close()


PROMPTS_FLOW = """\
flow:
  name: t
  start: one
nodes:
  one:
    kind: prompt
    say: 第一句提示。
    next: two
  two:
    kind: prompt
    say: 第二句提示。
    next: three
  three:
    kind: prompt
    say: 第三句提示。
    next: bye
  bye:
    kind: hangup
    say: 再见。
"""


def test_the_prompts_of_one_turn_share_one_wait_for_the_engine(make_app, tmp_path, monkeypatch):
    """An engine that never answers and a turn of four new prompts: the first one spends the
    turn's REQUEST_WAIT (its engine is killed), the other three are said with <Say> without
    starting another (before: 5 s each, 20 s for the turn)."""
    never = tmp_path / "never_answers.py"
    never.write_text("import time\ntime.sleep(3600)\n")
    monkeypatch.setattr(tts, "ENGINE_SCRIPT", never)
    flows = tmp_path / "flows.yaml"
    flows.write_text(PROMPTS_FLOW, encoding="utf-8")
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"), FLOWS_PATH=str(flows))
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    prompts = app.extensions["speech_prompts"]
    prompts._started = True  # no background synthesis: only the webhook uses the engine
    synth = prompts._synth = tts.Synthesizer(timeout=3600)
    try:
        phone = Phone(app.test_client(), app)
        root = phone.dial()
        said = [el.text for el in root.iter("Say")]
        assert said == ["第一句提示。", "第二句提示。", "第三句提示。", "再见。"], phone.raw
        assert synth.restarts == 1  # one engine started and killed for the whole turn
    finally:
        synth.close()


def test_a_prompt_another_worker_is_synthesizing_does_not_hold_the_webhook(make_app, tmp_path):
    """Another process holds the greeting's cache lock (its engine hung mid-synthesis): the
    call is answered with <Say> after REQUEST_WAIT, not when that lock is released."""
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"))
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    prompts = app.extensions["speech_prompts"]
    said = Phone(app.test_client(), app, call_sid="CA" + "4" * 32)
    app.extensions["prompt_audio"] = None  # first, only to learn the greeting's text
    greeting = said.dial().find(".//Say")
    app.extensions["prompt_audio"] = prompts.audio_url
    key = prompts.key(greeting.text, greeting.get("language"))
    answered = threading.Event()
    with prompts.cache.locked(key):  # held until the webhook has answered
        results = []
        caller = threading.Thread(
            target=lambda: (results.append(Phone(app.test_client(), app).dial()), answered.set())
        )
        caller.start()
        assert answered.wait(timeout=60), "the webhook waited for the lock"
    caller.join()
    assert results[0].find(".//Say").text == greeting.text
    join_presynthesis()


def test_missing_or_broken_speech_model_keeps_messages_waiting(make_app, tmp_path):
    broken = tmp_path / "broken-model"
    (broken / "am").mkdir(parents=True)
    (broken / "am" / "final.mdl").write_bytes(b"\0not a model")
    # Missing: degraded service, messages wait for a worker with a model (200).
    # Broken: needs a person (503).
    for model_path, state, status in (
        (tmp_path / "missing-model", "missing", 200),
        (broken, "broken", 503),
    ):
        app = make_app(VOSK_MODEL_PATH=str(model_path))
        app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING.replace(hour=14)
        phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
        phone.dial()
        root = phone.silence()
        while root.find("Record") is None:
            root = phone.silence()
        root = phone.leave_recording(sid="RE" + uuid.uuid4().hex)
        assert not is_apology_and_transfer(root), phone.raw  # the message is taken
        result = app.test_cli_runner().invoke(args=["speech", "worker", "--exit-without-model"])
        assert result.exit_code != 0 and "queue" in result.output, result.output
        assert "Traceback" not in result.output
        health = app.test_client().get("/healthz", headers=SERVICE)
        assert health.status_code == status, health.get_json()
        assert health.get_json()["checks"]["speech"]["model"] == state
        with app.app_context(), get_db(app).session() as s:
            ticket = s.scalar(select(Ticket).order_by(Ticket.id.desc()))
            assert ticket.recording_url and ticket.transcript is None
            # Handed back untouched (no attempt counted): once no longer new, it waits.
            later = utcnow() + jobs.PENDING_SHOWN_FOR
            assert jobs.transcript_state(s, ticket.id, now=later) == "queued"


# -- a broken flows.yaml ------------------------------------------------------------------


def test_broken_flows_file_keeps_the_old_flow_serving(make_app, tmp_path):
    flows = tmp_path / "flows.yaml"
    shutil.copy(Path(__file__).parents[1] / "flows.yaml", flows)
    app = make_app(FLOWS_PATH=str(flows))
    app.extensions["ivr.clock"] = lambda: WORKDAY_MORNING
    app.extensions["prompt_audio"] = None
    client = app.test_client()
    mid = Phone(client, app, call_sid="CA" + "3" * 32)
    mid.dial()
    good = flows.read_text()
    for broken in ("nodes: [", good.replace("next: notices", "next: nowhere"), ""):
        flows.write_text(broken)
        root = mid.press("1")  # the call in progress goes on
        assert root.find("Gather") is not None and not is_apology_and_transfer(root), mid.raw
        new = Phone(client, app, call_sid="CA" + uuid.uuid4().hex)
        root = new.dial()
        assert root.find("Gather") is not None, new.raw  # new calls get the old flow
        mid = new
    flows.write_text(good)


# -- Twilio's REST API fails --------------------------------------------------------------

SH = ZoneInfo("Asia/Shanghai")
THURSDAY_10 = datetime(2026, 11, 26, 10, 0, tzinfo=SH)


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def dispatch(make_app):
    made = []

    def build(fake, *, http_timeout=None):
        app = make_app(TELEPHONY="twilio", TWILIO_API_BASE=fake.base_url, CALLBACK_CPS="50")
        port = TwilioPort.from_config(app.config)
        if http_timeout:
            port._http.timeout = http_timeout
        made.append(port)
        clock = Clock(THURSDAY_10)
        disp = Dispatcher(
            get_db(app),
            port,
            Policy.from_config(app.config),
            app.config["PUBLIC_BASE_URL"],
            clock=clock,
        )
        return app, disp, clock

    yield build
    for port in made:
        port.close()


def due_attempts(app, n: int) -> list[int]:
    ids = []
    with app.app_context(), get_db(app).session() as s:
        for i in range(n):
            number = f"+86139{i:08d}"
            req = cb.CallbackRequest(
                kind=cb.SATISFACTION, ticket_id=5000 + i, resolution_no=1, number=number, script={}
            )
            att = cb.CallbackAttempt(
                request=req,
                attempt_no=1,
                number=number,
                due_at=THURSDAY_10.astimezone(UTC),
                state=cb.DUE,
            )
            s.add_all([req, att])
            s.flush()
            ids.append(att.id)
    return ids


def test_twilio_500s_are_retried_within_policy_nothing_lost_nothing_twice(dispatch):
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as fake:
        app, disp, clock = dispatch(fake)
        ids = due_attempts(app, 6)
        fake.fail_next(4, status=500)
        fake.fail_next(1, status=503)
        fake.fail_next(1, status=429)
        placed, ticks = [], 0
        while len(placed) < len(ids) and ticks < 10:
            placed += disp.tick().placed
            clock.at += TRANSIENT_RETRY
            ticks += 1
        assert sorted(placed) == sorted(ids)
        per_number = {}
        for call in fake.calls:
            per_number[call.to] = per_number.get(call.to, 0) + 1
        assert sorted(per_number.values()) == [1] * len(ids)  # nobody called twice
        with app.app_context(), get_db(app).session() as s:
            attempts = s.scalars(select(cb.CallbackAttempt)).all()
            assert all(a.state == cb.PLACED and a.attempt_no == 1 for a in attempts)
            assert s.scalar(select(func.count()).select_from(cb.CallbackAttempt)) == len(ids)
        assert ticks <= 4  # 6 failures, 50 cps: retried one minute later, not hammered


def test_twilio_timeout_does_not_place_the_call_twice(dispatch):
    """The request times out on our side but Twilio took the call: one call, not two.

    Regression test: the dispatcher used to set the attempt due again and dial a second time.
    """
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as fake:
        app, disp, clock = dispatch(fake, http_timeout=0.5)
        [attempt_id] = due_attempts(app, 1)
        twilio_answers = fake.hold_next(1)
        disp.tick()  # gives up waiting for the answer
        twilio_answers.set()  # and then Twilio creates the call
        assert fake.idle() and len(fake.calls) == 1
        for _ in range(3):
            clock.at += TRANSIENT_RETRY
            disp.tick()
            disp.reconcile()
        assert len(fake.calls) == 1, [c.sid for c in fake.calls]
        with app.app_context(), get_db(app).session() as s:
            att = s.get(cb.CallbackAttempt, attempt_id)
            assert att.call_sid == fake.calls[0].sid


def test_twilio_timeouts_retried_nothing_lost(dispatch):
    """Timeouts where Twilio did not take the call: retried until placed."""
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as fake:
        app, disp, clock = dispatch(fake, http_timeout=0.5)
        ids = due_attempts(app, 2)
        twilio_answers = fake.hold_next(2)
        fake.fail_next(2, status=500)  # answered late, and refused: no call created
        placed = []
        for _ in range(6):
            placed += disp.tick().placed
            clock.at += TRANSIENT_RETRY
            if len(placed) == len(ids):
                break
        twilio_answers.set()
        assert fake.idle()  # the late answers are in: no call they could have made is missed
        assert sorted(placed) == sorted(ids)
        assert sorted(c.to for c in fake.calls) == sorted({c.to for c in fake.calls})
        assert len(fake.calls) == len(ids)
        assert timedelta(0) < TRANSIENT_RETRY <= timedelta(minutes=5)
