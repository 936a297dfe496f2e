"""Simulator mode: the desk page is the agent's phone (device sim:desk). A caller waits in
the queue over the real webhooks; the distributor rings the desk; the agent answers, talks,
hangs up (wrap-up); another call is declined (break, not responding)."""

from __future__ import annotations

from accounts_support import csrf_token, login
from agents_support import PASSWORD, add_agent, status_of, stays
from ivr_support import WORKDAY_MORNING, Phone, set_clock

from agents import models as m
from agents.runner import build
from agents.simulated import DESK_DEVICE

CALLER_A, CALLER_B = "CA" + "a" * 32, "CA" + "b" * 32


def queued(app, client, sid, number):
    phone = Phone(client, app, call_sid=sid, caller=number)
    phone.dial()
    phone.silence()
    assert phone.find("Enqueue").text == "agents"
    return phone


def test_desk_answers_talks_and_hangs_up_then_declines(app, client):
    set_clock(app, WORKDAY_MORNING)
    add_agent(app, "wang", DESK_DEVICE)
    caller = queued(app, client, CALLER_A, "+8613812345678")
    distributor = build(app)  # the simulator port: sim:desk rings on the page
    assert [c.agent for c in distributor.tick().offered] == ["wang"]

    desk = app.test_client()
    login(desk, "wang", PASSWORD)
    state = desk.get("/desk/state.json").json
    assert state["softphone"] is True and state["call"]["phase"] == m.RINGING
    html = desk.get("/desk/").get_data(as_text=True)
    assert "接听 Answer" in html
    token = csrf_token(desk, "/desk/")

    desk.post("/desk/phone/answer", data={"csrf_token": token})
    assert status_of(app, "wang")[0] == m.ON_CALL
    assert (stays(app)[0].state, stays(app)[0].agent) == (m.ANSWERED, "wang")
    assert desk.get("/desk/state.json").json["call"]["phase"] == m.BRIDGED
    desk.post("/desk/phone/hangup", data={"csrf_token": token})
    assert status_of(app, "wang")[0] == m.WRAP_UP
    caller.queue_result("bridged", 4)
    assert caller.verbs() == ["Hangup"]

    # The next caller: declined from the desk.
    with app.app_context():
        from agents.presence import change_status, get_agent
        from core.db import get_db

        with get_db(app).session() as s:
            change_status(s, get_agent(s, "wang"), m.AVAILABLE, actor="test")
    queued(app, client, CALLER_B, "+8613812345679")
    assert [c.call_sid for c in distributor.tick().offered] == [CALLER_B]
    desk.post("/desk/phone/decline", data={"csrf_token": token})
    assert status_of(app, "wang") == (m.BREAK, "not responding")
    assert stays(app)[1].state == m.WAITING  # back in line for the next agent
    distributor.port.close()


def test_softphone_is_only_for_desk_devices(app, client):
    add_agent(app, "li", "+8613900000002")
    login(client, "li", PASSWORD)
    resp = client.post("/desk/phone/answer", data={"csrf_token": csrf_token(client, "/desk/")})
    assert resp.status_code == 404
