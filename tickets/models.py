"""Tables of the tickets package: tickets, their audit trail, taxonomy, departments, KB.

Other packages refer to a ticket by `tickets.id` (FK) or by its number; they
never write these tables directly but go through tickets.service.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, utcnow

# Channels of the seed's annual report, plus the IVR's own.
CHANNELS = {
    "phone": "12345电话",
    "web": "网上民声",
    "wechat": "微信",
    "leader_board": "领导留言板",
    "provincial": "省热线转办",
    "voice_message": "语音留言",
    "callback": "回拨",
}

DEMAND_TYPES = {
    "consultation": "咨询求助",
    "complaint": "投诉举报",
    "suggestion": "建议",
    "other": "其他",
}

# Life cycle: new -> dispatched -> in_progress -> resolved -> callback_done -> closed;
# reopened (citizen not satisfied) goes back through dispatch.
STATUSES = {
    "new": "已受理",
    "dispatched": "已转办",
    "in_progress": "办理中",
    "resolved": "已办结",
    "callback_done": "已回访",
    "closed": "已关闭",
    "reopened": "重新办理",
}
OPEN_STATUSES = ("new", "dispatched", "in_progress", "reopened")

SATISFACTION_RESULTS = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "unreachable": "未接通",
}

NUMBER_LENGTH = 14  # YYYYMMDD + 6-digit daily sequence
TEXT_SEARCH_COLUMNS = ("description", "transcript", "location")


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Topic(Base):
    """One entry of the editable topic taxonomy; `code` is what tickets store."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TicketCounter(Base):
    """Per-day sequence for ticket numbers, incremented atomically (upsert)."""

    __tablename__ = "ticket_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_opened_on", "opened_on"),
        Index("ix_tickets_status_due", "status", "due_date"),
        Index("ix_tickets_topic_opened", "topic", "opened_on"),
        Index("ix_tickets_department_status", "department_id", "status"),
        Index("ix_tickets_channel_opened", "channel", "opened_on"),
        Index("ix_tickets_caller", "caller_number"),
        Index("ix_tickets_call_sid", "call_sid"),
        # Supervisors filter by place: these keep the (capped) counts index-only.
        Index("ix_tickets_topic_district_status", "topic", "district", "status"),
        Index("ix_tickets_district_opened", "district", "opened_on"),
        # Text search (LIKE '%…%'): trigram GIN indexes on PostgreSQL. SQLite gets plain
        # B-trees of the same name (useless for LIKE, but one schema for both backends
        # keeps the migrations-match-models check simple); its search scans.
        *[
            Index(
                f"ix_tickets_{name}_trgm",
                name,
                postgresql_using="gin",
                postgresql_ops={name: "gin_trgm_ops"},
            )
            for name in TEXT_SEARCH_COLUMNS
        ],
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH), unique=True)
    # Local date of creation (the number's date): reports group on it.
    opened_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(20))
    caller_number: Mapped[str | None] = mapped_column(String(32))
    demand_type: Mapped[str | None] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[str | None] = mapped_column(String(40))
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[str | None] = mapped_column(Text)
    # 诉求摘要: what the caller asks, written by an agent or the office, so a department can
    # act on a voice ticket without hearing the recording.
    summary: Mapped[str | None] = mapped_column(Text)
    transcript_confidence: Mapped[float | None] = mapped_column(Float)
    transcript_words: Mapped[list | None] = mapped_column(JSON)
    call_sid: Mapped[str | None] = mapped_column(String(64))
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_path: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(20), default="new")
    due_date: Mapped[date | None] = mapped_column(Date)
    reply: Mapped[str | None] = mapped_column(Text)
    resolution_count: Mapped[int] = mapped_column(Integer, default=0)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    satisfaction_comment: Mapped[str | None] = mapped_column(Text)
    # Classifier's suggestions, kept beside the values a person may have overridden.
    suggested_demand_type: Mapped[str | None] = mapped_column(String(20))
    suggested_topic: Mapped[str | None] = mapped_column(String(40))
    suggested_department: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Local date of the last resolution: on-time means resolved_on <= due_date.
    resolved_on: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    media_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    department: Mapped[Department | None] = relationship(lazy="joined")
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", lazy="select"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketEvent(Base):
    """Audit trail: who did what to a ticket, when, and the status change if any."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[dict | None] = mapped_column(JSON)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class Article(Base):
    """Knowledge-base entry (知识库): read by agents, searched, spoken by the IVR."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(Text, default="")  # space-separated
    topic: Mapped[str | None] = mapped_column(String(40))
    department: Mapped[str | None] = mapped_column(String(40))
    # The IVR reads an article only between these local dates (both inclusive, either open).
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # Retired articles stay for their history; search and the phone no longer find them.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    def valid_on(self, day: date) -> bool:
        if self.retired_at is not None:
            return False
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class ArticleVersion(Base):
    """One saved state of an article: who saved it, when, and every field as it then was."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (Index("ux_kb_article_versions", "article_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))  # created, edited, retired, restored
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    fields: Mapped[dict] = mapped_column(JSON)


class RuleSet(Base):
    """One saved version of the classification rules or the routing table (whole document).

    The highest version of a kind is in force; the first is imported from the shipped YAML.
    Accuracy on the labelled request set is recorded with each version (percent per field).
    """

    __tablename__ = "tickets_rule_sets"
    __table_args__ = (Index("ux_tickets_rule_sets", "kind", "version", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "rules" or "routing"
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    author: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    accuracy: Mapped[dict | None] = mapped_column(JSON)
