"""Distribution: offer each waiting caller to the longest-idle available agent.

A tick (every DISPATCH_INTERVAL_SECONDS) *claims* pairs and then dials the agent's
device through the telephony port. A claim is one short transaction: the oldest
waiting caller of a queue that has an available agent, and that queue's agent
idle the longest; the agent moves `available -> offered` and the caller
`waiting -> offered` with conditional UPDATEs (on the agent's version and the
caller's state). Every transaction that moves offers between callers or ends them
(claims, bridges, the agent leg's status) is serialised by `begin_write` (SQLite's
write lock; a PostgreSQL advisory lock), and the conditional UPDATEs guard what
callers leaving, the desk and the API change beside it: several dispatcher processes (a standby, one per
host) never offer one agent twice or one caller to two agents.

Only after the claim commits is the agent's phone rung, with a ring timeout of
AGENT_RING_SECONDS; no answer, busy or failed puts the agent on `break` ("not
responding") and the caller back in line for the next agent. An offer that gets
no final status (a lost callback) is given up the same way after the ring time
plus a grace. A caller who leaves the queue while the agent's phone rings marks
the offer `canceling`; the next tick hangs the agent leg up and frees the agent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from agents import models as m
from agents.presence import NOT_RESPONDING, SYSTEM, change_status
from core.db import Database, utcnow
from telephony.base import OutgoingCall, TelephonyError, TelephonyPort

log = logging.getLogger(__name__)

DISPATCH_INTERVAL_SECONDS = 0.25
# An offer still ringing this long after the ring timeout lost its status callback.
LOST_CALLBACK_GRACE = timedelta(seconds=10)
# A bridged call this long with no end reported lost its status callback (12345 calls last
# minutes; the longest consultations well under an hour).
LOST_TALK = timedelta(hours=4)
LOST_END = "end-not-reported"
MAX_CLAIMS_PER_TICK = 50
AGENTS_LOCK_KEY = 0x1234_5A6E  # PostgreSQL advisory lock of the agents' queue state
PLACE_THREADS = 4  # REST requests to the provider in flight at once
CANCELING = "canceling"
CALLER_LEFT = "caller-left"
UNREACHABLE = "device unreachable"

ANSWER_PATH = "/agents/leg/answer"
STATUS_PATH = "/agents/leg/status"


def begin_write(s: Session) -> None:
    """Serialise this transaction with every other change to offers and queue stays.

    A claim, a bridge (which may swap two offers' callers) and an agent leg's end each
    read several rows and write others; two at once on stale reads could leave a caller
    offered to nobody or bridged twice. SQLite: take the write lock before reading (it
    would otherwise fail the later write with 'database is locked' instead of waiting).
    PostgreSQL: a transaction-scoped advisory lock. Each holder runs milliseconds."""
    if s.get_bind().dialect.name == "sqlite":
        s.connection().exec_driver_sql("BEGIN IMMEDIATE")
    else:
        lock_agents(s)


def lock_agents(s: Session) -> None:
    """The same lock inside a transaction already under way (a caller's webhook turn,
    which on SQLite holds the write lock already)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AGENTS_LOCK_KEY})


@dataclass
class Claim:
    offer_id: int
    queue_call_id: int
    call_sid: str
    queue: str
    agent: str
    device: str
    # When the pair became possible: the caller entered the queue or the agent became
    # free, whichever came later; seconds from then to the decision, and to the agent's
    # phone being rung (the provider accepted the call).
    ready: datetime | None = None
    decided_after: float = 0.0
    offered_after: float | None = None


@dataclass
class TickReport:
    offered: list[Claim] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    not_responding: list[str] = field(default_factory=list)
    canceled: list[str] = field(default_factory=list)
    wrapped_up: list[str] = field(default_factory=list)
    lost_talks: list[str] = field(default_factory=list)


# The oldest waiting caller of a queue that has an available agent, with that queue's
# agent idle the longest.
_NEXT_PAIR = (
    select(m.QueueCall, m.Agent)
    .join(m.AgentQueue, m.AgentQueue.queue == m.QueueCall.queue)
    .join(m.Agent, m.Agent.id == m.AgentQueue.agent_id)
    .where(
        m.QueueCall.state == m.WAITING,
        m.Agent.status == m.AVAILABLE,
        m.Agent.device.is_not(None),
    )
    .order_by(
        m.QueueCall.entered_at,
        m.QueueCall.id,
        func.coalesce(m.Agent.idle_since, m.Agent.status_since),
        m.Agent.id,
    )
    .limit(1)
)


