"""One contract for both outgoing-call ports (Twilio through FakeTwilio, and the simulator),
then the simulated citizen's behaviours played through the real callback webhooks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callbacks import models as m
from callbacks.dispatcher import Dispatcher
from callbacks.policy import Policy
from core.db import get_db, utcnow
from simulator.port import Callee, SimulatorPort
from simulator.transport import FlaskTransport
from telephony.base import OutgoingCall, TelephonyError
from telephony.fake_twilio import FakeTwilio
from telephony.ports import make_port
from telephony.twilio_port import TwilioPort
from tests.conftest import TEST_AUTH_TOKEN

SID = "AC" + "0" * 32
NUMBER = "+8613812345678"
# The last minute of an all-day calling window (Shanghai), a Thursday.
LAST_MINUTE = datetime(2026, 11, 26, 23, 59, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


def simulator_port(app, callee="answer:1", recordings=None) -> SimulatorPort:
    transport = FlaskTransport(app.test_client(), app.config["PUBLIC_BASE_URL"])
    return SimulatorPort(
        transport,
        auth_token=TEST_AUTH_TOKEN,
        account_sid=SID,
        caller_id="+8605460000000",
        callee=callee,
        recordings=recordings,
        run_async=False,
    )


@pytest.fixture(params=["twilio", "simulator"])
def port(request, make_app, fake):
    app = make_app(TELEPHONY=request.param, TWILIO_API_BASE=fake.base_url)
    port = (
        TwilioPort.from_config(app.config)
        if request.param == "twilio"
        else simulator_port(app, callee="no-answer")
    )
    with app.app_context():
        yield port
    port.close()


def test_port_contract_place_and_find(port):
    before = utcnow() - timedelta(seconds=1)
    call = OutgoingCall(
        to=NUMBER,
        url="http://hotline.test/callbacks/voice/999999",
        status_callback="http://hotline.test/callbacks/status/999999",
    )
    placed = port.place_call(call)
    assert placed.sid.startswith("CA") and len(placed.sid) == 34 and placed.to == NUMBER
    assert [c.sid for c in port.calls_to(NUMBER, before)] == [placed.sid]
    assert port.calls_to("+8613800000000", before) == []
    assert port.calls_to(NUMBER, utcnow() + timedelta(minutes=1)) == []


def test_twilio_errors_say_whether_to_retry(make_app, fake):
    app = make_app(TELEPHONY="twilio", TWILIO_API_BASE=fake.base_url)
    port = TwilioPort.from_config(app.config)
    call = OutgoingCall(to=NUMBER, url="http://hotline.test/x", status_callback="http://h/y")
    for status, transient in ((503, True), (429, True), (400, False)):
        fake.fail_next(1, status=status)
        with pytest.raises(TelephonyError) as err:
            port.place_call(call)
        assert err.value.transient is transient and err.value.status == status
    port.close()
    wrong = TwilioPort(SID, "wrong-token", "+8605460000000", fake.base_url)
    with pytest.raises(TelephonyError) as err:
        wrong.place_call(call)
    assert err.value.status == 401 and not err.value.transient
    wrong.close()


def test_make_port_by_setting(make_app, fake):
    app = make_app(TELEPHONY="twilio", TWILIO_API_BASE=fake.base_url)
    port = make_port(app.config)
    assert isinstance(port, TwilioPort)
    port.close()
    sim = make_port(make_app().config)
    assert isinstance(sim, SimulatorPort)
    sim.close()
    with pytest.raises(TelephonyError, match="TELEPHONY=.sip.: expected one of twilio, simulator"):
        make_port({"TELEPHONY": "sip"})
    with pytest.raises(TelephonyError, match="bad simulated callee"):
        Callee.parse("answer-later")


@pytest.mark.parametrize(
    "callee, outcome, result",
    [
        ("answer:1", "answered", m.SATISFIED),
        ("answer:3", "answered", m.DISSATISFIED),
        ("answer:9", "opted_out", None),
        ("silent", "unanswered", None),
        ("machine", "machine", None),
        ("busy", "busy", None),
        ("no-answer", "no-answer", None),
        ("failed", "failed", None),
    ],
)
def test_simulated_citizen_through_the_callback_webhooks(make_app, fake, callee, outcome, result):
    app = make_app(CALLING_DAYS="all", CALLING_WINDOW="00:00-24:00")
    port = simulator_port(app, callee=callee, recordings=fake)
    with app.app_context(), get_db().session() as s:
        req = m.CallbackRequest(
            kind=m.SATISFACTION,
            ticket_id=None,
            resolution_no=1,
            number=NUMBER,
            script={"reported_on": "11月3日", "topic": "供暖", "reply": "已修复"},
        )
        s.add_all(
            [
                req,
                m.CallbackAttempt(
                    request=req,
                    attempt_no=1,
                    number=NUMBER,
                    due_at=LAST_MINUTE.astimezone(UTC),
                    state=m.DUE,
                ),
            ]
        )
    disp = Dispatcher(
        get_db(app),
        port,
        Policy.from_config(app.config),
        app.config["PUBLIC_BASE_URL"],
        clock=lambda: LAST_MINUTE,
    )
    with app.app_context():
        assert len(disp.tick().placed) == 1
    port.close()
    with app.app_context(), get_db().session() as s:
        first = s.scalar(select(m.CallbackAttempt).where(m.CallbackAttempt.attempt_no == 1))
        assert (first.state, first.outcome) == (m.FINISHED, outcome)
        assert first.request.result == result
        assert first.call_sid == port.placed[0].sid
    events = [e["kind"] for e in port.placed[0].extra["events"]]
    assert "application-error" not in events
