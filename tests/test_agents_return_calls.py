"""Return calls (漏接回拨) reach a real agent the same way: the callback dispatcher calls the
citizen back, the return-call flow puts them in the queue, and the agent distribution offers
them to the longest-idle agent (local Twilio fake over real HTTP for both outgoing calls)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from agents_support import AgentLeg, add_agent, distributor, stays

from agents import models as m
from callbacks import jobs, service
from callbacks.dispatcher import Dispatcher
from callbacks.policy import Policy
from core.db import get_db
from simulator.phone import Phone
from simulator.transport import FlaskTransport
from telephony.fake_twilio import FakeTwilio
from telephony.twilio_port import TwilioPort
from tests.conftest import TEST_AUTH_TOKEN

SID = "AC" + "0" * 32
NUMBER = "+8613812345678"
AGENT_PHONE = "+8613900000001"


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.mark.store
def test_return_call_is_answered_by_an_agent(make_store_app, fake):
    app = make_store_app(TELEPHONY="twilio", TWILIO_API_BASE=fake.base_url, CALLBACK_CPS="50")
    at = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    policy = Policy.from_config(app.config)
    port = TwilioPort.from_config(app.config)
    callbacks = Dispatcher(
        get_db(app), port, policy, app.config["PUBLIC_BASE_URL"], clock=lambda: at
    )
    app.extensions["callbacks_clock"] = lambda: at
    jobs.RUNTIME.db = get_db(app)
    add_agent(app, "wang", AGENT_PHONE)
    with app.app_context():
        with get_db(app).session() as s:
            req = service.request_return_call(
                s, call_sid="CA" + "1" * 32, number=NUMBER, missed_at=at, now=at, policy=policy
            )
            attempt_id = req.attempts[0].id
        jobs.attempt_due(attempt_id)
        assert callbacks.tick().placed == [attempt_id]
        [citizen_call] = fake.calls
        transport = FlaskTransport(app.test_client(), app.config["PUBLIC_BASE_URL"])
        citizen = Phone.outbound(
            transport,
            TEST_AUTH_TOKEN,
            url=citizen_call.url,
            from_=citizen_call.from_,
            to=citizen_call.to,
            account_sid=SID,
            call_sid=citizen_call.sid,
            status_callback=citizen_call.status_callback,
            status_events=citizen_call.status_callback_events,
            answered_by="human",
        )
        assert citizen.start().kind == "queue"  # the return-call flow queued the citizen
        [stay] = stays(app)
        assert (stay.call_sid, stay.queue, stay.state) == (citizen_call.sid, "agents", m.WAITING)

        report = distributor(app, fake).tick()
        assert [(c.call_sid, c.agent) for c in report.offered] == [(citizen_call.sid, "wang")]
        agent_call = fake.calls[-1]
        assert agent_call.to == AGENT_PHONE
        leg = AgentLeg(app.test_client(), app, agent_call)
        leg.dequeue(leg.answer(), citizen_call.sid)
        [stay] = stays(app)
        assert (stay.state, stay.agent) == (m.ANSWERED, "wang")
        transport.close()
    port.close()
