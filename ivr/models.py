"""Call records, per-call engine sessions, incident notices and flow versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

OUTCOMES = (
    "agent",
    "voice_message",
    "self_service",
    "abandoned_menu",
    "abandoned_queue",
    "error_transfer",
)


class Call(Base):
    """One phone call through the front door: who, when, where it went, how it ended."""

    __tablename__ = "ivr_calls"
    __table_args__ = (Index("ix_ivr_calls_return", "needs_return_call", "ended_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str | None] = mapped_column(String(64), index=True)  # E.164
    called: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    nodes: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[str | None] = mapped_column(String(32))
    needs_return_call: Mapped[bool] = mapped_column(Boolean, default=False)
    flow_version: Mapped[str | None] = mapped_column(String(32))
    ticket_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str | None] = mapped_column(String(32))  # Twilio's last CallStatus

    def __repr__(self) -> str:
        return f"<Call {self.call_sid} {self.outcome}>"


class CallSession(Base):
    """The engine session of a call in progress, plus the last answer for Twilio retries."""

    __tablename__ = "ivr_call_sessions"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    # Number of turns answered; TwiML of turn n carries s=n in its action URLs.
    step: Mapped[int] = mapped_column(Integer, default=0)
    last_response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Notice(Base):
    """An incident announcement supervisors switch on; played after the greeting."""

    __tablename__ = "ivr_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    district: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FlowVersion(Base):
    """Source of every flow version a call has run on, so a call finishes on its own version
    even after the file changed and the process restarted."""

    __tablename__ = "ivr_flow_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    file: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FlowPublication(Base):
    """Each time a valid flows file was first seen: the latest row is the version every
    process starts new calls on, whatever each one last read from the file."""

    __tablename__ = "ivr_flow_publications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(ForeignKey("ivr_flow_versions.version"))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
