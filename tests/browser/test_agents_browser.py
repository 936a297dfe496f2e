"""The agent desk and the wallboard in headless Chromium against a real HTTP server: an
agent on a call sees the caller and their earlier ticket, types the request, picks the
knowledge-base answer the desk suggests and closes it on the spot; a supervisor watches
the wallboard refresh. Screenshots go to $HOTLINE_SHOTS (default /tmp/shots)."""

from __future__ import annotations

import pytest
from accounts_support import PASSWORD as BOSS_PASSWORD
from accounts_support import make_user
from agents_support import PASSWORD, AgentLeg, add_agent, distributor, join_queue
from sqlalchemy import select
from test_browser_pages import browser, live_server, shots_dir  # noqa: F401  (fixtures)

from core.db import get_db
from telephony.fake_twilio import FakeTwilio
from tests.conftest import TEST_AUTH_TOKEN
from tickets import service
from tickets.models import Ticket
from tickets.seed import seed

pytestmark = pytest.mark.browser
CALLER_SID = "CA" + "e" * 32
NUMBER = "+8613812345678"


def test_desk_answers_on_the_spot_and_wallboard_updates(live_server, browser, shots_dir):  # noqa: F811
    app, base = live_server
    with get_db(app).session() as s:
        seed(s)
        service.create_ticket(
            s, channel="phone", caller_number=NUMBER, description="上月反映暖气不热", actor="t"
        )
    add_agent(app, "wang", "+8613900000001")
    join_queue(app, CALLER_SID, caller=NUMBER, ago=5)
    with FakeTwilio("AC" + "0" * 32, TEST_AUTH_TOKEN) as fake:
        distributor(app, fake).tick()
        leg = AgentLeg(app.test_client(), app, fake.calls[0])
        leg.dequeue(leg.answer(), CALLER_SID)

    page = browser.new_page(viewport={"width": 1366, "height": 1000}, locale="zh-CN")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/desk/")
    page.fill("#username", "wang")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/desk/")
    assert NUMBER in page.inner_text("#call-caller")
    assert "上月反映暖气不热" in page.inner_text("#earlier")
    assert page.input_value("#f-caller") == NUMBER
    assert not page.is_visible("#softphone")  # a real phone: no simulated phone buttons
    page.fill("#f-description", "想问买房怎么提取住房公积金，需要什么材料")
    page.wait_for_selector("#kb-results button")
    assert "housing_fund" in page.inner_text("#suggestion")
    page.click("#kb-results button >> nth=0")
    assert page.input_value("#f-article") == "housing-fund-withdrawal-purchase"
    page.screenshot(path=str(shots_dir / "agent-desk.png"), full_page=True)
    page.click("#ticket-form button[type=submit]")
    page.wait_for_selector(".flash-success")
    with get_db(app).session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.call_sid == CALLER_SID))
        assert ticket.status == "resolved"

    make_user(app, "boss", "supervisor")
    board = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    board.on("pageerror", lambda exc: errors.append(str(exc)))
    board.goto(f"{base}/wallboard/")
    board.fill("#username", "boss")
    board.fill("#password", BOSS_PASSWORD)
    board.click("button[type=submit]")
    board.wait_for_url(f"{base}/wallboard/")
    assert board.inner_text('[data-k="waiting"]') == "0"
    join_queue(app, "CA" + "f" * 32, ago=2)
    board.wait_for_function(
        "document.querySelector('[data-k=\"waiting\"]').textContent === '1'", timeout=6000
    )
    board.screenshot(path=str(shots_dir / "wallboard.png"), full_page=True)
    assert errors == []


def test_desk_is_the_phone_in_simulator_mode(live_server, browser, shots_dir):  # noqa: F811
    from ivr_support import WORKDAY_MORNING, Phone, set_clock

    from agents.runner import build
    from agents.simulated import DESK_DEVICE

    app, base = live_server
    set_clock(app, WORKDAY_MORNING)
    add_agent(app, "zhao", DESK_DEVICE)
    caller = Phone(app.test_client(), app, call_sid=CALLER_SID, caller=NUMBER)
    caller.dial()
    caller.silence()
    distributor = build(app)
    distributor.tick()  # the desk rings
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/desk/")
    page.fill("#username", "zhao")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/desk/")
    page.click("#phone-answer")
    page.wait_for_selector("#phone-hangup", state="visible")
    assert "通话中" in page.inner_text("#status")
    assert NUMBER in page.inner_text("#call-caller")
    page.screenshot(path=str(shots_dir / "agent-desk-phone.png"), full_page=True)
    page.click("#phone-hangup")
    page.wait_for_selector("#wrapup", state="visible")
    assert errors == []
    distributor.port.close()


