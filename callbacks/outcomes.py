"""What a follow-up call achieved, as the flow reports it through ivr's signals.

The flow's `result`, `opt_out` and comment `record` nodes reach the engine's
services, which send ivr.signals inside the turn's transaction; these receivers
find the attempt by its call sid and write the outcome, the survey result (onto
the ticket through tickets.service) and the do-not-call entry in that same
transaction. A call that is not a follow-up (an incoming call, the studio's web
phone) has no attempt: only an opt-out is kept for it.
"""

from __future__ import annotations

from sqlalchemy import select

from callbacks import models as m
from callbacks import service, ticketing
from ivr import signals

# The flow's result -> the attempt's outcome (survey answers are also the request's result).
OUTCOMES = {
    m.SATISFIED: "answered",
    m.BASICALLY_SATISFIED: "answered",
    m.DISSATISFIED: "answered",
    "unanswered": "unanswered",
    "reached": "enqueued",
}


def _attempt(s, call_sid: str) -> m.CallbackAttempt | None:
    return s.scalar(select(m.CallbackAttempt).where(m.CallbackAttempt.call_sid == call_sid))


def on_result(_app, *, s, call_sid: str, result: str, heard: str | None) -> None:
    attempt = _attempt(s, call_sid)
    if attempt is None or result not in OUTCOMES:
        return
    attempt.outcome = OUTCOMES[result]
    attempt.heard = heard
    if result in m.RESULTS:
        ticketing.record_result(s, attempt, result)


def on_opt_out(_app, *, s, call_sid: str, number: str) -> None:
    service.add_do_not_call(s, number, source="keypad", actor="citizen")
    attempt = _attempt(s, call_sid)
    if attempt is not None:
        attempt.outcome = "opted_out"


def on_comment(_app, *, s, call_sid: str, recording_url: str, recording_sid: str | None) -> None:
    attempt = _attempt(s, call_sid)
    if attempt is not None:
        ticketing.record_comment(s, attempt, recording_url, recording_sid)


def connect() -> None:
    """Listen to every app's calls (receivers are kept: blinker holds them weakly)."""
    signals.call_result.connect(on_result)
    signals.opt_out.connect(on_opt_out)
    signals.comment_recorded.connect(on_comment)
