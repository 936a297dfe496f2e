"""Retention of personal data: recordings and transcripts are deleted after RETENTION_DAYS.

The ticket itself and its audit trail stay; the purge is recorded as a ticket
event. The scheduler calls `scheduled_purge(app)` (daily is enough); operators
can run `flask tickets purge`. Deleting the copy Twilio keeps of a recording is
telephony's job (the recording SID is in the event detail).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.config import value
from core.db import get_db, utcnow
from tickets.lifecycle import audit
from tickets.models import Ticket

log = logging.getLogger(__name__)
PURGE_BATCH = 500
MEDIA_FIELDS = (
    "transcript",
    "transcript_confidence",
    "transcript_words",
    "recording_sid",
    "recording_url",
    "recording_path",
)


@dataclass
class PurgeResult:
    tickets: int = 0
    files_deleted: int = 0
    ticket_ids: list[int] = field(default_factory=list)


def _delete_file(path: str | None, recordings_dir: str | None) -> bool:
    """Delete a downloaded recording, but only inside RECORDINGS_DIR (never elsewhere)."""
    if not path or not recordings_dir:
        return False
    target, root = Path(path).resolve(), Path(recordings_dir).resolve()
    if root not in target.parents:
        log.warning("not deleting %s: outside RECORDINGS_DIR", target)
        return False
    try:
        target.unlink()
        return True
    except FileNotFoundError:
        return False


def purge_expired(
    s: Session,
    *,
    days: int,
    now: datetime | None = None,
    recordings_dir: str | None = None,
    batch: int = PURGE_BATCH,
    actor: str = "retention",
) -> PurgeResult:
    """Clear recordings and transcripts of tickets created more than `days` days ago."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    stmt = (
        select(Ticket)
        .where(
            Ticket.created_at < cutoff,
            Ticket.media_purged_at.is_(None),
            or_(*[getattr(Ticket, f).is_not(None) for f in MEDIA_FIELDS]),
        )
        .order_by(Ticket.id)
        .limit(batch)
    )
    result = PurgeResult()
    for ticket in s.scalars(stmt):
        removed = [f for f in MEDIA_FIELDS if getattr(ticket, f) is not None]
        deleted = _delete_file(ticket.recording_path, recordings_dir)
        audit(
            s,
            ticket,
            actor=actor,
            action="media_purged",
            detail={
                "fields": removed,
                "file_deleted": deleted,
                "recording_sid": ticket.recording_sid,
                "retention_days": days,
            },
        )
        for name in MEDIA_FIELDS:
            setattr(ticket, name, None)
        ticket.media_purged_at = now or utcnow()
        result.tickets += 1
        result.files_deleted += deleted
        result.ticket_ids.append(ticket.id)
    s.flush()
    return result


def scheduled_purge(app) -> PurgeResult:
    """Entry point for the scheduler: purge in batches until nothing is left."""
    days = value(app.config, "RETENTION_DAYS")
    total = PurgeResult()
    while True:
        with app.app_context(), get_db(app).session() as s:
            done = purge_expired(s, days=days, recordings_dir=app.config.get("RECORDINGS_DIR"))
        total.tickets += done.tickets
        total.files_deleted += done.files_deleted
        total.ticket_ids += done.ticket_ids
        if done.tickets < PURGE_BATCH:
            break
    if total.tickets:
        log.info(
            "retention: purged media of %d tickets (%d files)", total.tickets, total.files_deleted
        )
    return total
