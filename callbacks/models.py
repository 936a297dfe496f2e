"""Tables of the follow-up caller: requests, attempts, their Twilio events, DNC list, lease.

A request is one follow-up (a survey after one resolution of a ticket, or one
return call after a missed call). Each attempt is its own row, created before it
is due and *claimed* before the call is placed, so a crash can never lose or
duplicate an attempt (see callbacks.dispatcher). Tickets are referenced by id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow

SATISFACTION = "satisfaction"
RETURN_CALL = "return_call"
KINDS = (SATISFACTION, RETURN_CALL)
# Where flows.yaml starts each kind of call (flow.entries).
ENTRIES = {SATISFACTION: "survey", RETURN_CALL: "return_call"}

# Request states.
PENDING, DONE, GAVE_UP, CANCELLED, SKIPPED, OPTED_OUT = (
    "pending",
    "done",
    "gave_up",
    "cancelled",
    "skipped",
    "opted_out",
)
# Attempt states: scheduled -> due -> claimed -> placed -> finished (or cancelled).
SCHEDULED, DUE, CLAIMED, PLACED, FINISHED = "scheduled", "due", "claimed", "placed", "finished"
OPEN_ATTEMPT_STATES = (SCHEDULED, DUE, CLAIMED, PLACED)
IN_FLIGHT_STATES = (CLAIMED, PLACED)

# Survey answers, as stored on the request and passed to tickets.record_satisfaction.
SATISFIED, BASICALLY_SATISFIED, DISSATISFIED = "satisfied", "basically_satisfied", "dissatisfied"
RESULTS = (SATISFIED, BASICALLY_SATISFIED, DISSATISFIED)


class CallbackRequest(Base):
    __tablename__ = "callback_requests"
    __table_args__ = (
        # One survey per resolution of a ticket; one return call per missed call.
        UniqueConstraint("kind", "ticket_id", "resolution_no", name="uq_callback_request_ticket"),
        UniqueConstraint("source_call_sid", name="uq_callback_request_call"),
        Index("ix_callback_requests_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    resolution_no: Mapped[int | None] = mapped_column(Integer)
    source_call_sid: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(40), index=True)
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    # What the script says: {"reported_on": "11月3日", "topic": "供暖", "reply": "..."}.
    script: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default=PENDING)
    result: Mapped[str | None] = mapped_column(String(30))
    comment_recording_url: Mapped[str | None] = mapped_column(String(500))
    # False once a later resolution of the same ticket asked for a new survey.
    counts: Mapped[bool] = mapped_column(Boolean, default=True)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    attempts: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="request", order_by="CallbackAttempt.attempt_no"
    )


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"
    __table_args__ = (
        UniqueConstraint("request_id", "attempt_no", name="uq_callback_attempt_no"),
        Index("ix_callback_attempts_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("callback_requests.id", ondelete="CASCADE"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40), index=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default=SCHEDULED)
    job_id: Mapped[str | None] = mapped_column(String(100))
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    placed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str | None] = mapped_column(String(20))
    answered_by: Mapped[str | None] = mapped_column(String(30))
    outcome: Mapped[str | None] = mapped_column(String(30))
    # Questions heard without an answer: written by releases whose survey was not a flow
    # (the flow's session counts its own tries now); kept for those rows.
    silences: Mapped[int] = mapped_column(Integer, default=0)
    # The spoken word that chose the survey's answer (the flow's `heard`), if spoken.
    heard: Mapped[str | None] = mapped_column(String(100))
    duration: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    request: Mapped[CallbackRequest] = relationship(back_populates="attempts")


class CallbackEvent(Base):
    """Every status callback Twilio sent for an attempt, as received."""

    __tablename__ = "callback_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(
        ForeignKey("callback_attempts.id", ondelete="CASCADE"), index=True
    )
    call_sid: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    answered_by: Mapped[str | None] = mapped_column(String(30))
    duration: Mapped[int | None] = mapped_column(Integer)
    sequence: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DoNotCall(Base):
    """Numbers never to be called again (opt-out by pressing 9, or a supervisor's list)."""

    __tablename__ = "callback_do_not_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[str] = mapped_column(String(20))  # keypad | import | manual
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CallbackControl(Base):
    """Named switches and leases: 'paused' (all outgoing calls) and 'scheduler' (HA lease)."""

    __tablename__ = "callback_control"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    flag: Mapped[bool] = mapped_column(Boolean, default=False)
    holder: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str | None] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored datetime is UTC."""
    from datetime import UTC

    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
