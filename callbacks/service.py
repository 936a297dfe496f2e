"""Requests for follow-up calls and what happens when an attempt ends.

Listens to tickets' `ticket_resolved` signal (in the resolving transaction), is
called by the scheduler for missed callers, and by the callback webhooks. Only writes rows:
placing calls is the dispatcher's job, in the scheduler process.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from callbacks import models as m
from callbacks import ticketing
from callbacks.policy import RETRY_OUTCOMES, Policy
from core.db import utcnow
from core.privacy import mask_number
from tickets.signals import ticket_resolved

log = logging.getLogger(__name__)


def clock_now() -> datetime:
    """Now, from the app's clock when one is installed (app.extensions['callbacks_clock'])."""
    from flask import current_app, has_app_context

    if has_app_context():
        clock = current_app.extensions.get("callbacks_clock")
        if clock is not None:
            return clock().astimezone(UTC)
    return utcnow()


def current_policy() -> Policy:
    from flask import current_app

    return Policy.from_config(current_app.config)


def job_id_for(req: m.CallbackRequest, attempt_no: int) -> str:
    """Deterministic APScheduler job id: (ticket, kind, attempt) plus the resolution."""
    if req.kind == m.SATISFACTION:
        return f"satisfaction:t{req.ticket_id}:r{req.resolution_no}:a{attempt_no}"
    return f"return_call:{req.source_call_sid}:a{attempt_no}"


def is_do_not_call(s: Session, number: str) -> bool:
    return s.scalar(select(m.DoNotCall.id).where(m.DoNotCall.number == number)) is not None


def request_satisfaction_callback(
    s: Session, ticket, *, now: datetime | None = None, policy: Policy | None = None
) -> m.CallbackRequest | None:
    """Persist a survey request for this resolution of `ticket`; the scheduler calls later.

    A later resolution supersedes the survey of an earlier one (only the last counts).
    """
    now = (now or clock_now()).astimezone(UTC)
    policy = policy or current_policy()
    number = getattr(ticket, "caller_number", None)
    earlier = s.scalars(
        select(m.CallbackRequest).where(
            m.CallbackRequest.kind == m.SATISFACTION, m.CallbackRequest.ticket_id == ticket.id
        )
    ).all()
    for old in earlier:
        old.counts = False
        if old.state == m.PENDING:
            _close_request(s, old, m.CANCELLED, now, note="superseded by a later resolution")
    if not number:
        log.info("ticket %s resolved without a caller number: no survey", ticket.id)
        return None
    resolution_no = max(
        [getattr(ticket, "resolution_count", 0) or 0]
        + [(r.resolution_no or 0) + 1 for r in earlier]
    )
    req = m.CallbackRequest(
        kind=m.SATISFACTION,
        ticket_id=ticket.id,
        resolution_no=max(resolution_no, 1),
        number=number,
        language=getattr(ticket, "language", None) or "zh-CN",
        script=ticketing.script_of(s, ticket),
        created_at=now,
    )
    s.add(req)
    if is_do_not_call(s, number):
        req.state, req.finished_at, req.note = m.SKIPPED, now, "number on the do-not-call list"
        s.flush()
        return req
    s.add(
        m.CallbackAttempt(
            request=req, attempt_no=1, number=number, due_at=policy.first_attempt_at(now)
        )
    )
    s.flush()
    log.info(
        "survey for ticket %s (%s) due %s",
        ticket.id,
        mask_number(number),
        req.attempts[0].due_at.isoformat(),
    )
    return req


@ticket_resolved.connect
def _on_ticket_resolved(ticket, *, session: Session) -> None:
    request_satisfaction_callback(session, ticket)


def request_return_call(
    s: Session,
    *,
    call_sid: str,
    number: str,
    missed_at: datetime,
    now: datetime | None = None,
    policy: Policy | None = None,
) -> m.CallbackRequest | None:
    """Persist a return call to a caller who hung up in the queue (once per missed call)."""
    now = (now or clock_now()).astimezone(UTC)
    missed_at = missed_at.astimezone(UTC)
    policy = policy or current_policy()
    if (
        s.scalar(select(m.CallbackRequest.id).where(m.CallbackRequest.source_call_sid == call_sid))
        is not None
    ):
        return None
    req = m.CallbackRequest(
        kind=m.RETURN_CALL,
        source_call_sid=call_sid,
        number=number,
        created_at=now,
        deadline=policy.return_call_deadline(missed_at),
        script={"missed_at": missed_at.isoformat()},
    )
    s.add(req)
    if is_do_not_call(s, number):
        req.state, req.finished_at, req.note = m.SKIPPED, now, "number on the do-not-call list"
    else:
        s.add(
            m.CallbackAttempt(
                request=req, attempt_no=1, number=number, due_at=policy.next_allowed(now)
            )
        )
    s.flush()
    return req


def _close_request(
    s: Session, req: m.CallbackRequest, state: str, now: datetime, note: str | None = None
) -> None:
    req.state, req.finished_at = state, now
    if note:
        req.note = note
    s.execute(
        update(m.CallbackAttempt)
        .where(
            m.CallbackAttempt.request_id == req.id,
            m.CallbackAttempt.state.in_((m.SCHEDULED, m.DUE)),
        )
        .values(state=m.FINISHED, outcome="cancelled", ended_at=now)
    )


