"""The ticket contract other packages call (see docs/ARCHITECTURE.md).

Every function takes an open session `s` and works inside the caller's
transaction: nothing here commits, so a webhook or API request that fails
half-way leaves nothing behind. Each change writes a TicketEvent (audit).
"""

from __future__ import annotations

import logging
from datetime import date

import phonenumbers
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.calendar import add_working_days
from core.db import utcnow
from core.privacy import mask_number
from speech.signals import transcript_ready
from tickets import classify, lifecycle, routing
from tickets.errors import TicketError, TicketNotFound, TransitionError, ValidationError
from tickets.lifecycle import audit
from tickets.models import CHANNELS, DEMAND_TYPES, SATISFACTION_RESULTS, Ticket
from tickets.numbering import format_number, next_sequence, spoken_digits
from tickets.settings import due_days, local_today
from tickets.signals import ticket_resolved

log = logging.getLogger(__name__)

DEFAULT_REGION = "CN"
# The survey after this many resolutions is final: not satisfied no longer reopens.
MAX_REOPEN_RESOLUTIONS = 2

__all__ = [
    "TicketError",
    "TicketNotFound",
    "ValidationError",
    "create_ticket",
    "find_by_number",
    "get_ticket",
    "spoken_status",
    "attach_transcript",
    "record_satisfaction",
    "dispatch",
    "start",
    "resolve",
    "close",
    "reopen",
    "update_fields",
    "normalize_number",
    "audit",
]


