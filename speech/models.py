"""Persisted speech work: one row per transcription or grammar-recognition job.

The web process only inserts rows; transcription workers claim them (see
speech.jobs). A row survives restarts, carries its attempt count and backoff,
and a lease so a job whose worker died is picked up again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow

KIND_TRANSCRIBE = "transcribe"
KIND_GRAMMAR = "grammar"

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
STATUSES = (PENDING, RUNNING, DONE, FAILED)


class SpeechJob(Base):
    __tablename__ = "speech_jobs"
    __table_args__ = (Index("ix_speech_jobs_claim", "status", "priority", "next_try_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Lower runs first: a caller waits on grammar jobs, nobody waits on transcripts.
    priority: Mapped[int] = mapped_column(Integer, default=10)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    # Natural keys into other packages (no FK: speech must not depend on their schema).
    ticket_id: Mapped[int | None] = mapped_column(Integer, index=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    recording_url: Mapped[str] = mapped_column(Text)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    words: Mapped[list | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<SpeechJob {self.id} {self.kind} {self.status} attempts={self.attempts}>"