class Distributor:
    def __init__(
        self,
        db: Database,
        port: TelephonyPort,
        *,
        base_url: str,
        ring_seconds: int = 20,
        caller_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.db, self.port = db, port
        self.base_url = base_url.rstrip("/")
        self.ring_seconds = ring_seconds
        self.caller_id = caller_id
        self.clock = clock

    def run_until(self, stopping: threading.Event, interval=DISPATCH_INTERVAL_SECONDS) -> None:
        """Tick every `interval` seconds until `stopping` is set."""
        while not stopping.is_set():
            try:
                self.tick()
            except Exception:  # a bad tick must not stop distribution; the next one retries
                log.exception("agent distribution tick failed")
            stopping.wait(interval)

    # -- one pass ----------------------------------------------------------------
    def tick(self) -> TickReport:
        report = TickReport()
        self.finish_wrap_ups(report)
        self.cancel_left(report)
        self.give_up_silent(report)
        claims = self.claim_batch(MAX_CLAIMS_PER_TICK)
        if len(claims) > 1:  # several agents' phones at once: REST latency must not add up
            with futures.ThreadPoolExecutor(PLACE_THREADS, "agents-place") as pool:
                list(pool.map(lambda c: self.place(c, report), claims))
        elif claims:
            self.place(claims[0], report)
        return report

    def claim(self) -> Claim | None:
        """Pair the oldest waiting caller with the longest-idle agent of its queue."""
        found = self.claim_batch(1)
        return found[0] if found else None

    def claim_batch(self, limit: int) -> list[Claim]:
        """Up to `limit` pairs, decided in one transaction (one lock, one commit)."""
        now = self.clock()
        claims: list[Claim] = []
        with self.db.session() as s:
            begin_write(s)
            for _ in range(limit):
                row = s.execute(_NEXT_PAIR).first()
                if row is None:
                    break
                qc, agent = row
                with s.begin_nested() as pair:
                    if not change_status(
                        s, agent, m.OFFERED, actor=SYSTEM, now=now, expect=(m.AVAILABLE,)
                    ):
                        pair.rollback()
                        break  # changed by the desk or the API meanwhile: next tick decides
                    taken = s.execute(
                        update(m.QueueCall)
                        .where(m.QueueCall.id == qc.id, m.QueueCall.state == m.WAITING)
                        .values(
                            state=m.OFFERING,
                            offers=m.QueueCall.offers + 1,
                            first_offered_at=func.coalesce(m.QueueCall.first_offered_at, now),
                        )
                        .execution_options(synchronize_session=False)
                    )
                    if taken.rowcount != 1:  # the caller left meanwhile
                        pair.rollback()
                        break
                    offer = m.Offer(
                        queue_call_id=qc.id, agent_id=agent.id, state=m.PLACING, created_at=now
                    )
                    s.add(offer)
                    s.flush()
                ready = max(m.aware(qc.entered_at), m.aware(agent.idle_since) or now)
                claims.append(
                    Claim(
                        offer.id,
                        qc.id,
                        qc.call_sid,
                        qc.queue,
                        agent.username,
                        agent.device,
                        ready=ready,
                        decided_after=max(0.0, (now - ready).total_seconds()),
                    )
                )
        return claims

    def place(self, claim: Claim, report: TickReport) -> None:
        """Ring the agent's device; on failure put the caller back and the agent aside."""
        try:
            placed = self.port.place_call(
                OutgoingCall(
                    to=claim.device,
                    url=f"{self.base_url}{ANSWER_PATH}?offer={claim.offer_id}",
                    status_callback=f"{self.base_url}{STATUS_PATH}?offer={claim.offer_id}",
                    from_=self.caller_id,
                    machine_detection=False,
                    timeout=self.ring_seconds,
                )
            )
        except TelephonyError as exc:
            log.warning("offer %s to %s failed: %s", claim.offer_id, claim.agent, exc)
            report.failed[claim.offer_id] = str(exc)
            with self.db.session() as s:
                begin_write(s)
                offer = s.get(m.Offer, claim.offer_id)
                end_offer(
                    s,
                    offer,
                    "rest-error",
                    agent_to=m.AVAILABLE if exc.transient else m.BREAK,
                    reason=None if exc.transient else UNREACHABLE,
                    now=self.clock(),
                )
            return
        with self.db.session() as s:
            begin_write(s)
            offer = s.get(m.Offer, claim.offer_id)
            offer.leg_sid = placed.sid
            if offer.state == m.PLACING:
                offer.state = m.RINGING
            cancel = offer.state == CANCELING
        if claim.ready is not None:
            claim.offered_after = (self.clock() - claim.ready).total_seconds()
        report.offered.append(claim)
        log.info(
            "caller %s in %s offered to %s (leg %s)",
            claim.call_sid,
            claim.queue,
            claim.agent,
            placed.sid,
        )
        if cancel:  # the caller left while we were dialling
            self._hang_up(claim.offer_id, report)

    # -- housekeeping ------------------------------------------------------------
    def finish_wrap_ups(self, report: TickReport) -> None:
        now = self.clock()
        due = select(m.Agent).where(m.Agent.status == m.WRAP_UP, m.Agent.wrap_up_until <= now)
        with self.db.session() as s:
            if s.scalars(due).first() is None:
                return  # every tick: look without taking the agents' lock
        with self.db.session() as s:
            begin_write(s)
            for agent in s.scalars(due).all():
                if change_status(s, agent, m.AVAILABLE, actor=SYSTEM, now=now, expect=(m.WRAP_UP,)):
                    report.wrapped_up.append(agent.username)

    def cancel_left(self, report: TickReport) -> None:
        """Hang up agent legs still ringing for callers who have left."""
        with self.db.session() as s:
            ids = s.scalars(
                select(m.Offer.id).where(m.Offer.state == CANCELING, m.Offer.leg_sid.is_not(None))
            ).all()
        for offer_id in ids:
            self._hang_up(offer_id, report)

    def _hang_up(self, offer_id: int, report: TickReport) -> None:
        with self.db.session() as s:
            offer = s.get(m.Offer, offer_id)
            sid = offer.leg_sid if offer is not None and offer.state == CANCELING else None
        if sid is None:
            return
        try:
            self.port.hang_up(sid)
        except TelephonyError as exc:
            # Already ended (answered and hung up, or never rang): its status settles it.
            log.info("could not cancel agent leg %s: %s", sid, exc)
        with self.db.session() as s:
            begin_write(s)
            offer = s.get(m.Offer, offer_id)
            if offer.state == CANCELING:
                end_offer(s, offer, CALLER_LEFT, agent_to=m.AVAILABLE, now=self.clock())
                report.canceled.append(offer.agent.username)

    def give_up_silent(self, report: TickReport) -> None:
        """Offers ringing past the ring time plus a grace: the callback was lost."""
        now = self.clock()
        cutoff = now - timedelta(seconds=self.ring_seconds) - LOST_CALLBACK_GRACE
        with self.db.session() as s:
            stale = s.scalars(
                select(m.Offer.id).where(
                    m.Offer.state.in_((m.PLACING, m.RINGING)), m.Offer.created_at < cutoff
                )
            ).all()
        for offer_id in stale:
            with self.db.session() as s:
                begin_write(s)
                offer = s.get(m.Offer, offer_id)
                if offer.state not in (m.PLACING, m.RINGING):
                    continue
                sid = offer.leg_sid
                end_offer(s, offer, "no-answer", agent_to=m.BREAK, reason=NOT_RESPONDING, now=now)
                report.not_responding.append(offer.agent.username)
            if sid:
                try:
                    self.port.hang_up(sid)
                except TelephonyError as exc:
                    log.info("could not cancel silent agent leg %s: %s", sid, exc)
        self.close_lost_talks(report, now)

    def close_lost_talks(self, report: TickReport, now: datetime) -> None:
        """A bridged call whose end was never reported keeps its agent on_call for good:
        after LOST_TALK the agent is freed (talk time unknown; the record says so)."""
        lost_ones = select(m.Offer).where(
            m.Offer.state == m.BRIDGED, m.Offer.bridged_at < now - LOST_TALK
        )
        with self.db.session() as s:
            if s.scalars(lost_ones).first() is None:
                return  # every tick: look without taking the agents' lock
        with self.db.session() as s:
            begin_write(s)
            for offer in s.scalars(lost_ones).all():
                offer.state, offer.result, offer.ended_at = m.ENDED, LOST_END, now
                offer.queue_call.ended_at = now
                change_status(
                    s, offer.agent, m.AVAILABLE, actor=SYSTEM, now=now, expect=(m.ON_CALL,)
                )
                report.lost_talks.append(offer.agent.username)


def end_offer(
    s: Session,
    offer: m.Offer,
    result: str,
    *,
    agent_to: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Close an offer that was not bridged: the agent moves on, the caller waits again."""
    now = now or utcnow()
    offer.state, offer.result, offer.ended_at = m.ENDED, result, now
    change_status(
        s, offer.agent, agent_to, actor=SYSTEM, reason=reason, now=now, expect=(m.OFFERED,)
    )
    s.execute(
        update(m.QueueCall)
        .where(m.QueueCall.id == offer.queue_call_id, m.QueueCall.state == m.OFFERING)
        .values(state=m.WAITING)
        .execution_options(synchronize_session=False)
    )
