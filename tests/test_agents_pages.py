"""The agent desk (screen pop, ticket taken on the call), the wallboard, the report and
/metrics, over the real app and database (the desk in a browser: tests/browser)."""

from __future__ import annotations

import csv
import io

import pytest
from accounts_support import csrf_token, login, make_user
from agents_support import AgentLeg, add_agent, distributor, join_queue
from sqlalchemy import select

from agents import models as m
from core.db import get_db
from telephony.fake_twilio import FakeTwilio
from tests.conftest import TEST_API_TOKEN, TEST_AUTH_TOKEN
from tickets import service
from tickets.models import Ticket, TicketEvent
from tickets.seed import seed

CALLER_SID = "CA" + "c" * 32
NUMBER = "+8613812345678"


@pytest.fixture
def fake():
    with FakeTwilio("AC" + "0" * 32, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def on_call(app, client, fake):
    """wang is talking to a caller who called before about heating."""
    with get_db(app).session() as s:
        seed(s)
        service.create_ticket(
            s, channel="phone", caller_number=NUMBER, description="暖气不热", actor="test"
        )
    add_agent(app, "wang", "+8613900000001")
    join_queue(app, CALLER_SID, caller=NUMBER, ago=6)
    d = distributor(app, fake)
    d.tick()
    leg = AgentLeg(client, app, fake.calls[0])
    leg.dequeue(leg.answer(), CALLER_SID)
    web = app.test_client()
    from agents_support import PASSWORD

    login(web, "wang", PASSWORD)
    return web


def test_desk_screen_pop_shows_caller_and_earlier_tickets(on_call):
    state = on_call.get("/desk/state.json").json
    assert state["status"] == m.ON_CALL
    call = state["call"]
    assert (call["caller"], call["call_sid"]) == (NUMBER, CALLER_SID)  # agents see the number
    assert [t["description"] for t in call["earlier"]] == ["暖气不热"]
    html = on_call.get("/desk/").get_data(as_text=True)
    assert NUMBER in html and "暖气不热" in html


def test_suggestions_and_knowledge_base_follow_the_text(on_call):
    found = on_call.get("/desk/suggest", query_string={"text": "买房想提取住房公积金"}).json
    assert found["topic"] == "housing_fund"
    assert found["articles"][0]["key"] == "housing-fund-withdrawal-purchase"


def test_answered_on_the_spot_resolves_with_the_article(app, on_call):
    resp = on_call.post(
        "/desk/ticket",
        data={
            "csrf_token": csrf_token(on_call, "/desk/"),
            "call_sid": CALLER_SID,
            "caller_number": NUMBER,
            "description": "咨询买房提取住房公积金需要什么材料",
            "outcome": "on_the_spot",
            "article": "housing-fund-withdrawal-purchase",
        },
    )
    assert resp.status_code == 302
    with get_db(app).session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.call_sid == CALLER_SID))
        assert (ticket.status, ticket.channel, ticket.topic) == (
            "resolved",
            "phone",
            "housing_fund",
        )
        assert "购房合同" in ticket.reply
        event = s.scalar(select(TicketEvent).where(TicketEvent.action == "answered_on_the_spot"))
        assert event.detail["article"] == "housing-fund-withdrawal-purchase"
        assert event.actor == "wang"


def test_dispatch_sends_the_ticket_to_a_department(app, on_call):
    on_call.post(
        "/desk/ticket",
        data={
            "csrf_token": csrf_token(on_call, "/desk/"),
            "call_sid": CALLER_SID,
            "caller_number": NUMBER,
            "description": "小区暖气一直不热，已经三天了",
            "outcome": "dispatch",
        },
    )
    with get_db(app).session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.call_sid == CALLER_SID))
        assert ticket.status == "dispatched" and ticket.department is not None


def test_on_the_spot_without_an_article_is_refused(app, on_call):
    resp = on_call.post(
        "/desk/ticket",
        data={
            "csrf_token": csrf_token(on_call, "/desk/"),
            "description": "咨询",
            "caller_number": NUMBER,
            "outcome": "on_the_spot",
        },
        follow_redirects=True,
    )
    assert "knowledge-base article" in resp.get_data(as_text=True)
    with get_db(app).session() as s:
        assert s.scalar(select(Ticket).where(Ticket.description == "咨询")) is None


def test_desk_presence_buttons(app, client):
    add_agent(app, "li", "+8613900000002", status=m.OFFLINE)
    from agents_support import PASSWORD

    login(client, "li", PASSWORD)
    token = csrf_token(client, "/desk/")
    client.post("/desk/presence", data={"csrf_token": token, "status": "available"})
    assert client.get("/desk/state.json").json["status"] == "available"
    resp = client.post(
        "/desk/presence", data={"csrf_token": token, "device": "12"}, follow_redirects=True
    )
    assert "E.164" in resp.get_data(as_text=True)


def test_wallboard_report_and_metrics(app, client, on_call):
    make_user(app, "boss", "supervisor")
    login(client, "boss")
    add_agent(app, "li", "+8613900000002", status=m.BREAK)
    join_queue(app, "CA" + "d" * 32, ago=3)
    data = client.get("/wallboard/data.json").json
    queue = data["queues"][0]
    assert (queue["queue"], queue["waiting"], queue["agents"]["on_call"]) == ("agents", 1, 1)
    assert queue["today"]["answered"] == 1 and queue["today"]["answered_within_15s_rate"] == 1.0
    assert "话务看板" in client.get("/wallboard/").get_data(as_text=True)
    assert on_call.get("/wallboard/").status_code == 403  # agents do not see the wallboard

    rows = list(csv.reader(io.StringIO(client.get("/agents/report.csv").get_data(as_text=True))))
    header = rows[0]
    today = next(r for r in rows if r[0].endswith("day") and r[header.index("offered")] == "2")
    assert today[header.index("answered")] == "1"
    assert today[header.index("asa_seconds")] != ""
    assert client.get("/agents/report/").status_code == 200
    seed_report = client.get("/report/").get_data(as_text=True)  # the seed-shaped report
    assert "人工接听" in seed_report and "100.00%" in seed_report  # connection rate: 1 of 1

    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TEST_API_TOKEN}"}).get_data(
        as_text=True
    )
    assert 'hotline_callers_waiting{queue="agents"} 1.0' in text
    assert 'hotline_agents{status="on_call"} 1.0' in text
    assert "hotline_request_seconds_bucket" in text and "hotline_callbacks_due 0.0" in text
