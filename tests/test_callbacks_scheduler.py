"""The scheduler process: APScheduler jobs in the database, catch-up after downtime,
SIGKILL in the middle of dispatching, and a standby taking over the lease, on each
database backend in turn."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text

from callbacks import jobs
from callbacks import models as m
from callbacks.lease import Lease
from callbacks.scheduler import CallbackScheduler
from core.config import ROOT
from core.db import Database, get_db, utcnow
from telephony.fake_twilio import FakeTwilio
from telephony.twilio_port import TwilioPort
from tests.conftest import TEST_AUTH_TOKEN

SID = "AC" + "0" * 32
# Calls may be placed at any time of day in these tests, whatever the real clock says.
ALWAYS = {"CALLING_DAYS": "all", "CALLING_WINDOW": "00:00-24:00"}

pytestmark = pytest.mark.store


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


def seed(url: str, count: int, due_in: timedelta = timedelta(minutes=-10), first: int = 0) -> None:
    """`count` survey requests whose first attempt is due (by default, 10 minutes ago)."""
    db = Database(url)
    with db.session() as s:
        for i in range(first, first + count):
            req = m.CallbackRequest(
                kind=m.SATISFACTION,
                ticket_id=i + 1,
                resolution_no=1,
                number=f"+86139{i:08d}",
                script={},
            )
            s.add_all(
                [
                    req,
                    m.CallbackAttempt(
                        request=req, attempt_no=1, number=req.number, due_at=utcnow() + due_in
                    ),
                ]
            )
    db.dispose()


def states(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.CallbackAttempt.state, func.count()).group_by(m.CallbackAttempt.state)
        ).all()
    engine.dispose()
    return dict(rows)


def wait_for(predicate, timeout: float, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"condition not met within {timeout} s")


def test_jobs_live_in_the_database_with_deterministic_ids(make_store_app, fake):
    app = make_store_app(
        TELEPHONY="twilio", TWILIO_API_BASE=fake.base_url, CALLBACK_CPS="20", **ALWAYS
    )
    url = app.config["DATABASE_URL"]
    seed(url, 3)  # overdue: caught up at once
    seed(url, 2, due_in=timedelta(hours=1), first=3)  # later today
    port = TwilioPort.from_config(app.config)
    sched = CallbackScheduler(app, holder="test:1", port=port)
    assert sched._renew()
    # As _lead() does, minus the periodic sync job: this test calls sync() itself.
    jobs.RUNTIME.db, jobs.RUNTIME.dispatcher, jobs.RUNTIME.scheduler = (
        sched.db,
        sched.dispatcher,
        sched,
    )
    sched.scheduler = sched.build_scheduler()
    sched.scheduler.remove_job("sync", jobstore="local")
    sched.scheduler.start()
    try:
        assert sched.sync() == 5
        engine = get_db(app).engine

        def job_ids():
            with engine.connect() as conn:
                return sorted(r[0] for r in conn.execute(text("SELECT id FROM apscheduler_jobs")))

        # The overdue ones ran at once (and left the store); the others wait for their time.
        wait_for(lambda: job_ids() == [f"satisfaction:t{n}:r1:a1" for n in (4, 5)], 10)
        # A restart that forgot which jobs exist adds none twice (replace_existing).
        with get_db(app).session() as s:
            for att in s.scalars(select(m.CallbackAttempt)):
                att.job_id = None
        sched.sync()
        assert job_ids() == [f"satisfaction:t{n}:r1:a1" for n in (4, 5)]
        wait_for(lambda: states(url) == {m.PLACED: 3, m.SCHEDULED: 2}, 10)
        assert len(fake.calls) == 3
    finally:
        sched._stand_down()
        port.close()


def _start(url: str, fake, tmp_path, name: str, **extra) -> subprocess.Popen:
    env = {
        **os.environ,
        "FLASK_APP": "ivr",
        "DATABASE_URL": url,
        "TELEPHONY": "twilio",
        "TWILIO_API_BASE": fake.base_url,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": SID,
        "SECRET_KEY": "test",
        "PUBLIC_BASE_URL": "http://hotline.test",
        "CALLBACK_LEASE_SECONDS": "3",
        "CALLBACK_MAX_CONCURRENT": "1000",
        "AUDIO_DIR": str(tmp_path / "audio"),
        "LOG_LEVEL": "INFO",
        **ALWAYS,
        **extra,
    }
    log = open(tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "callbacks", "run", "--holder", name],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    proc.log = log
    return proc


def _stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if getattr(proc, "log", None) is not None:
        proc.log.close()


def _lease(url: str, taken: bool = False):
    """(holder, expires_at) of the scheduler lease, or when its holder took it."""
    db = Database(url)
    try:
        probe = Lease(db, "probe")
        return probe.taken_at() if taken else probe.current()
    finally:
        db.dispose()


def _lease_holder(url: str) -> str | None:
    db = Database(url)
    try:
        holder, expires = Lease(db, "probe").current()
        return holder if holder and m.aware(expires) > utcnow() else None
    finally:
        db.dispose()


@pytest.mark.slow
def test_sigkill_mid_dispatch_calls_nobody_twice_and_forgets_nobody(database_url, fake, tmp_path):
    seed(database_url, 30)
    fake.stall_next(1000, seconds=0.3)  # each call creation takes a while: kills land inside
    first = _start(database_url, fake, tmp_path, "first", CALLBACK_CPS="10")
    try:
        wait_for(lambda: len(fake.calls) >= 8, 60)
    finally:
        _stop(first, signal.SIGKILL)
    assert fake.idle()  # the request the dead process had in flight still creates its call
    before = states(database_url)
    assert before.get(m.SCHEDULED, 0) + before.get(m.DUE, 0) > 0  # it really died mid-way
    second = _start(database_url, fake, tmp_path, "second", CALLBACK_CPS="10")
    try:
        wait_for(lambda: states(database_url) == {m.PLACED: 30}, 90, step=0.5)
    finally:
        _stop(second)
    per_number = collections.Counter(c.to for c in fake.calls)
    assert len(per_number) == 30 and set(per_number.values()) == {1}
    db = Database(database_url)
    with db.session() as s:
        sids = {a.number: a.call_sid for a in s.scalars(select(m.CallbackAttempt))}
    db.dispose()
    assert sids == {c.to: c.sid for c in fake.calls}
    log = (tmp_path / "second.log").read_text()
    assert "is active" in log
    print(
        f"state at SIGKILL: {before}; restart: "
        f"{[line for line in log.splitlines() if 'reconciled' in line]}"
    )


@pytest.mark.slow
def test_standby_takes_over_when_the_active_scheduler_dies(database_url, fake, tmp_path):
    url, lease = database_url, {"CALLBACK_LEASE_SECONDS": "6"}
    active = _start(url, fake, tmp_path, "alpha", **lease)
    standby = None
    try:
        wait_for(lambda: _lease_holder(url) == "alpha", 30)
        standby = _start(url, fake, tmp_path, "beta", **lease)
        # Beta has found the lease taken and waits: it does not take a lease that is held.
        beta_log = lambda: (tmp_path / "beta.log").read_text()  # noqa: E731
        wait_for(lambda: "on standby: the lease is held by alpha" in beta_log(), 30)
        assert _lease_holder(url) == "alpha" and standby.poll() is None
        active.send_signal(signal.SIGSTOP)  # no renewal after this: its expiry is final
        holder, alpha_expires = _lease(url)
        assert holder == "alpha", holder
        _stop(active, signal.SIGKILL)
        wait_for(lambda: _lease_holder(url) == "beta", 60)
        taken = _lease(url, taken=True)
        # The takeover came once the dead holder's lease had run out, not before.
        assert m.aware(taken) >= m.aware(alpha_expires), (taken, alpha_expires)
        assert beta_log().count("is active") == 1
        seed(url, 1)
        wait_for(lambda: len(fake.calls) == 1, 30)
    finally:
        _stop(active, signal.SIGKILL)
        if standby is not None:
            _stop(standby)
    late = (m.aware(taken) - m.aware(alpha_expires)).total_seconds()
    print(f"standby took over {late:.1f} s after the dead holder's lease expired (lease 6 s)")


def test_missed_callers_get_one_return_call_unless_they_reached_an_agent(make_store_app, fake):
    from callbacks.dispatcher import Dispatcher
    from callbacks.policy import Policy
    from ivr.calls import open_call

    app = make_store_app(
        TELEPHONY="twilio", TWILIO_API_BASE=fake.base_url, CALLBACK_CPS="50", **ALWAYS
    )
    port = TwilioPort.from_config(app.config)
    sched = CallbackScheduler(app, holder="test:1", port=port)
    now = utcnow()
    with get_db(app).session() as s:
        for sid, caller, outcome, ago in [
            ("CA01", "+8613800000001", "abandoned_queue", 20),  # -> return call
            ("CA02", "+8613800000002", "abandoned_queue", 20),  # reached an agent since
            ("CA03", "+8613800000002", "agent", 5),
            ("CA04", "+8613800000003", "abandoned_queue", 60 * 5),
        ]:  # too long ago
            call = open_call(
                s,
                call_sid=sid,
                caller=caller,
                called="12345",
                direction="inbound",
                flow_version="1",
                now=now - timedelta(minutes=ago + 2),
            )
            call.outcome, call.ended_at = outcome, now - timedelta(minutes=ago)
            call.needs_return_call = outcome == "abandoned_queue"
    sched._sync_missed_calls()
    sched._sync_missed_calls()  # idempotent
    with get_db(app).session() as s:
        reqs = s.scalars(select(m.CallbackRequest).order_by(m.CallbackRequest.id)).all()
        assert [(r.kind, r.source_call_sid) for r in reqs] == [
            (m.RETURN_CALL, "CA01"),
            (m.RETURN_CALL, "CA02"),
        ]
        for att in s.scalars(select(m.CallbackAttempt)):
            att.state = m.DUE
    disp = Dispatcher(
        get_db(app),
        port,
        Policy.from_config(app.config),
        app.config["PUBLIC_BASE_URL"],
        agent_reached=sched.dispatcher.agent_reached,
    )
    report = disp.tick()
    port.close()
    assert len(report.placed) == 1 and [c.to for c in fake.calls] == ["+8613800000001"]
    assert list(report.skipped.values()) == ["caller has since reached an agent"]


@pytest.mark.slow
def test_embedded_default_scheduler_calls_the_simulated_citizen(make_store_app, tmp_path):
    """scripts/run's set-up: web server + `flask callbacks run`, TELEPHONY=simulator."""
    import threading

    from werkzeug.serving import make_server

    from tests.test_callbacks_service import resolved_ticket
    from tickets.models import Ticket

    probe = make_server("127.0.0.1", 0, lambda *a: None)
    port = probe.server_port
    probe.server_close()
    public = f"http://127.0.0.1:{port}"
    app = make_store_app(
        PUBLIC_BASE_URL=public, TELEPHONY="simulator", CALLBACK_DELAY="PT0S", **ALWAYS
    )
    web = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    with app.app_context(), get_db().session() as s:
        ticket_id = resolved_ticket(s).id
    env = {
        **os.environ,
        "FLASK_APP": "ivr",
        "DATABASE_URL": app.config["DATABASE_URL"],
        "TELEPHONY": "simulator",
        "SIMULATOR_CALLEE": "answer:2",
        "PUBLIC_BASE_URL": public,
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": SID,
        "SECRET_KEY": "test",
        "AUDIO_DIR": str(tmp_path / "audio"),
        **ALWAYS,
    }
    with open(tmp_path / "scheduler.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "callbacks", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def surveyed():
                with get_db(app).session() as s:
                    return s.get(Ticket, ticket_id).satisfaction

            assert wait_for(surveyed, 60, step=0.5) == "basically_satisfied"
            # The scheduler synthesized the personalised sentence ahead of the call (a stop
            # does not wait for prompt synthesis, so look before stopping it).
            log_text = lambda: (tmp_path / "scheduler.log").read_text()  # noqa: E731
            assert wait_for(lambda: "prompt audio ready for" in log_text(), 60, step=0.5)
        finally:
            _stop(proc)
            web.shutdown()
            thread.join(timeout=5)
    with get_db(app).session() as s:
        attempt = s.scalar(select(m.CallbackAttempt))
        assert (attempt.outcome, attempt.answered_by) == ("answered", "human")
