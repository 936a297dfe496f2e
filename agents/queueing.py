"""Callers joining and leaving queues, from the front door's signals (ivr.signals).

Runs inside the caller's webhook transaction: the queue row commits with the
turn that put the caller in the queue, so the distributor never offers a caller
whose turn rolled back, and never misses one whose turn committed.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents import models as m
from agents.distribution import CANCELING
from core.db import utcnow
from ivr import signals

# ivr.flows.events.QueueOutcome values (the front door's signal says how a stay ended).
HUNG_UP, LEFT = "hung_up", "left"


def caller_joined(s: Session, *, call_sid: str, queue: str, caller: str | None, now=None) -> None:
    now = now or utcnow()
    caller_left(s, call_sid=call_sid, result=LEFT, now=now)  # a stale stay ends here
    s.add(m.QueueCall(call_sid=call_sid, queue=queue, caller=caller, entered_at=now, offers=0))


def caller_left(s: Session, *, call_sid: str, result: str, now=None) -> None:
    """Close the caller's open stay; an agent leg still ringing for them is to be canceled."""
    now = now or utcnow()
    open_ids = select(m.QueueCall.id).where(
        m.QueueCall.call_sid == call_sid, m.QueueCall.state.in_(m.OPEN_QUEUE_STATES)
    )
    # Not under the agents' lock (this is the caller's webhook turn): the updates are
    # conditional, and a bridge cannot race a caller's leaving, as Twilio bridges only
    # callers still in its queue.
    ids = s.scalars(open_ids).all()
    if not ids:
        return
    state = m.ABANDONED if result == HUNG_UP else m.LEFT
    s.execute(
        update(m.QueueCall)
        .where(m.QueueCall.id.in_(ids), m.QueueCall.state.in_(m.OPEN_QUEUE_STATES))
        .values(state=state, left_at=now)
        .execution_options(synchronize_session=False)
    )
    s.execute(
        update(m.Offer)
        .where(m.Offer.queue_call_id.in_(ids), m.Offer.state.in_((m.PLACING, m.RINGING)))
        .values(state=CANCELING)
        .execution_options(synchronize_session=False)
    )


def open_stay(s: Session, call_sid: str) -> m.QueueCall | None:
    return s.scalar(
        select(m.QueueCall)
        .where(m.QueueCall.call_sid == call_sid, m.QueueCall.state.in_(m.OPEN_QUEUE_STATES))
        .order_by(m.QueueCall.id.desc())
        .limit(1)
    )


def connect(app) -> None:
    """Subscribe to the front door's queue signals for this app."""

    def joined(sender, *, s, call_sid, queue, caller):
        caller_joined(s, call_sid=call_sid, queue=queue, caller=caller)

    def left(sender, *, s, call_sid, result):
        caller_left(s, call_sid=call_sid, result=result)

    signals.queue_joined.connect(joined, sender=app, weak=False)
    signals.queue_left.connect(left, sender=app, weak=False)
