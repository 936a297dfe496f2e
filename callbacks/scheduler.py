"""The dedicated scheduler process: lease, APScheduler, and the jobs it runs.

`flask callbacks run` runs `CallbackScheduler.run()`; never start it inside a
web worker. Standby until the lease is ours, then:
  * reconcile attempts a dead predecessor had claimed;
  * `sync` (every few seconds): give each scheduled attempt a date job in the
    SQLAlchemy job store, id (ticket, kind, attempt), replace_existing — so a
    restart adds no copies — and turn missed callers into return-call requests;
  * each attempt job marks its attempt due when its time comes; misfired jobs
    (the process was down) still run (misfire_grace_time=None, coalesced) and
    only mark rows due, so the backlog is drained by the dispatcher at CPS pace;
  * `dispatch` (every second) places due calls.
The lease is renewed every ttl/3; losing it stops APScheduler at once.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from datetime import datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from callbacks import jobs, service, ticketing
from callbacks import models as m
from callbacks.dispatcher import Dispatcher
from callbacks.lease import Lease
from callbacks.policy import Policy
from core.config import value
from core.db import get_db, utcnow
from core.stopping import StopOnSignal
from ivr.flows import Flow
from ivr.models import Call
from ivr.registry import FlowRegistry, FlowUnavailable
from telephony.ports import make_port

log = logging.getLogger(__name__)

SYNC_SECONDS = 5
DISPATCH_SECONDS = 1
RETENTION_INTERVAL_HOURS = 6  # tickets.retention purge; idempotent, batched
SYNC_BATCH = 500
JOB_TABLE = "apscheduler_jobs"


def agent_reached(s, number: str, since: datetime) -> bool:
    """Whether this number has reached an agent since `since` (ivr call records)."""
    return (
        s.scalar(
            select(Call.id)
            .where(Call.caller == number, Call.outcome == "agent", Call.started_at > since)
            .limit(1)
        )
        is not None
    )


def missed_calls(s, since: datetime) -> list[tuple[str, str, datetime]]:
    """(call_sid, caller, missed_at) of calls abandoned in the queue that want a return call."""
    handled = select(m.CallbackRequest.source_call_sid).where(
        m.CallbackRequest.source_call_sid.is_not(None)
    )
    rows = s.execute(
        select(Call.call_sid, Call.caller, Call.ended_at).where(
            Call.needs_return_call.is_(True),
            Call.ended_at >= since,
            Call.caller.is_not(None),
            Call.call_sid.not_in(handled),
        )
    ).all()
    return [(sid, caller, m.aware(ended)) for sid, caller, ended in rows]


class CallbackScheduler:
    def __init__(self, app, holder: str | None = None, port=None):
        self.app = app
        self.db = get_db(app)
        self.policy = Policy.from_config(app.config)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.port = port or make_port(app.config)
        self.dispatcher = Dispatcher(
            self.db,
            self.port,
            self.policy,
            app.config["PUBLIC_BASE_URL"],
            holder=self.holder,
            agent_reached=agent_reached,
            has_entry=self._has_entry,
        )
        self.lease = Lease(self.db, self.holder, value(app.config, "CALLBACK_LEASE_SECONDS"))
        self.stop_event = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self._lease_until = 0.0
        self._waiting_for: str | None = None  # the holder this standby last reported
        self._tts_queue: queue.Queue = queue.Queue()
        self._tts_thread: threading.Thread | None = None
        self._flows: FlowRegistry | None = None

    # -- leadership -------------------------------------------------------------------
    def is_leader(self) -> bool:
        return self.scheduler is not None and time.monotonic() < self._lease_until

    def _renew(self) -> bool:
        start = time.monotonic()
        try:
            held = self.lease.acquire()
        except Exception:  # database briefly unreachable: treat as not renewed
            log.exception("lease renewal failed")
            held = False
        if held:
            # Count from before the UPDATE: we never believe we lead longer than the row says.
            self._lease_until = start + self.lease.ttl.total_seconds()
        return held

    def run(self) -> None:
        """Standby until the lease is ours; lead until it is lost or we are told to stop."""
        self.stopper = StopOnSignal(self.stop_event)
        poll = max(1.0, self.lease.ttl.total_seconds() / 3)
        log.info("callback scheduler %s starting (standby until it holds the lease)", self.holder)
        try:
            while not self.stop_event.is_set():
                if self._renew():
                    if self.scheduler is None:
                        self._lead()
                elif self.scheduler is not None:
                    log.warning("lease lost: %s stops scheduling", self.holder)
                    self._stand_down()
                else:
                    self._note_standby()
                self.stop_event.wait(poll)
        finally:
            self._stand_down()
            try:
                self.lease.release()
            except Exception:
                log.exception("lease release failed")
            self.port.close()

    def _note_standby(self) -> None:
        """Say whom this standby waits for, once per holder (not at every poll)."""
        try:
            holder, expires = self.lease.current()
        except Exception:  # the failed renewal has logged why
            return
        if holder != self._waiting_for:
            self._waiting_for = holder
            log.info(
                "callback scheduler %s on standby: the lease is held by %s until %s",
                self.holder,
                holder,
                m.aware(expires),
            )

    def _lead(self) -> None:
        log.info("callback scheduler %s is active", self.holder)
        jobs.RUNTIME.db, jobs.RUNTIME.dispatcher, jobs.RUNTIME.scheduler = (
            self.db,
            self.dispatcher,
            self,
        )
        self.dispatcher.reconcile()
        self.scheduler = self.build_scheduler()
        self.scheduler.start()

    def _stand_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self.dispatcher.close()

    def build_scheduler(self) -> BackgroundScheduler:
        sched = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.db.engine, tablename=JOB_TABLE),
                "local": MemoryJobStore(),
            },
            executors={"default": ThreadPoolExecutor(4)},
            # Late jobs still run, once: they only mark an attempt due (see module doc).
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone="UTC",
        )
        sched.add_job(
            jobs.sync,
            "interval",
            seconds=SYNC_SECONDS,
            id="sync",
            jobstore="local",
            next_run_time=utcnow(),
        )
        sched.add_job(
            jobs.dispatch, "interval", seconds=DISPATCH_SECONDS, id="dispatch", jobstore="local"
        )
        sched.add_job(
            jobs.purge_expired_media,
            "interval",
            hours=RETENTION_INTERVAL_HOURS,
            id="retention",
            jobstore="local",
        )
        return sched

    # -- sync job ------------------------------------------------------------------------
    def sync(self) -> int:
        """Add a job for every scheduled attempt that has none; returns how many."""
        added = 0
        self._sync_missed_calls()
        while not self.stop_event.is_set():
            # Read, then add jobs, then record them: no transaction of ours stays open while
            # the job store writes (SQLite allows one writer at a time).
            with self.db.session() as s:
                attempts = s.scalars(
                    select(m.CallbackAttempt)
                    .options(joinedload(m.CallbackAttempt.request))
                    .where(
                        m.CallbackAttempt.state == m.SCHEDULED, m.CallbackAttempt.job_id.is_(None)
                    )
                    .order_by(m.CallbackAttempt.due_at)
                    .limit(SYNC_BATCH)
                ).all()
                batch = [
                    (a.id, service.job_id_for(a.request, a.attempt_no), m.aware(a.due_at))
                    for a in attempts
                ]
                values = [
                    ticketing.call_values(a.request)
                    for a in attempts
                    if a.request.kind == m.SATISFACTION
                ]
            self._presynthesize(self._survey_texts(values))
            for attempt_id, job_id, due_at in batch:
                self.scheduler.add_job(
                    jobs.attempt_due,
                    "date",
                    run_date=due_at,
                    args=[attempt_id],
                    id=job_id,
                    replace_existing=True,
                )
            if batch:
                with self.db.session() as s:
                    s.execute(
                        update(m.CallbackAttempt), [{"id": a, "job_id": j} for a, j, _ in batch]
                    )
            added += len(batch)
            if len(batch) < SYNC_BATCH:
                break
        return added

    def _flow(self) -> Flow | None:
        """The flow new calls start on (None while no valid one is loaded: the web workers
        and /healthz say why)."""
        if self._flows is None:
            self._flows = FlowRegistry(self.app.config["FLOWS_PATH"])
        try:
            return self._flows.latest()
        except FlowUnavailable:
            return None

    def _has_entry(self, entry: str) -> bool:
        flow = self._flow()
        return flow is not None and entry in flow.entries

    def _survey_texts(self, values: list[dict[str, str]]) -> list[tuple[str, str]]:
        """The personal sentences of these surveys, as the flow's prompts say them."""
        if not values or self.app.extensions.get("prompt_presynthesize") is None:
            return []
        flow = self._flow()
        return [text for v in values for text in flow.texts_with(v)] if flow else []

    def _presynthesize(self, texts: list[tuple[str, str]]) -> None:
        """Warm the prompt cache (shared with the web workers) long before the call.

        One thread of ours does it, in order; speech's own background mode only starts in
        processes that serve call audio, which this one does not.
        """
        presynthesize = self.app.extensions.get("prompt_presynthesize")
        if presynthesize is None or not texts:
            return
        if self._tts_thread is None or not self._tts_thread.is_alive():

            def work() -> None:
                while True:
                    batch = self._tts_queue.get()
                    try:
                        presynthesize(batch, background=False)
                    except Exception:  # an optimisation: the webhook synthesizes or <Say>s
                        log.exception("presynthesis of survey prompts failed")

            self._tts_thread = threading.Thread(target=work, name="survey-tts", daemon=True)
            self._tts_thread.start()
        self._tts_queue.put(list(dict.fromkeys(texts)))

    def _sync_missed_calls(self) -> None:
        now = utcnow()
        with self.db.session() as s:
            for sid, caller, missed_at in missed_calls(s, now - self.policy.return_call_within):
                service.request_return_call(
                    s, call_sid=sid, number=caller, missed_at=missed_at, now=now, policy=self.policy
                )