def test_one_browser_is_the_citizen_and_the_agent(live_server, browser, shots_dir):  # noqa: F811
    """Simulator mode: the live line's web phone in one tab calls the line, the distributor
    (its real loop) rings the desk in another tab of the same browser, the desk answers, and
    the citizen's hanging up puts the agent in wrap-up."""
    import threading
    import time

    from agents_support import desk_agent_with_a_returning_caller, stays
    from ivr_support import WORKDAY_MORNING, set_clock

    from agents.runner import build

    app, base = live_server
    set_clock(app, WORKDAY_MORNING)
    desk_agent_with_a_returning_caller(app, "zhao", "赵敏", NUMBER)
    distributor, stop = build(app), threading.Event()
    running = threading.Thread(target=distributor.run_until, args=(stop,), daemon=True)
    running.start()

    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors = []
    citizen = context.new_page()
    citizen.on("pageerror", lambda exc: errors.append(str(exc)))
    citizen.goto(f"{base}/simulator/phone/")
    citizen.fill("#username", "zhao")
    citizen.fill("#password", PASSWORD)
    citizen.click("button[type=submit]")
    citizen.wait_for_url(f"{base}/simulator/phone/")
    desk = context.new_page()  # the same browser, the same signed-in agent
    desk.on("pageerror", lambda exc: errors.append(str(exc)))
    desk.goto(f"{base}/desk/")
    assert "暂无来电" in desk.inner_text("#no-call")

    try:
        citizen.fill("#phone-caller", NUMBER)
        citizen.click("#phone-call")
        citizen.wait_for_selector("#phone-status.live")
        citizen.click('[data-act="wait"]')  # no key in the greeting: through to an agent
        citizen.wait_for_function(
            "document.getElementById('phone-status').textContent.includes('排队等待话务员')"
        )
        citizen.screenshot(path=str(shots_dir / "line-citizen-waiting.png"), full_page=True)

        desk.wait_for_selector("#phone-answer", state="visible", timeout=8000)  # it rings
        assert NUMBER in desk.inner_text("#call-caller")
        assert "上月反映暖气不热" in desk.inner_text("#earlier")
        desk.click("#phone-answer")
        desk.wait_for_selector("#phone-hangup", state="visible")
        assert "通话中" in desk.inner_text("#status")

        citizen.wait_for_selector("#phone-status.talking", timeout=8000)
        assert "赵敏（zhao）" in citizen.inner_text("#phone-status")
        citizen.screenshot(path=str(shots_dir / "line-citizen-connected.png"), full_page=True)
        desk.screenshot(path=str(shots_dir / "line-desk-connected.png"), full_page=True)

        citizen.click('[data-act="hangup"]')
        citizen.wait_for_selector("#phone-status.ended")
        desk.wait_for_selector("#wrapup", state="visible", timeout=8000)
        assert "话后处理" in desk.inner_text("#status")
        desk.screenshot(path=str(shots_dir / "line-desk-wrap-up.png"), full_page=True)
        citizen.screenshot(path=str(shots_dir / "line-citizen-ended.png"), full_page=True)

        # A citizen who reloads (or closes) the tab while waiting hangs up: no caller is left
        # in the real queue with nobody on the line.
        citizen.click("#phone-call")
        citizen.wait_for_selector("#phone-status.live")
        citizen.click('[data-act="wait"]')
        citizen.wait_for_function(
            "document.getElementById('phone-status').textContent.includes('排队等待话务员')"
        )
        assert stays(app)[-1].state == "waiting"
        citizen.reload()
        deadline = time.monotonic() + 10
        while stays(app)[-1].state == "waiting" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stays(app)[-1].state == "abandoned"
    finally:
        stop.set()
        running.join(timeout=5)
        distributor.port.close()
    assert errors == []
