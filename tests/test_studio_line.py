"""The live line (simulator mode): the web phone calls the running app as a citizen. The
caller waits in the real agents queue, the distributor rings the desk of an agent whose
device is sim:desk, the desk answers and the two are bridged; hanging up on either side
ends the other's leg and the agent wraps up. The call record and tickets land in the real
database. On SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from accounts_support import csrf_token, login, make_user
from agents_support import (
    PASSWORD,
    desk_agent_with_a_returning_caller,
    offers,
    status_of,
    stays,
)
from ivr_support import WORKDAY_MORNING, WORKDAY_NIGHT, set_clock
from sqlalchemy import select

from agents import models as m
from agents.presence import SYSTEM, change_status, get_agent
from agents.runner import build
from core.db import get_db
from ivr.models import Call
from simulator.port import spoken_wav
from tickets.models import Department, Ticket
from tickets.seed import seed

NUMBER = "+8613812345678"
LINE = "/simulator/phone/calls"


@pytest.fixture
def line(store_app):
    """An agent (王芳, wang) whose desk is the phone; one browser session signed in as her."""
    app = store_app
    set_clock(app, WORKDAY_MORNING)
    desk_agent_with_a_returning_caller(app, "wang", "王芳", NUMBER)
    browser = app.test_client()
    login(browser, "wang", PASSWORD)
    distributor = build(app)
    yield app, browser, csrf_token(browser, "/desk/"), distributor
    distributor.port.close()


def post(browser, token, url, **body):
    resp = browser.post(url, json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def kinds(view):
    return [e["kind"] for e in view["events"]]


def says(view):
    return [e["text"] for e in view["events"] if e["kind"] == "say"]


def into_queue(browser, token, number=NUMBER):
    """Call the line and stay silent through the greeting: the flow puts the caller through."""
    view = post(browser, token, LINE, caller=number)
    assert view["need"]["kind"] == "gather"  # the greeting listens for a self-service key
    view = post(browser, token, f"{LINE}/{view['id']}", kind="wait")
    assert view["need"]["kind"] == "queue" and "enqueue" in kinds(view)
    return view


def desk_state(browser):
    return browser.get("/desk/state.json").get_json()


def test_citizen_queues_agent_answers_and_citizen_hangs_up(line):
    app, browser, token, distributor = line
    view = into_queue(browser, token)
    call_id, sid = view["id"], view["call_sid"]
    [stay] = stays(app)
    assert (stay.call_sid, stay.caller, stay.state) == (sid, NUMBER, m.WAITING)

    # Polling before the hold round has played asks for nothing new: real time, not a
    # simulated clock racing to the overflow offer.
    heard = says(view)
    view = post(browser, token, f"{LINE}/{call_id}", kind="wait")
    assert says(view) == heard and view["need"]["kind"] == "queue"

    assert [c.agent for c in distributor.tick().offered] == ["wang"]
    desk = desk_state(browser)
    assert desk["softphone"] and desk["call"]["phase"] == m.RINGING
    assert desk["call"]["caller"] == NUMBER
    assert [t["description"] for t in desk["call"]["earlier"]] == ["上月反映暖气不热"]

    browser.post("/desk/phone/answer", data={"csrf_token": token})
    assert status_of(app, "wang")[0] == m.ON_CALL
    view = post(browser, token, f"{LINE}/{call_id}", kind="wait")
    assert view["need"] == {"kind": "talk", "attrs": {"agent": "王芳（wang）", "queue": "agents"}}
    answered = [e for e in view["events"] if e["kind"] == "agent-answered"]
    assert answered[0]["agent"] == "王芳（wang）"
    assert desk_state(browser)["call"]["phase"] == m.BRIDGED

    view = post(browser, token, f"{LINE}/{call_id}", kind="wait")  # still talking
    assert view["need"]["kind"] == "talk" and not view["ended"]

    view = post(browser, token, f"{LINE}/{call_id}", kind="hangup")
    assert view["ended"] and view["status"] == "completed"
    assert status_of(app, "wang")[0] == m.WRAP_UP
    [offer] = offers(app)
    assert (offer.state, offer.result) == (m.ENDED, "completed")
    [stay] = stays(app)
    assert (stay.state, stay.agent) == (m.ANSWERED, "wang") and stay.talk_seconds is not None
    desk = desk_state(browser)
    assert desk["call"]["phase"] == m.ENDED and desk["wrap_up_left"] is not None

    # The desk takes the call's ticket in wrap-up: it lands beside the real call record.
    browser.post(
        "/desk/ticket",
        data={
            "csrf_token": token,
            "call_sid": sid,
            "caller_number": NUMBER,
            "description": "小区暖气又不热了",
            "outcome": "dispatch",
        },
    )
    with get_db(app).session() as s:
        call = s.scalar(select(Call).where(Call.call_sid == sid))
        ticket = s.scalar(select(Ticket).where(Ticket.call_sid == sid))
        assert (call.caller, call.status, call.outcome) == (NUMBER, "completed", "agent")
        assert call.ended_at is not None
        assert ticket is not None and ticket.caller_number == NUMBER


def test_agent_hangs_up_and_the_caller_hears_the_flow_end(line):
    app, browser, token, distributor = line
    view = into_queue(browser, token)
    distributor.tick()
    browser.post("/desk/phone/answer", data={"csrf_token": token})
    view = post(browser, token, f"{LINE}/{view['id']}", kind="wait")
    assert view["need"]["kind"] == "talk"

    browser.post("/desk/phone/hangup", data={"csrf_token": token})
    assert status_of(app, "wang")[0] == m.WRAP_UP
    view = post(browser, token, f"{LINE}/{view['id']}", kind="wait")
    assert "agent-hangup" in kinds(view)
    assert view["ended"] and kinds(view)[-1] == "hangup"  # the flow's goodbye, then <Hangup>
    result = [e for e in view["events"] if e["kind"] == "queue-result"]
    assert result[-1]["result"] == "bridged"


def test_caller_hanging_up_while_the_desk_rings_frees_the_agent(line):
    app, browser, token, distributor = line
    view = into_queue(browser, token)
    distributor.tick()
    assert desk_state(browser)["call"]["phase"] == m.RINGING
    post(browser, token, f"{LINE}/{view['id']}", kind="hangup")
    assert stays(app)[0].state == m.ABANDONED
    assert distributor.tick().canceled == ["wang"]
    assert status_of(app, "wang")[0] == m.AVAILABLE
    assert desk_state(browser)["call"] is None


def test_the_next_caller_after_wrap_up(line):
    app, browser, token, distributor = line
    first = into_queue(browser, token)
    distributor.tick()
    browser.post("/desk/phone/answer", data={"csrf_token": token})
    post(browser, token, f"{LINE}/{first['id']}", kind="wait")
    post(browser, token, f"{LINE}/{first['id']}", kind="hangup")
    second = into_queue(browser, token, "+8613812345679")
    assert distributor.tick().offered == []  # wang is wrapping up
    with get_db(app).session() as s:
        change_status(s, get_agent(s, "wang"), m.AVAILABLE, actor=SYSTEM)
    assert [c.call_sid for c in distributor.tick().offered] == [second["call_sid"]]


def test_voice_message_after_hours_is_a_real_ticket(line):
    app, browser, token, _ = line
    set_clock(app, WORKDAY_NIGHT)
    view = post(browser, token, LINE, caller=NUMBER)
    view = post(browser, token, f"{LINE}/{view['id']}", kind="wait")
    assert view["need"]["kind"] == "record"
    resp = browser.post(
        f"{LINE}/{view['id']}",
        data={"audio": (io.BytesIO(spoken_wav(2.0)), "speech.wav"), "text": "路灯"},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    with get_db(app).session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.call_sid == view["call_sid"]))
        assert ticket is not None and ticket.caller_number == NUMBER


def test_the_caller_cannot_play_the_agent(line):
    app, browser, token, _ = line
    view = into_queue(browser, token)
    for kind in ("agent", "busy", "no-answer"):
        resp = browser.post(
            f"{LINE}/{view['id']}", json={"kind": kind}, headers={"X-CSRFToken": token}
        )
        assert resp.status_code == 400
    assert stays(app)[0].state == m.WAITING


def test_live_line_is_for_signed_in_staff_in_simulator_mode_only(make_app):
    app = make_app()
    with get_db(app).session() as s:
        seed(s)
        department = s.scalars(select(Department.id)).first()
    make_user(app, "dept", "department", department_id=department)
    client = app.test_client()
    assert client.get("/simulator/phone/").status_code == 302  # to the login page
    login(client, "dept")
    assert client.get("/simulator/phone/").status_code == 403
    other = make_app(TELEPHONY="twilio").test_client()
    assert other.get("/simulator/phone/").status_code == 404
    assert other.post(LINE, json={}).status_code == 404


def test_another_users_call_is_not_found(line):
    app, browser, token, _ = line
    view = post(browser, token, LINE, caller=NUMBER)
    make_user(app, "boss", "supervisor")
    other = app.test_client()
    login(other, "boss")
    resp = other.post(
        f"{LINE}/{view['id']}",
        json={"kind": "hangup"},
        headers={"X-CSRFToken": csrf_token(other, "/simulator/phone/")},
    )
    assert resp.status_code == 404


def test_after_hours_a_key_then_0_reaches_the_queue(line):
    app, browser, token, _ = line
    set_clock(app, WORKDAY_NIGHT)
    view = post(browser, token, LINE, caller=NUMBER)
    view = post(browser, token, f"{LINE}/{view['id']}", kind="keys", value="5")
    view = post(browser, token, f"{LINE}/{view['id']}", kind="keys", value="0")
    assert view["need"]["kind"] == "queue"
    assert [(st.call_sid, st.state) for st in stays(app)] == [(view["call_sid"], m.WAITING)]
