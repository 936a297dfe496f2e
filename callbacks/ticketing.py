"""What the follow-up caller reads from tickets and writes back, through tickets.service.

Reads: the caller's number, the topic's name, the department's reply (the
survey script). Writes: the survey result (not satisfied reopens the ticket),
the comment recording (queued for transcription), an unreachable citizen.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from callbacks import models as m
from speech.jobs import enqueue_transcription
from tickets import service as tickets
from tickets.models import Topic

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 120  # a long reply is cut: the citizen has the full text by SMS/web


def _topic_name(s: Session, code: str | None) -> str:
    """The taxonomy's name of a topic code ('heating' -> '供暖'), or the code itself."""
    if not code:
        return ""
    return s.scalar(select(Topic.name).where(Topic.code == code)) or code


def script_of(s: Session, ticket) -> dict:
    """What the personalised sentence needs, from a tickets.Ticket."""
    opened = getattr(ticket, "opened_on", None) or getattr(ticket, "created_at", None)
    return {
        "reported_on": f"{opened.month}月{opened.day}日" if opened else None,
        "topic": _topic_name(s, getattr(ticket, "topic", None)),
        "reply": (getattr(ticket, "reply", None) or "").strip(),
        "ticket_number": getattr(ticket, "number", None),
    }


def call_values(req: m.CallbackRequest) -> dict[str, str]:
    """The survey's per-call values, as its flow says them ({reported_on}, {topic}, ...)."""
    if req.kind != m.SATISFACTION:
        return {}
    script = req.script or {}
    reply = (script.get("reply") or "").strip().rstrip("。")
    if len(reply) > MAX_REPLY_CHARS:
        reply = reply[:MAX_REPLY_CHARS] + "……"
    values = {
        "reported_on": script.get("reported_on"),
        "topic": script.get("topic"),
        "reply": reply,
        "ticket_number": script.get("ticket_number"),
    }
    return {k: str(v) for k, v in values.items() if v}


def record_result(s: Session, attempt: m.CallbackAttempt, result: str) -> None:
    """A survey answer: kept on the request and, for the survey that counts, on the ticket
    (where 不满意 reopens it for re-dispatch)."""
    req = attempt.request
    req.result = result
    if req.counts and req.ticket_id is not None:
        try:
            with s.begin_nested():
                tickets.record_satisfaction(
                    s, req.ticket_id, result=result, comment=None, attempt_id=attempt.id
                )
        except tickets.TicketError as exc:
            # E.g. an agent reopened the ticket meanwhile: the answer stays on the request.
            log.warning("survey result for ticket %s not applied: %s", req.ticket_id, exc)
            req.note = f"not applied to the ticket: {exc}"[:200]


def record_comment(
    s: Session, attempt: m.CallbackAttempt, recording_url: str, recording_sid: str | None
) -> None:
    """The citizen's spoken comment: kept, and queued for transcription onto the ticket."""
    req = attempt.request
    req.comment_recording_url = recording_url
    if req.ticket_id is None:
        return
    enqueue_transcription(
        s, ticket_id=req.ticket_id, recording_url=recording_url, recording_sid=recording_sid
    )


def report_unreachable(s: Session, req: m.CallbackRequest) -> None:
    """Every attempt failed: the ticket's survey ends as unreachable (未接通)."""
    if req.kind != m.SATISFACTION or not req.counts or req.ticket_id is None:
        return
    try:
        with s.begin_nested():
            tickets.record_satisfaction(
                s, req.ticket_id, result="unreachable", comment=None, attempt_id=None
            )
    except tickets.TicketError as exc:
        log.warning("unreachable survey not applied to ticket %s: %s", req.ticket_id, exc)
