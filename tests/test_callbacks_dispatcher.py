"""The dispatcher against FakeTwilio over real HTTP: pace, caps, window, pause, reconcile,
on each database backend in turn."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callbacks import models as m
from callbacks import service
from callbacks.dispatcher import Dispatcher
from callbacks.policy import Policy
from core.db import get_db
from telephony.fake_twilio import FakeTwilio
from telephony.twilio_port import TwilioPort
from tests.conftest import TEST_AUTH_TOKEN

SH = ZoneInfo("Asia/Shanghai")
SID = "AC" + "0" * 32
TICKET_IDS = itertools.count(1000)
THURSDAY_10 = datetime(2026, 11, 26, 10, 0, tzinfo=SH)

pytestmark = pytest.mark.store


class Clock:
    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def setup(make_store_app, fake):
    def build(**config):
        app = make_store_app(TELEPHONY="twilio", TWILIO_API_BASE=fake.base_url, **config)
        port = TwilioPort.from_config(app.config)
        ports.append(port)
        clock = Clock(THURSDAY_10)
        disp = Dispatcher(
            get_db(app),
            port,
            Policy.from_config(app.config),
            app.config["PUBLIC_BASE_URL"],
            clock=clock,
        )
        return app, disp, clock

    ports: list[TwilioPort] = []
    yield build
    for port in ports:
        port.close()


def due(app, numbers, at=THURSDAY_10) -> list[int]:
    """Attempts already marked due by their jobs, one survey request per number."""
    ids = []
    with get_db(app).session() as s:
        for number in numbers:
            req = m.CallbackRequest(
                kind=m.SATISFACTION,
                ticket_id=next(TICKET_IDS),
                resolution_no=1,
                number=number,
                script={},
            )
            att = m.CallbackAttempt(
                request=req, attempt_no=1, number=number, due_at=at.astimezone(UTC), state=m.DUE
            )
            s.add_all([req, att])
            s.flush()
            ids.append(att.id)
    return ids


def numbers(n: int) -> list[str]:
    return [f"+86138{i:08d}" for i in range(n)]


def test_cps_cap_holds_in_every_one_second_window(setup, fake):
    app, disp, _ = setup(CALLBACK_CPS="3", CALLBACK_MAX_CONCURRENT="100")
    due(app, numbers(8))
    placed = []
    for _ in range(40):  # the scheduler ticks every second; here every 0.2 s
        placed += disp.tick().placed
        if len(placed) == 8:
            break
        time.sleep(0.2)
    assert len(placed) == 8
    stamps = sorted(c.created_at for c in fake.calls)
    worst = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert worst <= 3


def test_concurrency_cap_and_one_call_per_number(setup, fake):
    app, disp, _ = setup(CALLBACK_CPS="100", CALLBACK_MAX_CONCURRENT="2")
    ids = due(app, ["+8613800000001", "+8613800000001", "+8613800000002", "+8613800000003"])
    report = disp.tick()
    assert report.placed == [ids[0], ids[2]]  # the second call to ...001 waits
    assert disp.tick().reason == "at the concurrency cap"
    with get_db(app).session() as s:
        first = s.get(m.CallbackAttempt, ids[0])
        first.status = "completed"
        service.finish_attempt(s, first, now=THURSDAY_10, policy=disp.policy, outcome="answered")
    # ...001 is free again, but its second request is for a *different* ticket: it may go now.
    assert disp.tick().placed == [ids[1]]
    assert [c.to for c in fake.calls].count("+8613800000001") == 2


@pytest.mark.parametrize(
    "at, placed",
    [
        (datetime(2026, 11, 26, 8, 59, 59, tzinfo=SH), False),
        (datetime(2026, 11, 26, 9, 0, tzinfo=SH), True),
        (datetime(2026, 11, 26, 19, 59, 59, tzinfo=SH), True),
        (datetime(2026, 11, 26, 20, 0, tzinfo=SH), False),
        (datetime(2026, 10, 1, 10, 0, tzinfo=SH), False),  # National Day
        (datetime(2026, 11, 28, 10, 0, tzinfo=SH), False),  # Saturday
        (datetime(2026, 10, 10, 10, 0, tzinfo=SH), True),  # Saturday, adjusted workday
    ],
)
def test_window_and_holiday_edges_after_downtime(setup, fake, at, placed):
    """A backlog due long ago is only dialled inside the window on a working day."""
    app, disp, clock = setup()
    due(app, numbers(1), at=datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    clock.at = at
    report = disp.tick()
    assert bool(report.placed) == placed
    if not placed:
        assert report.reason == "outside the calling window" and fake.calls == []


def test_pause_stops_and_resume_restarts(setup, fake):
    app, disp, _ = setup()
    due(app, numbers(2))
    with get_db(app).session() as s:
        service.set_paused(s, True, actor="sup")
    assert disp.tick().reason == "paused" and fake.calls == []
    with get_db(app).session() as s:
        service.set_paused(s, False, actor="sup")
    assert len(disp.tick().placed) == 1  # CPS 1


def test_do_not_call_checked_at_dial_time(setup, fake):
    app, disp, _ = setup()
    [attempt_id] = due(app, ["+8613812345678"])
    with get_db(app).session() as s:
        s.add(m.DoNotCall(number="+8613812345678", source="import"))
    report = disp.tick()
    assert report.skipped == {attempt_id: "number on the do-not-call list"} and not fake.calls
    with get_db(app).session() as s:
        assert s.get(m.CallbackAttempt, attempt_id).request.state == m.SKIPPED


def test_provider_error_keeps_the_attempt(setup, fake):
    app, disp, clock = setup(CALLBACK_CPS="50")
    [attempt_id] = due(app, numbers(1))
    fake.fail_next(1, status=503)
    assert attempt_id in disp.tick().failed
    with get_db(app).session() as s:
        att = s.get(m.CallbackAttempt, attempt_id)
        assert att.state == m.DUE and "503" in att.error
    clock.at += timedelta(minutes=1)
    assert disp.tick().placed == [attempt_id]
    fake.fail_next(1, status=400)
    [other] = due(app, numbers(2)[1:])
    disp.tick()
    with get_db(app).session() as s:
        assert s.get(m.CallbackAttempt, other).outcome == "rejected"


def test_reconcile_adopts_a_placed_call_and_releases_an_unplaced_one(setup, fake):
    """The process died after claiming: once after the provider took the call, once before."""
    app, disp, _ = setup(CALLBACK_CPS="50")
    placed_id, lost_id = due(app, ["+8613800000001", "+8613800000002"])
    with get_db(app).session() as s:
        for attempt_id in (placed_id, lost_id):
            att = s.get(m.CallbackAttempt, attempt_id)
            att.state, att.claimed_at, att.claimed_by = m.CLAIMED, datetime.now(UTC), "dead:1"
        placed_call = disp.outgoing(s.get(m.CallbackAttempt, placed_id))
    sid = disp.port.place_call(placed_call).sid  # the call the dead process had placed
    assert disp.reconcile() == {"adopted": 1, "released": 1, "unresolved": 0}
    with get_db(app).session() as s:
        adopted = s.get(m.CallbackAttempt, placed_id)
        assert (adopted.state, adopted.call_sid) == (m.PLACED, sid)
        assert s.get(m.CallbackAttempt, lost_id).state == m.DUE
    assert disp.tick().placed == [lost_id]
    assert sorted(c.to for c in fake.calls) == ["+8613800000001", "+8613800000002"]


def test_return_call_skipped_when_late(setup, fake):
    app, disp, clock = setup(RETURN_CALL_WITHIN="PT1H")
    with get_db(app).session() as s:
        req = service.request_return_call(
            s,
            call_sid="CA" + "3" * 32,
            number="+8613800000009",
            missed_at=THURSDAY_10 - timedelta(minutes=30),
            now=THURSDAY_10,
            policy=disp.policy,
        )
        req.attempts[0].state = m.DUE
        attempt_id = req.attempts[0].id
    clock.at = THURSDAY_10 + timedelta(hours=1)
    assert disp.tick().skipped == {attempt_id: "too late for a return call"}
    with get_db(app).session() as s:
        assert s.scalar(select(m.CallbackRequest.state)) == m.SKIPPED
    assert fake.calls == []


def test_pause_cancels_ringing_calls_and_they_are_dialled_again_after_resume(setup, fake):
    app, disp, clock = setup(CALLBACK_CPS="50")
    [attempt_id] = due(app, numbers(1))
    assert disp.tick().placed == [attempt_id]
    with get_db(app).session() as s:
        service.set_paused(s, True, actor="sup")
    disp.tick()
    assert fake.calls[0].status == "canceled"
    disp.tick()  # asked once only
    assert [r for r in fake.requests if r[0] == "POST" and "/Calls/" in r[1]].__len__() == 1
    with app.app_context(), get_db().session() as s:  # Twilio's final status callback
        att = s.get(m.CallbackAttempt, attempt_id)
        att.status = "canceled"
        nxt = service.finish_attempt(s, att, now=clock().astimezone(UTC), policy=disp.policy)
        assert att.outcome == "paused" and nxt.attempt_no == 2
        nxt.state = m.DUE
        service.set_paused(s, False, actor="sup")
    assert len(disp.tick().placed) == 1 and len(fake.calls) == 2


def test_lost_status_callback_does_not_hold_a_slot_forever(setup, fake):
    app, disp, clock = setup(CALLBACK_CPS="50", CALLBACK_MAX_CONCURRENT="1")
    first, second = due(app, numbers(2))
    assert disp.tick().placed == [first]
    assert disp.tick().reason == "at the concurrency cap"
    clock.at += timedelta(hours=2, minutes=1)
    assert disp.reap_stale() == 1
    with get_db(app).session() as s:
        att = s.get(m.CallbackAttempt, first)
        assert (att.outcome, att.error) == ("failed", "no final status from the provider")
    assert disp.tick().placed == [second]
