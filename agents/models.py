"""Agents, their queues and presence history, callers waiting in queues, and offers.

`QueueCall` is one caller's stay in one queue: when they entered, whether an agent
was offered, answered (and how long it took), or the caller abandoned, and the
talk time. Reports, the wallboard and shift planning read these rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow

# Presence states (GB/T 33358 speaks of 示忙/示闲; these are the usual contact-centre ones).
AVAILABLE, OFFERED, ON_CALL, WRAP_UP, BREAK, OFFLINE = (
    "available",
    "offered",
    "on_call",
    "wrap_up",
    "break",
    "offline",
)
STATUSES = (AVAILABLE, OFFERED, ON_CALL, WRAP_UP, BREAK, OFFLINE)

# QueueCall states.
WAITING, OFFERING, ANSWERED, ABANDONED, LEFT = "waiting", "offered", "answered", "abandoned", "left"
OPEN_QUEUE_STATES = (WAITING, OFFERING)

# Offer states.
PLACING, RINGING, BRIDGED, ENDED = "placing", "ringing", "bridged", "ended"
LIVE_OFFER_STATES = (PLACING, RINGING, BRIDGED)


def aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored datetime is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Agent(Base):
    """A user who answers calls, the device their calls ring on, and their presence now."""

    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_status_idle", "status", "idle_since"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # accounts' users.username
    device: Mapped[str | None] = mapped_column(String(255))  # +E.164, sip:…, client:…, sim:…
    status: Mapped[str] = mapped_column(String(16), default=OFFLINE)
    reason: Mapped[str | None] = mapped_column(String(100))  # e.g. "not responding"
    status_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the agent last became free: the longest-idle available agent is offered first.
    idle_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wrap_up_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Bumped on every status change: a claim only succeeds on the version it read.
    version: Mapped[int] = mapped_column(Integer, default=0)

    queues: Mapped[list[AgentQueue]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def queue_names(self) -> list[str]:
        return sorted(q.queue for q in self.queues)

    def __repr__(self) -> str:
        return f"<Agent {self.username} {self.status}>"


class AgentQueue(Base):
    """Membership: the agent takes calls from this queue (a skill)."""

    __tablename__ = "agent_queues"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    queue: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    agent: Mapped[Agent] = relationship(back_populates="queues")


class PresenceChange(Base):
    """Every status change: who changed whose status, when, from what to what, and why."""

    __tablename__ = "agent_presence_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))  # a username, "api", or "system"
    reason: Mapped[str | None] = mapped_column(String(100))


class QueueCall(Base):
    """One caller's stay in one queue, from entering to being answered or leaving."""

    __tablename__ = "agent_queue_calls"
    __table_args__ = (
        Index("ix_agent_queue_calls_open", "queue", "state", "entered_at"),
        Index("ix_agent_queue_calls_sid", "call_sid", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))  # ivr_calls.call_sid of the caller
    queue: Mapped[str] = mapped_column(String(64))
    caller: Mapped[str | None] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default=WAITING)
    offers: Mapped[int] = mapped_column(Integer, default=0)  # agents offered so far
    first_offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agent: Mapped[str | None] = mapped_column(String(64), index=True)  # who answered
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # talk ended
    talk_seconds: Mapped[int | None] = mapped_column(Integer)

    @property
    def wait_seconds(self) -> float | None:
        end = self.answered_at or self.left_at
        return (aware(end) - aware(self.entered_at)).total_seconds() if end else None


class Offer(Base):
    """A call placed to an agent's device for a waiting caller (the agent leg)."""

    __tablename__ = "agent_offers"
    __table_args__ = (Index("ix_agent_offers_live", "state", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_call_id: Mapped[int] = mapped_column(ForeignKey("agent_queue_calls.id"), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    leg_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=PLACING)
    result: Mapped[str | None] = mapped_column(String(32))  # the leg's final CallStatus or why
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    bridged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    queue_call: Mapped[QueueCall] = relationship(lazy="joined")
    agent: Mapped[Agent] = relationship(lazy="joined")
