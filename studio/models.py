"""Published flow revisions, supervisors' drafts, and web-phone calls in progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class FlowRevision(Base):
    """One published state of flows.yaml. Append-only: the audit trail of publish/restore.

    `version` is the flow's version (the hash ivr stamps on each call), so a call
    still running on an older version can find its text here.
    """

    __tablename__ = "studio_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    # publish | restore | import (the file on disk changed outside the studio)
    action: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(String(500), default="")
    diff: Mapped[str] = mapped_column(Text, default="")
    restored_from: Mapped[int | None] = mapped_column(ForeignKey("studio_revisions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FlowDraft(Base):
    """A supervisor's unpublished edit (one per user), tried in the web phone."""

    __tablename__ = "studio_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    base_revision_id: Mapped[int | None] = mapped_column(ForeignKey("studio_revisions.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class PhoneCall(Base):
    """A web-phone call: the simulator phone's JSON state between the browser's requests."""

    __tablename__ = "studio_phone_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # published | draft
    flow_version: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
