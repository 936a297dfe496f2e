"""Health: callers waiting while an agent of their queue is free means nobody distributes.

`flask agents run` is a process of its own; if it is not running, callers wait until
the overflow while agents sit idle. /healthz says degraded (503) when a caller has
waited longer than STALL_SECONDS with an available agent in the same queue.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from agents import models as m
from core import health
from core.db import get_db, utcnow

# Far above the distributor's quarter-second tick plus a slow database.
STALL_SECONDS = 10


def check(app) -> health.Check:
    cutoff = utcnow() - timedelta(seconds=STALL_SECONDS)
    with get_db(app).session() as s:
        stalled = s.scalar(
            select(func.count(func.distinct(m.QueueCall.id)))
            .join(m.AgentQueue, m.AgentQueue.queue == m.QueueCall.queue)
            .join(m.Agent, m.Agent.id == m.AgentQueue.agent_id)
            .where(
                m.QueueCall.state == m.WAITING,
                m.QueueCall.entered_at < cutoff,
                m.Agent.status == m.AVAILABLE,
                m.Agent.device.is_not(None),
            )
        )
        waiting = s.scalar(select(func.count()).where(m.QueueCall.state.in_(m.OPEN_QUEUE_STATES)))
    detail = {"waiting": waiting, "stalled": stalled}
    if stalled:
        detail["hint"] = "callers wait while agents are free: is `flask agents run` running?"
    return health.Check(stalled == 0, detail)


def init_app(app) -> None:
    health.register(app, "agents", check)
