"""Both legs of an answered call over the real webhooks, the database and the local Twilio
fake: caller enqueued -> agent leg dialled -> <Dial><Queue> -> bridged -> wrap-up -> next
caller; no answer -> next agent; the caller hangs up while the agent's phone rings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from agents_support import (
    AgentLeg,
    add_agent,
    distributor,
    join_queue,
    offers,
    path_of,
    status_of,
    stays,
)
from ivr_support import WORKDAY_MORNING, Phone, set_clock

from agents import models as m
from core.db import get_db, utcnow
from ivr.models import Call
from telephony.fake_twilio import FakeTwilio
from tests.conftest import TEST_AUTH_TOKEN

SID = "AC" + "0" * 32
CALLER_A, CALLER_B = "CA" + "a" * 32, "CA" + "b" * 32
WANG, LI = "+8613900000001", "+8613900000002"


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def line(app, client):
    set_clock(app, WORKDAY_MORNING)
    app.config["AGENT_WRAP_UP_SECONDS"] = "30"
    return app


def caller_in_queue(app, client, sid, number):
    phone = Phone(client, app, call_sid=sid, caller=number)
    phone.dial()
    phone.silence()
    assert phone.verbs() == ["Say", "Enqueue"] and phone.find("Enqueue").text == "agents"
    return phone


def test_golden_both_legs_answered_wrap_up_then_next_caller(line, client, fake):
    app = line
    add_agent(app, "wang", WANG, idle_for=60)
    transcript = []
    caller = caller_in_queue(app, client, CALLER_A, "+8613812345678")
    second = caller_in_queue(app, client, CALLER_B, "+8613812345679")
    transcript.append(("caller A", "enqueued", "agents"))

    clock = [utcnow()]
    d = distributor(app, fake, clock=lambda: clock[0])
    report = d.tick()
    assert [c.agent for c in report.offered] == ["wang"]  # one agent, one offer
    leg_call = fake.calls[0]
    assert (leg_call.to, leg_call.timeout, leg_call.machine_detection) == (WANG, 20, None)
    assert path_of(leg_call.url) == f"/agents/leg/answer?offer={offers(app)[0].id}"
    transcript.append(("agent leg", "dialled", leg_call.to))
    assert status_of(app, "wang") == (m.OFFERED, None)

    leg = AgentLeg(client, app, leg_call)
    twiml = leg.answer()
    dial = twiml.find("Dial")
    assert [el.tag for el in twiml] == ["Dial", "Hangup"]
    assert [(q.tag, q.text) for q in dial] == [("Queue", "agents")]
    assert path_of(dial.find("Queue").get("url")).startswith("/agents/leg/bridged?offer=")
    transcript.append(("agent leg", "answered", "Dial/Queue agents"))

    announce = leg.dequeue(twiml, CALLER_A)
    assert [e.text for e in announce.iter("Say")] == ["正在为您接通话务员。"]
    transcript.append(("caller A", "bridged", "wang"))
    assert status_of(app, "wang") == (m.ON_CALL, None)
    a = stays(app)[0]
    assert (a.call_sid, a.state, a.agent) == (CALLER_A, m.ANSWERED, "wang")

    leg.status("completed", 95)
    transcript.append(("agent leg", "completed", "wrap_up"))
    assert status_of(app, "wang")[0] == m.WRAP_UP
    caller.queue_result("bridged", 4)
    assert caller.verbs() == ["Hangup"]
    caller.hang_up()
    with get_db(app).session() as s:
        assert s.query(Call).filter_by(call_sid=CALLER_A).one().outcome == "agent"

    # Wrap-up: not offered again until it is over, then the next caller.
    assert d.tick().offered == []
    clock[0] = utcnow() + timedelta(seconds=31)  # the 30 s wrap-up is over
    report = d.tick()
    assert report.wrapped_up == ["wang"]
    assert [(c.call_sid, c.agent) for c in report.offered] == [(CALLER_B, "wang")]
    transcript.append(("caller B", "offered", "wang"))
    assert transcript == [
        ("caller A", "enqueued", "agents"),
        ("agent leg", "dialled", WANG),
        ("agent leg", "answered", "Dial/Queue agents"),
        ("caller A", "bridged", "wang"),
        ("agent leg", "completed", "wrap_up"),
        ("caller B", "offered", "wang"),
    ]
    assert second.find("Enqueue") is not None


def test_no_answer_puts_agent_on_break_and_offers_the_next_agent(line, client, fake):
    app = line
    add_agent(app, "wang", WANG, idle_for=120)  # idle longest: offered first
    add_agent(app, "li", LI, idle_for=10)
    join_queue(app, CALLER_A)
    d = distributor(app, fake)
    assert [c.agent for c in d.tick().offered] == ["wang"]
    AgentLeg(client, app, fake.calls[0]).status("no-answer")
    assert status_of(app, "wang") == (m.BREAK, "not responding")
    assert stays(app)[0].state == m.WAITING
    report = d.tick()
    assert [c.agent for c in report.offered] == ["li"]
    assert fake.calls[1].to == LI
    assert stays(app)[0].offers == 2


@pytest.mark.parametrize("status", ["busy", "failed"])
def test_busy_or_failed_device_is_not_responding(line, client, fake, status):
    app = line
    add_agent(app, "wang", WANG)
    join_queue(app, CALLER_A)
    distributor(app, fake).tick()
    AgentLeg(client, app, fake.calls[0]).status(status)
    assert status_of(app, "wang") == (m.BREAK, "not responding")


def test_lost_status_callback_counts_as_no_answer(line, fake):
    app = line
    add_agent(app, "wang", WANG)
    join_queue(app, CALLER_A)
    clock = [utcnow()]
    d = distributor(app, fake, clock=lambda: clock[0])
    d.tick()
    clock[0] += timedelta(seconds=31)
    report = d.tick()
    assert report.not_responding == ["wang"]
    assert fake.calls[0].status == "canceled"  # the silent leg is hung up
    assert stays(app)[0].state == m.WAITING


def test_caller_hangs_up_while_agent_rings_cancels_agent_leg(line, client, fake):
    app = line
    add_agent(app, "wang", WANG)
    caller = caller_in_queue(app, client, CALLER_A, "+8613812345678")
    d = distributor(app, fake)
    d.tick()
    caller.hang_up()  # Twilio's status callback: the caller is gone
    assert stays(app)[0].state == m.ABANDONED
    report = d.tick()
    assert report.canceled == ["wang"]
    assert fake.calls[0].status == "canceled"
    assert ("POST", f"/2010-04-01/Accounts/{SID}/Calls/{fake.calls[0].sid}.json") in fake.requests
    assert status_of(app, "wang") == (m.AVAILABLE, None)
    # Twilio then reports the canceled leg; nothing changes, and the agent is not blamed.
    leg = AgentLeg(client, app, fake.calls[0])
    leg.status("canceled")
    assert status_of(app, "wang") == (m.AVAILABLE, None)
    # An agent who picks up just then hears that the caller has gone, not another caller.
    assert [el.tag for el in leg.answer()] == ["Say", "Hangup"]


def test_twilio_dequeues_another_caller_offers_are_swapped(line, client, fake):
    """<Dial><Queue> takes the head of the queue: the bridge says whom; the other agent
    still ringing now rings for the other caller, never for the one already answered."""
    app = line
    add_agent(app, "wang", WANG, idle_for=60)
    add_agent(app, "li", LI, idle_for=30)
    join_queue(app, CALLER_A, ago=10)
    join_queue(app, CALLER_B, ago=5)
    d = distributor(app, fake)
    assert sorted((c.call_sid, c.agent) for c in d.tick().offered) == [
        (CALLER_A, "wang"),
        (CALLER_B, "li"),
    ]
    legs = {call.to: call for call in fake.calls}  # rung at once: in no particular order
    li_leg = AgentLeg(client, app, legs[LI])
    li_leg.dequeue(li_leg.answer(), CALLER_A)  # li answered first: Twilio gives li caller A
    by_sid = {x.call_sid: x for x in stays(app)}
    assert (by_sid[CALLER_A].state, by_sid[CALLER_A].agent) == (m.ANSWERED, "li")
    live = {o.agent_id: o.queue_call_id for o in offers(app) if o.state == m.RINGING}
    assert list(live.values()) == [by_sid[CALLER_B].id]  # wang now rings for caller B
    wang_leg = AgentLeg(client, app, legs[WANG])
    wang_leg.dequeue(wang_leg.answer(), CALLER_B)
    assert {x.call_sid: x.agent for x in stays(app)} == {CALLER_A: "li", CALLER_B: "wang"}


def test_agent_in_another_queue_is_not_offered(line, fake):
    app = line
    add_agent(app, "zhao", WANG, queues=("housing_fund",))
    add_agent(app, "qian", LI, queues=("agents", "housing_fund"), idle_for=0)
    join_queue(app, CALLER_A, queue="agents")
    join_queue(app, CALLER_B, queue="housing_fund")
    report = distributor(app, fake).tick()
    assert sorted((c.queue, c.agent) for c in report.offered) == [
        ("agents", "qian"),
        ("housing_fund", "zhao"),
    ]


def test_provider_error_returns_caller_to_the_line(line, fake):
    app = line
    add_agent(app, "wang", WANG)
    join_queue(app, CALLER_A)
    fake.fail_next(1, status=500)
    d = distributor(app, fake)
    report = d.tick()
    assert list(report.failed.values())[0].startswith("Twilio 500")
    assert status_of(app, "wang") == (m.AVAILABLE, None)  # transient: not the agent's fault
    assert stays(app)[0].state == m.WAITING
    assert [c.agent for c in d.tick().offered] == ["wang"]


def test_bridged_call_whose_end_is_never_reported_frees_the_agent(line, client, fake):
    app = line
    add_agent(app, "wang", WANG)
    join_queue(app, CALLER_A)
    clock = [utcnow()]
    d = distributor(app, fake, clock=lambda: clock[0])
    d.tick()
    leg = AgentLeg(client, app, fake.calls[0])
    leg.dequeue(leg.answer(), CALLER_A)
    assert d.tick().lost_talks == []
    clock[0] = utcnow() + timedelta(hours=4, minutes=1)
    assert d.tick().lost_talks == ["wang"]
    assert status_of(app, "wang")[0] == m.AVAILABLE
    assert offers(app)[0].result == "end-not-reported"
