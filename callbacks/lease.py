"""A row lease so exactly one scheduler process is active; others wait on standby.

The holder renews (heartbeat) every ttl/3; a standby takes over once the lease
has expired, i.e. within ttl plus one poll after the holder dies. Acquisition is
a single conditional UPDATE, atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError

from callbacks.models import CallbackControl
from core.db import Database, utcnow

LEASE_NAME = "scheduler"


class Lease:
    def __init__(
        self, db: Database, holder: str, ttl_seconds: float = 30.0, name: str = LEASE_NAME
    ):
        self.db, self.holder, self.name = db, holder, name
        self.ttl = timedelta(seconds=ttl_seconds)

    def _ensure_row(self) -> None:
        try:
            with self.db.session() as s:
                if s.get(CallbackControl, self.name) is None:
                    s.add(
                        CallbackControl(name=self.name, holder=None, expires_at=utcnow() - self.ttl)
                    )
        except IntegrityError:
            pass  # another process inserted it first

    def acquire(self, now: datetime | None = None) -> bool:
        """Take or renew the lease; True while this process holds it."""
        now = now or utcnow()
        self._ensure_row()
        with self.db.session() as s:
            result = s.execute(
                update(CallbackControl)
                .where(
                    CallbackControl.name == self.name,
                    or_(
                        CallbackControl.holder == self.holder,
                        CallbackControl.holder.is_(None),
                        CallbackControl.expires_at < now,
                    ),
                )
                .values(
                    holder=self.holder,
                    expires_at=now + self.ttl,
                    # When the lease changed hands: a renewal keeps the takeover's time.
                    changed_at=case(
                        (CallbackControl.holder == self.holder, CallbackControl.changed_at),
                        else_=now,
                    ),
                )
            )
            return result.rowcount == 1

    def release(self) -> None:
        with self.db.session() as s:
            s.execute(
                update(CallbackControl)
                .where(CallbackControl.name == self.name, CallbackControl.holder == self.holder)
                .values(holder=None, expires_at=utcnow())
            )

    def current(self) -> tuple[str | None, datetime | None]:
        """(holder, expires_at) as stored; the holder is stale once expires_at has passed."""
        with self.db.session() as s:
            row = s.get(CallbackControl, self.name)
            return (row.holder, row.expires_at) if row else (None, None)

    def taken_at(self) -> datetime | None:
        """When the current holder took the lease (renewals do not move it)."""
        with self.db.session() as s:
            row = s.get(CallbackControl, self.name)
            return row.changed_at if row and row.holder else None
