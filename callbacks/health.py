"""Health check: is a scheduler process active (fresh lease), are calls paused, and does
the flow have the entries the calls start on."""

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
    flow = app.extensions["ivr.flows"].current
    missing = [e for e in m.ENTRIES.values() if flow is not None and e not in flow.entries]
    # No active scheduler alone is not a failure (the web tier works without it), but due
    # calls that nobody will place are: then /healthz says degraded (503). So is a flow
    # without the entries the calls start on (they are not dialled until it has them).
    detail = {"scheduler": lease.holder if active else None, "paused": paused, "due": due}
    if missing:
        detail["flow_entries_missing"] = missing
    return health.Check((active or due == 0 or paused) and not missing, detail)


def due_count(app) -> int:
    with get_db(app).session() as s:
        return s.query(m.CallbackAttempt).filter(m.CallbackAttempt.state == m.DUE).count()


def init_app(app) -> None:
    health.register(app, "callbacks", check)
    metrics.register(app, "hotline_callbacks_due", "Follow-up calls due, not yet placed", due_count)
