"""Health check: is a scheduler process active (fresh lease), and are calls paused."""

from __future__ import annotations

from callbacks import models as m
from callbacks.lease import LEASE_NAME
from callbacks.service import is_paused
from core import health, metrics
from core.db import get_db, utcnow


def check(app) -> health.Check:
    with get_db(app).session() as s:
        lease = s.get(m.CallbackControl, LEASE_NAME)
        paused = is_paused(s)
        active = bool(lease and lease.holder and m.aware(lease.expires_at) > utcnow())
        due = s.query(m.CallbackAttempt).filter(m.CallbackAttempt.state == m.DUE).count()
    # No active scheduler alone is not a failure (the web tier works without it), but due
    # calls that nobody will place are: then /healthz says degraded (503).
    return health.Check(
        active or due == 0 or paused,
        {"scheduler": lease.holder if active else None, "paused": paused, "due": due},
    )


def due_count(app) -> int:
    with get_db(app).session() as s:
        return s.query(m.CallbackAttempt).filter(m.CallbackAttempt.state == m.DUE).count()


def init_app(app) -> None:
    health.register(app, "callbacks", check)
    metrics.register(app, "hotline_callbacks_due", "Follow-up calls due, not yet placed", due_count)