def outcome_of(attempt: m.CallbackAttempt) -> str:
    """How an attempt ended, from Twilio's final status, AMD and what was heard."""
    if attempt.answered_by and attempt.answered_by.startswith(("machine", "fax")):
        return "machine"
    if attempt.status == "canceled" and attempt.outcome == "cancel_requested":
        return "paused"
    if attempt.status != "completed":
        return attempt.status or "failed"
    if attempt.outcome in ("answered", "opted_out", "enqueued"):
        return attempt.outcome
    if attempt.outcome == "unanswered" or attempt.silences:  # silences: older rows
        return "unanswered"
    return "hung_up"


def finish_attempt(
    s: Session,
    attempt: m.CallbackAttempt,
    *,
    now: datetime | None = None,
    policy: Policy | None = None,
    outcome: str | None = None,
    error: str | None = None,
) -> m.CallbackAttempt | None:
    """Close an attempt and schedule the next one if the policy allows; returns it."""
    now = (now or clock_now()).astimezone(UTC)
    if attempt.state == m.FINISHED:
        return None
    policy = policy or current_policy()
    attempt.outcome = outcome or outcome_of(attempt)
    attempt.state, attempt.ended_at = m.FINISHED, now
    if error:
        attempt.error = error
    req = attempt.request
    if req.state != m.PENDING:
        return None
    if attempt.outcome == "opted_out":
        _close_request(s, req, m.OPTED_OUT, now)
    elif attempt.outcome == "skipped":
        _close_request(s, req, m.SKIPPED, now, note=error)
    elif attempt.outcome in ("answered", "enqueued"):
        _close_request(s, req, m.DONE, now)
    elif attempt.outcome == "paused":
        # Cancelled by the pause switch before anyone answered: dial again once resumed
        # (an extra attempt row; the citizen was never reached).
        nxt = m.CallbackAttempt(
            request=req,
            attempt_no=attempt.attempt_no + 1,
            number=attempt.number,
            due_at=policy.next_allowed(now),
        )
        s.add(nxt)
        s.flush()
        return nxt
    elif attempt.outcome in RETRY_OUTCOMES:
        due = policy.retry_at(attempt.attempt_no, now)
        if req.deadline is not None and due is not None and due > req.deadline:
            due = None
        if due is None:
            _close_request(s, req, m.GAVE_UP, now, note=f"last attempt: {attempt.outcome}")
            ticketing.report_unreachable(s, req)
            return None
        nxt = m.CallbackAttempt(
            request=req, attempt_no=attempt.attempt_no + 1, number=attempt.number, due_at=due
        )
        s.add(nxt)
        s.flush()
        return nxt
    else:
        # Hung up before answering, cancelled, rejected: no survey result; the ticket
        # moves on as unreachable rather than waiting for an answer that will not come.
        _close_request(s, req, m.GAVE_UP, now, note=f"last attempt: {attempt.outcome}")
        ticketing.report_unreachable(s, req)
    return None


def add_do_not_call(
    s: Session,
    number: str,
    *,
    source: str,
    note: str | None = None,
    actor: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Put a number on the list and cancel its pending requests; False if already there."""
    now = (now or clock_now()).astimezone(UTC)
    if is_do_not_call(s, number):
        return False
    s.add(m.DoNotCall(number=number, source=source, note=note, created_by=actor, created_at=now))
    for req in s.scalars(
        select(m.CallbackRequest).where(
            m.CallbackRequest.number == number, m.CallbackRequest.state == m.PENDING
        )
    ):
        if not any(a.state in m.IN_FLIGHT_STATES for a in req.attempts):
            _close_request(s, req, m.SKIPPED, now, note="number on the do-not-call list")
    s.flush()
    log.info("%s added to the do-not-call list (%s)", mask_number(number), source)
    return True


def remove_do_not_call(s: Session, number: str) -> bool:
    row = s.scalar(select(m.DoNotCall).where(m.DoNotCall.number == number))
    if row is None:
        return False
    s.delete(row)
    return True


# -- the pause switch ------------------------------------------------------------------
PAUSE = "paused"


def is_paused(s: Session) -> bool:
    row = s.get(m.CallbackControl, PAUSE)
    return bool(row and row.flag)


def set_paused(
    s: Session, paused: bool, *, actor: str | None = None, now: datetime | None = None
) -> None:
    row = s.get(m.CallbackControl, PAUSE)
    if row is None:
        row = m.CallbackControl(name=PAUSE)
        s.add(row)
    row.flag, row.changed_by, row.changed_at = paused, actor, now or clock_now()
    log.warning("outgoing calls %s by %s", "paused" if paused else "resumed", actor or "-")


def satisfaction_figures(s: Session) -> dict[str, int]:
    """Counting surveys (the latest per ticket) by result."""
    rows = s.execute(
        select(m.CallbackRequest.result, func.count())
        .where(
            m.CallbackRequest.kind == m.SATISFACTION,
            m.CallbackRequest.counts.is_(True),
            m.CallbackRequest.result.is_not(None),
        )
        .group_by(m.CallbackRequest.result)
    ).all()
    return {result: count for result, count in rows}