def normalize_number(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a dialable number ('13812345678' -> '+8613812345678'), else None."""
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def due_date_for(demand_type: str | None, opened_on: date) -> date:
    days = due_days()
    return add_working_days(opened_on, days.get(demand_type or "other", days["other"]))


def _check_choice(field: str, value: str | None, choices) -> None:
    if value is not None and value not in choices:
        raise ValidationError({field: f"must be one of {', '.join(choices)}"})


def create_ticket(s: Session, **fields) -> Ticket:
    """Create a ticket with the next number; the same idempotency_key returns the first one."""
    return create_or_find_ticket(s, **fields)[0]


def create_or_find_ticket(
    s: Session,
    *,
    channel: str,
    caller_number: str | None,
    description: str | None = None,
    demand_type: str | None = None,
    topic: str | None = None,
    district: str | None = None,
    call_sid: str | None = None,
    recording_sid: str | None = None,
    recording_url: str | None = None,
    actor: str = "ivr",
    idempotency_key: str | None = None,
    location: str | None = None,
) -> tuple[Ticket, bool]:
    """(ticket, True) when this call created it; (the first ticket, False) when its
    idempotency_key was used before, including by a concurrent request that won."""
    _check_choice("channel", channel, CHANNELS)
    _check_choice("demand_type", demand_type, DEMAND_TYPES)
    if idempotency_key:
        existing = s.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
        if existing is not None:
            return existing, False
    opened_on = local_today()
    ticket = Ticket(
        number=format_number(opened_on, next_sequence(s, opened_on)),
        opened_on=opened_on,
        channel=channel,
        caller_number=normalize_number(caller_number),
        demand_type=demand_type,
        topic=topic,
        district=district,
        location=location,
        description=description,
        call_sid=call_sid,
        recording_sid=recording_sid,
        recording_url=recording_url,
        idempotency_key=idempotency_key,
        status="new",
        due_date=due_date_for(demand_type, opened_on),
        resolution_count=0,
        created_at=utcnow(),
    )
    if idempotency_key:
        # Two concurrent retries of one webhook: the loser finds the winner's ticket.
        try:
            with s.begin_nested():
                s.add(ticket)
                s.flush()
        except IntegrityError:
            existing = s.scalar(select(Ticket).where(Ticket.idempotency_key == idempotency_key))
            if existing is None:
                raise
            return existing, False
    else:
        s.add(ticket)
        s.flush()
    audit(s, ticket, actor=actor, action="created", to_status="new", detail={"channel": channel})
    log.info(
        "ticket %s created (%s) from %s", ticket.number, channel, mask_number(ticket.caller_number)
    )
    return ticket, True


def find_by_number(s: Session, number: str) -> Ticket | None:
    return s.scalar(select(Ticket).where(Ticket.number == number.strip()))


def get_ticket(s: Session, number: str) -> Ticket:
    ticket = find_by_number(s, number)
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


def _load(s: Session, ticket_id: int) -> Ticket:
    ticket = s.get(Ticket, ticket_id)
    if ticket is None:
        raise TicketNotFound(str(ticket_id))
    return ticket


def spoken_status(ticket: Ticket, language: str = "zh-CN") -> str:
    """What the self-service line says about a ticket (status and, once resolved, the reply)."""
    digits = spoken_digits(ticket.number)
    if language.lower().startswith("en"):
        text = f"Ticket {digits} is {ticket.status.replace('_', ' ')}."
        if ticket.reply and ticket.status in ("resolved", "callback_done", "closed"):
            text += f" The department replied: {ticket.reply}"
        return text
    dept = ticket.department.name if ticket.department else None
    texts = {
        "new": "已受理，正在等待转办。",
        "dispatched": f"已转交{dept or '承办单位'}办理。",
        "in_progress": f"{dept or '承办单位'}正在办理中。",
        "reopened": "正在重新办理。",
        "resolved": "已办结。",
        "callback_done": "已办结并完成回访。",
        "closed": "已办结。",
    }
    text = f"您的工单号 {digits}，{texts.get(ticket.status, '正在处理中。')}"
    if ticket.status in lifecycle.OPEN and ticket.due_date:
        text += f"预计在{ticket.due_date.month}月{ticket.due_date.day}日前答复。"
    if ticket.reply and ticket.status in ("resolved", "callback_done", "closed"):
        text += f"{dept or '承办单位'}答复如下：{ticket.reply}"
    return text


def attach_transcript(
    s: Session,
    ticket_id: int,
    *,
    text: str,
    confidence: float | None,
    words: list,
    actor: str = "speech",
    recording_sid: str | None = None,
) -> None:
    """Store a recording's transcript and let the classifier fill what is still empty.

    The citizen's spoken comment in a satisfaction callback is transcribed onto the
    same ticket: a second recording (another SID, or any recording once the ticket
    was resolved and already has a transcript) becomes the satisfaction comment
    instead of overwriting the original message.
    """
    ticket = _load(s, ticket_id)
    is_comment = ticket.transcript is not None and (
        (recording_sid is not None and recording_sid != ticket.recording_sid)
        or (recording_sid is None and ticket.resolution_count > 0)
    )
    if is_comment:
        if not ticket.satisfaction_comment:
            ticket.satisfaction_comment = text
        audit(
            s,
            ticket,
            actor=actor,
            action="comment_transcribed",
            detail={"confidence": confidence, "chars": len(text), "recording_sid": recording_sid},
        )
        return
    ticket.transcript = text
    ticket.transcript_confidence = confidence
    ticket.transcript_words = words
    audit(
        s,
        ticket,
        actor=actor,
        action="transcribed",
        detail={"confidence": confidence, "chars": len(text)},
    )
    apply_suggestions(s, ticket, text)


@transcript_ready.connect
def _store_transcript(ticket_id: int, *, session: Session, text, confidence, words) -> None:
    """The speech worker's finished transcription, stored in the worker's transaction."""
    attach_transcript(session, ticket_id, text=text, confidence=confidence, words=words)


def record_satisfaction(
    s: Session,
    ticket_id: int,
    *,
    result: str,
    comment: str | None,
    attempt_id=None,
    actor: str = "callbacks",
) -> None:
    """Result of the satisfaction callback; not satisfied reopens (once)."""
    _check_choice("result", result, SATISFACTION_RESULTS)
    ticket = _load(s, ticket_id)
    ticket.satisfaction = None if result == "unreachable" else result
    ticket.satisfaction_comment = comment
    detail = {"result": result, "attempt_id": attempt_id}
    if result == "dissatisfied" and ticket.resolution_count < MAX_REOPEN_RESOLUTIONS:
        lifecycle.transition(
            s, ticket, "reopened", actor=actor, action="survey_reopened", detail=detail
        )
        ticket.resolved_on = None
        ticket.due_date = due_date_for(ticket.demand_type, local_today())
    else:
        lifecycle.transition(
            s, ticket, "callback_done", actor=actor, action="survey", detail=detail
        )


def dispatch(
    s: Session, ticket: Ticket, department, *, actor: str, note: str | None = None
) -> Ticket:
    """Send (or reassign) the ticket to a department's inbox."""
    previous = ticket.department.code if ticket.department else None
    ticket.department = department
    ticket.department_id = department.id
    lifecycle.transition(
        s,
        ticket,
        "dispatched",
        actor=actor,
        action="dispatched",
        detail={"department": department.code, "from_department": previous, "note": note},
    )
    return ticket


def start(s: Session, ticket: Ticket, *, actor: str) -> Ticket:
    lifecycle.transition(s, ticket, "in_progress", actor=actor, action="started")
    return ticket


def resolve(
    s: Session, ticket: Ticket, *, reply: str, actor: str, article: str | None = None
) -> Ticket:
    """The department's answer; schedules the satisfaction callback in the same transaction.

    With `article` (a knowledge-base key) it is an agent's answer during the call
    (当场办结): a new ticket goes straight to resolved, the article used on record."""
    if not reply or not reply.strip():
        raise ValidationError({"reply": "the department's reply is required"})
    if ticket.status == "new" and article is None:
        raise TransitionError(ticket.number, ticket.status, "resolved")
    ticket.reply = reply.strip()
    ticket.resolved_at = utcnow()
    ticket.resolved_on = local_today()
    ticket.resolution_count += 1
    lifecycle.transition(
        s,
        ticket,
        "resolved",
        actor=actor,
        action="answered_on_the_spot" if article else "resolved",
        detail={"resolution": ticket.resolution_count, "article": article},
    )
    s.flush()
    # Callbacks listens and asks for the satisfaction survey in this same transaction.
    ticket_resolved.send(ticket, session=s)
    return ticket


def close(s: Session, ticket: Ticket, *, actor: str) -> Ticket:
    ticket.closed_at = utcnow()
    lifecycle.transition(s, ticket, "closed", actor=actor, action="closed")
    return ticket


def reopen(s: Session, ticket: Ticket, *, actor: str, reason: str | None = None) -> Ticket:
    lifecycle.transition(
        s, ticket, "reopened", actor=actor, action="reopened", detail={"reason": reason}
    )
    ticket.closed_at = None
    ticket.resolved_on = None
    ticket.due_date = due_date_for(ticket.demand_type, local_today())
    return ticket


MAX_SUMMARY = 1000
EDITABLE_FIELDS = ("demand_type", "topic", "district", "location", "description", "summary")


def update_fields(s: Session, ticket: Ticket, *, actor: str, **changes) -> Ticket:
    """A person's correction of classification or details (audited, old and new values)."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({k: "not editable" for k in sorted(unknown)})
    _check_choice("demand_type", changes.get("demand_type"), DEMAND_TYPES)
    diff = {}
    for name, value in changes.items():
        old = getattr(ticket, name)
        if old != value:
            diff[name] = {"from": old, "to": value}
            setattr(ticket, name, value)
    if "demand_type" in diff:
        ticket.due_date = due_date_for(ticket.demand_type, ticket.opened_on)
    if diff:
        audit(s, ticket, actor=actor, action="updated", detail=diff)
    return ticket


def apply_suggestions(
    s: Session, ticket: Ticket, text: str | None = None, actor: str = "classifier"
) -> classify.Suggestion:
    """Record the suggestion on the ticket and fill demand type/topic if still empty."""
    suggestion = classify.classify(
        text or ticket.description or ticket.transcript or "", ticket.district
    )
    ticket.suggested_demand_type = suggestion.demand_type
    ticket.suggested_topic = suggestion.topic
    ticket.suggested_department = suggestion.department
    fill = {}
    if ticket.demand_type is None:
        fill["demand_type"] = suggestion.demand_type
    if ticket.topic is None:
        fill["topic"] = suggestion.topic
    if fill:
        update_fields(s, ticket, actor=actor, **fill)
    return suggestion


def route(
    s: Session,
    ticket: Ticket,
    *,
    actor: str,
    department_code: str | None = None,
    note: str | None = None,
) -> Ticket:
    """Dispatch to the given department, or to the routing table's choice."""
    code = department_code or routing.active_routing().department_for(ticket.topic, ticket.district)
    department = routing.department_by_code(s, code)
    if department is None or not department.active:
        raise ValidationError({"department": f"unknown department {code!r}"})
    return dispatch(s, ticket, department, actor=actor, note=note)
