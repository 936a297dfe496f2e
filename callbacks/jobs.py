"""APScheduler job functions (module level, so the SQLAlchemy job store can name them).

They reach the database and dispatcher through `RUNTIME`, which the scheduler
process fills in before it starts APScheduler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import update

from callbacks import models as m
from tickets.retention import scheduled_purge

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    db: object = None
    dispatcher: object = None
    scheduler: object = None  # callbacks.scheduler.CallbackScheduler


RUNTIME = Runtime()


def attempt_due(attempt_id: int) -> None:
    """An attempt's time has come: hand it to the dispatcher (which paces the calls)."""
    with RUNTIME.db.session() as s:
        s.execute(
            update(m.CallbackAttempt)
            .where(m.CallbackAttempt.id == attempt_id, m.CallbackAttempt.state == m.SCHEDULED)
            .values(state=m.DUE)
        )


def dispatch() -> None:
    """Place due calls for up to one second (interval job)."""
    if RUNTIME.scheduler is None or RUNTIME.scheduler.is_leader():
        RUNTIME.dispatcher.tick()


def sync() -> None:
    """Give new attempts their jobs, pick up missed callers, close lost calls (interval)."""
    RUNTIME.scheduler.sync()
    RUNTIME.dispatcher.reap_stale()
    RUNTIME.dispatcher.reconcile(others_only=True)


def purge_expired_media() -> None:
    """Retention (tickets.retention): delete recordings and transcripts past RETENTION_DAYS."""
    if RUNTIME.scheduler is None or not RUNTIME.scheduler.is_leader():
        return
    scheduled_purge(RUNTIME.scheduler.app)
