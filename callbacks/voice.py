"""Twilio's two requests about an outgoing call: it was answered, and its status.

Answered: an answering machine is hung up on (no message is left); a person
hears the flow's entry for the request's kind (`survey` or `return_call` in
flows.yaml) with the request's values, and the call goes on through ivr's
webhooks like any other. What the citizen chose comes back through the engine's
services as signals (callbacks.outcomes). An error is an apology and a transfer to
the operator, never Twilio's "application error". Status: every event is stored and a
final one closes the attempt. Both routes check Twilio's signature.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from callbacks import models as m
from callbacks import service, ticketing
from core.db import get_db, utcnow
from ivr import outbound
from telephony import inputs
from telephony.signature import twilio_request_required

log = logging.getLogger(__name__)
bp = Blueprint("callbacks_voice", __name__, url_prefix="/callbacks")


@bp.post("/voice/<int:attempt_id>")
@twilio_request_required
@outbound.never_fail
def answered(attempt_id: int) -> Response:
    """The url of calls.create: Twilio fetches it once a person or a machine answered."""
    call = inputs.OutboundAnswer.from_request(request)
    with get_db().session() as s:
        attempt = s.get(m.CallbackAttempt, attempt_id)
        if attempt is None:
            return outbound.hang_up()
        attempt.answered_by = call.answered_by or attempt.answered_by
        attempt.call_sid = attempt.call_sid or call.sid
        if call.machine:
            attempt.outcome = "machine"  # hang up, leave no message
            return outbound.hang_up()
        req = attempt.request
        if req.state != m.PENDING or attempt.state == m.FINISHED:
            return outbound.hang_up()
        start = {
            "call_sid": attempt.call_sid,
            "entry": m.ENTRIES[req.kind],
            "citizen": attempt.number,
            "our_number": call.our_number,
            "variables": ticketing.call_values(req),
            "language": req.language,
        }
    # The attempt is committed first: the flow's results find it by its call sid.
    return outbound.answer(**start)


@bp.post("/status/<int:attempt_id>")
@twilio_request_required
def status(attempt_id: int):
    """Twilio's status callbacks: every event is stored; a final one closes the attempt."""
    report = inputs.StatusReport.from_request(request)
    with get_db().session() as s:
        attempt = s.get(m.CallbackAttempt, attempt_id)
        if attempt is None:
            return Response(status=204)
        s.add(
            m.CallbackEvent(
                attempt_id=attempt.id,
                call_sid=report.sid or None,
                status=report.status,
                answered_by=report.answered_by,
                duration=report.duration,
                sequence=report.sequence,
                received_at=utcnow(),
            )
        )
        attempt.call_sid = attempt.call_sid or report.sid or None
        attempt.answered_by = report.answered_by or attempt.answered_by
        if attempt.state != m.FINISHED:
            attempt.status = report.status
            if report.ended:
                attempt.duration = report.duration
                service.finish_attempt(s, attempt)
    if report.ended and report.sid:
        try:
            outbound.call_status(report)  # the flow's session ends with the call
        except Exception:  # the attempt is recorded; an open session only waits for nothing
            log.exception("session of call %s not closed", report.sid)
    return Response(status=204)
