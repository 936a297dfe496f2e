"""Places due attempts at the allowed pace: the only code that dials out.

Runs in the scheduler process that holds the lease. Each tick takes attempts
marked due (by their APScheduler jobs) from our own table, oldest first, and
for each: checks the pause switch, window, do-not-call list and per-number
rules, *claims* the row (committed) and only then asks the port to dial. A
crash after the claim leaves a claimed row that `reconcile` resolves on start
by asking the provider whether that call exists: nothing is called twice,
nothing is forgotten. After downtime the backlog drains at CPS pace, inside
the window — never as a burst.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update

from callbacks import models as m
from callbacks import service
from callbacks.policy import Policy
from callbacks.ratelimit import CallRateLimiter
from core.db import Database, utcnow
from core.privacy import mask_number
from telephony.base import OutgoingCall, PlacedCall, TelephonyError, TelephonyPort
from tickets.models import Ticket

log = logging.getLogger(__name__)

TICK_BUDGET_SECONDS = 0.9
DIAL_THREADS = 4  # REST requests to the provider in flight at once     # a tick stops dialling after this; the next one carries on
CLOCK_SKEW = timedelta(seconds=5)  # provider clock vs ours when matching a claimed call
TRANSIENT_RETRY = timedelta(minutes=1)
# A placed call with no final status after this long lost its status callback: count it
# as failed (and retry) rather than holding a concurrency slot and its number forever.
STALE_CALL = timedelta(hours=2)
RINGING_STATUSES = (None, "queued", "initiated", "ringing")
# A request that got no answer (timeout) may still have created the call: before dialling
# that attempt again, look for a call to the number in this window (see _placed_before).
UNKNOWN_OUTCOME = "no answer from the provider: "
UNKNOWN_OUTCOME_WINDOW = timedelta(minutes=1)


@dataclass
class TickReport:
    placed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    reason: str | None = None


def _ticket_still_resolved(s, ticket_id: int | None) -> bool:
    """False when the ticket has moved on (e.g. an agent reopened it): the survey is stale."""
    status = s.scalar(select(Ticket.status).where(Ticket.id == ticket_id)) if ticket_id else None
    return status is None or status == "resolved"


class Dispatcher:
    def __init__(
        self,
        db: Database,
        port: TelephonyPort,
        policy: Policy,
        base_url: str,
        holder: str = "scheduler",
        clock: Callable[[], datetime] = utcnow,
        limiter: CallRateLimiter | None = None,
        agent_reached: Callable[[object, str, datetime], bool] | None = None,
        has_entry: Callable[[str], bool] | None = None,
    ):
        self.db, self.port, self.policy = db, port, policy
        self.base_url = base_url.rstrip("/")
        self.holder = holder
        # SQLite keeps wall-clock values without their zone: store UTC only.
        self.clock = lambda: clock().astimezone(UTC)
        self.limiter = limiter or CallRateLimiter(policy.cps)
        self.agent_reached = agent_reached or (lambda s, number, since: False)
        # Whether the flow can run a kind of call (flow.entries): no entry, no dialling.
        self.has_entry = has_entry or (lambda entry: True)
        self._pool: futures.ThreadPoolExecutor | None = None

    # -- one pass --------------------------------------------------------------------
    def tick(self, budget: float = TICK_BUDGET_SECONDS) -> TickReport:
        report = TickReport()
        now = self.clock()
        with self.db.session() as s:
            if service.is_paused(s):
                report.reason = "paused"
                ringing = s.scalars(
                    select(m.CallbackAttempt.call_sid).where(
                        m.CallbackAttempt.state == m.PLACED,
                        m.CallbackAttempt.outcome.is_(None),
                        m.CallbackAttempt.call_sid.is_not(None),
                        or_(
                            m.CallbackAttempt.status.is_(None),
                            m.CallbackAttempt.status.in_(RINGING_STATUSES[1:]),
                        ),
                    )
                ).all()
        if report.reason == "paused":
            self._cancel_ringing(ringing)
            return report
        with self.db.session() as s:
            if not self.policy.may_call_at(now):
                report.reason = "outside the calling window"
                return report
            busy_numbers = set(
                s.scalars(
                    select(m.CallbackAttempt.number).where(
                        m.CallbackAttempt.state.in_(m.IN_FLIGHT_STATES)
                    )
                )
            )
            free = self.policy.max_concurrent - s.scalar(
                select(func.count())
                .select_from(m.CallbackAttempt)
                .where(m.CallbackAttempt.state.in_(m.IN_FLIGHT_STATES))
            )
            if free <= 0:
                report.reason = "at the concurrency cap"
                return report
            due = s.scalars(
                select(m.CallbackAttempt.id)
                .where(m.CallbackAttempt.state == m.DUE, m.CallbackAttempt.due_at <= now)
                .order_by(m.CallbackAttempt.due_at, m.CallbackAttempt.id)
                .limit(free + len(busy_numbers) + 50)
            ).all()
        deadline = time.monotonic() + budget
        dials, claimed = [], 0
        for attempt_id in due:
            # Stop within the tick's budget, so the next tick never finds this one running.
            if claimed >= free or time.monotonic() >= deadline:
                break
            outcome = self._dispatch_one(attempt_id, busy_numbers, report, deadline)
            if outcome == "out of time":
                break
            if outcome is not None:
                claimed += 1
                # Dialling overlaps (DIAL_THREADS) so the provider's latency does not cap CPS.
                dials.append(self._dialler().submit(self._place, *outcome, report))
        futures.wait(dials)
        for dial in dials:
            if dial.exception() is not None:  # a database error after dialling: say so
                log.error("dialling failed", exc_info=dial.exception())
        report.placed.sort()
        return report

    def _dialler(self) -> futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = futures.ThreadPoolExecutor(DIAL_THREADS, thread_name_prefix="dial")
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _dispatch_one(
        self, attempt_id: int, busy_numbers: set[str], report: TickReport, deadline: float
    ):
        """Check and claim one due attempt: (attempt_id, call, slot) to dial, None, or
        "out of time" when the CPS limit would hold it past the tick's budget."""
        now = self.clock()
        with self.db.session() as s:
            attempt = s.get(m.CallbackAttempt, attempt_id)
            if attempt is None or attempt.state != m.DUE:
                return None
            entry = m.ENTRIES[attempt.request.kind]
            if not self.has_entry(entry):  # kept due: it is dialled once the flow has one
                report.skipped[attempt_id] = f"the flow has no '{entry}' entry"
                return None
            why_not = self._why_not(s, attempt, busy_numbers, now)
            if why_not == "busy":
                report.skipped[attempt_id] = "number already in a call"
                return None
            if why_not:
                service.finish_attempt(
                    s, attempt, now=now, policy=self.policy, outcome="skipped", error=why_not
                )
                report.skipped[attempt_id] = why_not
                return None
            call = self.outgoing(attempt)
            number = attempt.number
        slot = self.limiter.acquire(deadline=deadline - time.monotonic() + self.limiter.clock())
        if slot is None:
            return "out of time"
        with self.db.session() as s:
            claimed = s.execute(
                update(m.CallbackAttempt)
                .where(m.CallbackAttempt.id == attempt_id, m.CallbackAttempt.state == m.DUE)
                .values(state=m.CLAIMED, claimed_by=self.holder, claimed_at=self.clock())
            ).rowcount
        if claimed != 1:
            self.limiter.done(slot)
            return None
        busy_numbers.add(number)
        # The claim is committed before dialling: see the module docstring.
        return attempt_id, call, slot

    def _why_not(
        self, s, attempt: m.CallbackAttempt, busy_numbers: set[str], now: datetime
    ) -> str | None:
        req = attempt.request
        if req.state != m.PENDING:
            return f"request {req.state}"
        if service.is_do_not_call(s, attempt.number):
            return "number on the do-not-call list"
        if attempt.number in busy_numbers:
            return "busy"
        if req.kind == m.SATISFACTION and not _ticket_still_resolved(s, req.ticket_id):
            return "ticket no longer resolved"
        if req.kind == m.RETURN_CALL:
            if req.deadline is not None and now > m.aware(req.deadline):
                return "too late for a return call"
            missed_at = datetime.fromisoformat(req.script.get("missed_at", now.isoformat()))
            if self.agent_reached(s, attempt.number, missed_at):
                return "caller has since reached an agent"
            if self._return_called_today(s, attempt, now):
                return "already called back today"
        return None

    def _return_called_today(self, s, attempt: m.CallbackAttempt, now: datetime) -> bool:
        zone = ZoneInfo(self.policy.timezone)
        local = now.astimezone(zone)
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        return (
            s.scalar(
                select(func.count())
                .select_from(m.CallbackAttempt)
                .join(m.CallbackRequest)
                .where(
                    m.CallbackRequest.kind == m.RETURN_CALL,
                    m.CallbackAttempt.number == attempt.number,
                    m.CallbackAttempt.id != attempt.id,
                    m.CallbackAttempt.placed_at >= day_start,
                )
            )
            > 0
        )

    def outgoing(self, attempt: m.CallbackAttempt) -> OutgoingCall:
        return OutgoingCall(
            to=attempt.number,
            url=f"{self.base_url}/callbacks/voice/{attempt.id}",
            status_callback=f"{self.base_url}/callbacks/status/{attempt.id}",
            machine_detection=True,
        )

    def _place(self, attempt_id: int, call: OutgoingCall, slot, report: TickReport) -> None:
        try:
            placed = self._placed_before(attempt_id) or self.port.place_call(call)
        except TelephonyError as exc:
            self.limiter.done(slot)
            log.warning(
                "call to %s for attempt %s not placed: %s", mask_number(call.to), attempt_id, exc
            )
            with self.db.session() as s:
                attempt = s.get(m.CallbackAttempt, attempt_id)
                if exc.transient:
                    # The provider did not take the call: dial again shortly, same attempt.
                    attempt.state, attempt.claimed_at = m.DUE, None
                    attempt.due_at = self.clock() + TRANSIENT_RETRY
                    attempt.error = str(exc)
                    if exc.status is None:
                        # No answer at all (timeout): the provider may have taken the call.
                        attempt.error = UNKNOWN_OUTCOME + str(exc)
                else:
                    service.finish_attempt(
                        s,
                        attempt,
                        now=self.clock(),
                        policy=self.policy,
                        outcome="rejected",
                        error=str(exc),
                    )
            report.failed[attempt_id] = str(exc)
            return
        self.limiter.done(slot)
        with self.db.session() as s:
            s.execute(
                update(m.CallbackAttempt)
                .where(m.CallbackAttempt.id == attempt_id, m.CallbackAttempt.state == m.CLAIMED)
                .values(state=m.PLACED, placed_at=self.clock())
            )
            # A status callback may already have stored the sid; keep whichever came first.
            s.execute(
                update(m.CallbackAttempt)
                .where(m.CallbackAttempt.id == attempt_id, m.CallbackAttempt.call_sid.is_(None))
                .values(call_sid=placed.sid, status=placed.status)
            )
        report.placed.append(attempt_id)

    def _placed_before(self, attempt_id: int) -> PlacedCall | None:
        """After a request with no answer, the call the provider took anyway, if any."""
        with self.db.session() as s:
            attempt = s.get(m.CallbackAttempt, attempt_id)
            if not (attempt.error or "").startswith(UNKNOWN_OUTCOME):
                return None
            # due_at was set TRANSIENT_RETRY after the failed request; that request was sent
            # at most UNKNOWN_OUTCOME_WINDOW before it failed.
            since = m.aware(attempt.due_at) - TRANSIENT_RETRY - UNKNOWN_OUTCOME_WINDOW
            number = attempt.number
        found = self.port.calls_to(number, since)
        if found:
            log.warning(
                "attempt %s: the call whose request timed out was placed; adopting it", attempt_id
            )
        return min(found, key=lambda c: c.created_at or since) if found else None

    def _cancel_ringing(self, sids: list[str]) -> None:
        """Pause: calls still ringing are cancelled at once (answered ones finish)."""
        for sid in sids:
            try:
                self.port.hang_up(sid)
            except TelephonyError as exc:
                log.warning("could not cancel call %s: %s", sid, exc)
                continue
            with self.db.session() as s:
                # Marked so the next tick does not cancel it again; the final status
                # callback (canceled) closes the attempt.
                s.execute(
                    update(m.CallbackAttempt)
                    .where(m.CallbackAttempt.call_sid == sid)
                    .values(outcome="cancel_requested")
                )

    def reap_stale(self) -> int:
        """Close placed attempts whose final status never arrived (see STALE_CALL)."""
        cutoff = self.clock() - STALE_CALL
        with self.db.session() as s:
            stale = s.scalars(
                select(m.CallbackAttempt).where(
                    m.CallbackAttempt.state == m.PLACED, m.CallbackAttempt.placed_at < cutoff
                )
            ).all()
            for attempt in stale:
                service.finish_attempt(
                    s,
                    attempt,
                    now=self.clock(),
                    policy=self.policy,
                    outcome="failed",
                    error="no final status from the provider",
                )
        return len(stale)

    # -- after a crash ---------------------------------------------------------------
    def reconcile(self, *, others_only: bool = False) -> dict[str, int]:
        """Resolve attempts claimed by a process that died before recording its call.

        At start every claim is a predecessor's; later (`others_only`, periodically, for
        claims that could not be resolved at start) this process's own are left alone.
        """
        counts = {"adopted": 0, "released": 0, "unresolved": 0}
        with self.db.session() as s:
            query = select(m.CallbackAttempt).where(m.CallbackAttempt.state == m.CLAIMED)
            if others_only:
                query = query.where(m.CallbackAttempt.claimed_by != self.holder)
            claimed = s.scalars(query).all()
            for attempt in claimed:
                if attempt.call_sid:
                    attempt.state = m.PLACED
                    attempt.placed_at = attempt.placed_at or attempt.claimed_at
                    counts["adopted"] += 1
                    continue
                since = m.aware(attempt.claimed_at) - CLOCK_SKEW
                try:
                    found = self.port.calls_to(attempt.number, since)
                except TelephonyError as exc:
                    log.warning("cannot reconcile attempt %s yet: %s", attempt.id, exc)
                    counts["unresolved"] += 1
                    continue
                if found:
                    # One number is never in two calls at once, so a call to it after our
                    # claim is this attempt's call.
                    first = min(found, key=lambda c: c.created_at or since)
                    attempt.state, attempt.call_sid = m.PLACED, first.sid
                    attempt.status, attempt.placed_at = first.status, attempt.claimed_at
                    counts["adopted"] += 1
                else:
                    attempt.state, attempt.claimed_at, attempt.claimed_by = m.DUE, None, None
                    counts["released"] += 1
        if any(counts.values()):
            log.info("reconciled claimed attempts: %s", counts)
        return counts
