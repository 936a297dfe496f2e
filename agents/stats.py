"""Queue figures: the wallboard's now, and per-day service figures for reports.

A caller who overflowed, chose to wait again and was then answered has two stays
in the queue but is one call: figures count calls (CallSid), each judged by its
best outcome and timed from its first entry. Definitions (GB/T 33358 terms):

  offered      calls that entered the queue that day
  answered     calls an agent answered (接通)
  abandoned    calls whose caller hung up while waiting (放弃)
  connection_rate           answered / calls whose wait has ended (接通率)
  answered_within_15s_rate  answered within 15 s / calls whose wait has ended
  asa_seconds  average speed of answer: mean wait of answered calls
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents import models as m
from core.db import utcnow

SERVICE_LEVEL_SECONDS = 15  # GB/T 33358-2016: answer within 15 s


@dataclass
class DayFigures:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    left: int = 0
    waiting: int = 0
    within: int = 0
    waits: list[float] = field(default_factory=list)
    talk: list[int] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return self.answered + self.abandoned + self.left

    def as_dict(self) -> dict:
        done = self.finished
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "overflowed": self.left,
            "answered_within_15s": self.within,
            "answered_within_15s_rate": round(self.within / done, 4) if done else None,
            "connection_rate": round(self.answered / done, 4) if done else None,
            "abandonment_rate": round(self.abandoned / done, 4) if done else None,
            "asa_seconds": round(sum(self.waits) / len(self.waits), 1) if self.waits else None,
            "average_talk_seconds": round(sum(self.talk) / len(self.talk), 1)
            if self.talk
            else None,
        }


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The local day's start and end in UTC: SQLite keeps datetimes as UTC text without an
    offset, so a bound in another zone would compare eight hours off."""
    start = datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def _stays(s: Session, start: datetime, end: datetime, queue: str | None) -> list[m.QueueCall]:
    query = select(m.QueueCall).where(m.QueueCall.entered_at >= start, m.QueueCall.entered_at < end)
    if queue is not None:
        query = query.where(m.QueueCall.queue == queue)
    return list(s.scalars(query.order_by(m.QueueCall.entered_at, m.QueueCall.id)))


def figures(stays: list[m.QueueCall]) -> DayFigures:
    """Per-call figures from stays (see the module docstring)."""
    calls: dict[str, list[m.QueueCall]] = defaultdict(list)
    for stay in stays:
        calls[stay.call_sid].append(stay)
    out = DayFigures(offered=len(calls))
    for group in calls.values():
        first = m.aware(group[0].entered_at)
        answered = next((x for x in group if x.state == m.ANSWERED), None)
        if answered is not None:
            wait = (m.aware(answered.answered_at) - first).total_seconds()
            out.answered += 1
            out.waits.append(wait)
            out.within += wait <= SERVICE_LEVEL_SECONDS
            if answered.talk_seconds is not None:
                out.talk.append(answered.talk_seconds)
        elif any(x.state in m.OPEN_QUEUE_STATES for x in group):
            out.waiting += 1
        elif group[-1].state == m.ABANDONED:
            out.abandoned += 1
        else:
            out.left += 1
    return out


def day_figures(s: Session, day: date, tz: str, queue: str | None = None) -> DayFigures:
    return figures(_stays(s, *day_bounds(day, tz), queue))


def queue_now(s: Session, queue: str, *, tz: str, now: datetime | None = None) -> dict:
    """GET /api/queues/<name>: who waits, agents by status, and today's figures."""
    now = now or utcnow()
    open_stays = s.execute(
        select(func.count(), func.min(m.QueueCall.entered_at)).where(
            m.QueueCall.queue == queue, m.QueueCall.state.in_(m.OPEN_QUEUE_STATES)
        )
    ).one()
    longest = (now - m.aware(open_stays[1])).total_seconds() if open_stays[1] else 0
    by_status = dict.fromkeys(m.STATUSES, 0)
    for status, count in s.execute(
        select(m.Agent.status, func.count())
        .join(m.AgentQueue, m.AgentQueue.agent_id == m.Agent.id)
        .where(m.AgentQueue.queue == queue)
        .group_by(m.Agent.status)
    ):
        by_status[status] = count
    today = now.astimezone(ZoneInfo(tz)).date()
    return {
        "queue": queue,
        "waiting": open_stays[0],
        "longest_wait_seconds": round(max(0.0, longest), 1),
        "agents": by_status,
        "today": {"date": today.isoformat(), **day_figures(s, today, tz, queue).as_dict()},
    }


def agents_board(s: Session, queue: str | None = None, now: datetime | None = None) -> list[dict]:
    """Each agent: status, since when, why (e.g. not responding), queues, calls today."""
    now = now or utcnow()
    query = select(m.Agent).order_by(m.Agent.username)
    if queue is not None:
        query = query.join(m.AgentQueue).where(m.AgentQueue.queue == queue)
    return [
        {
            "username": a.username,
            "status": a.status,
            "reason": a.reason,
            "seconds_in_status": int((now - m.aware(a.status_since)).total_seconds()),
            "queues": a.queue_names,
        }
        for a in s.scalars(query)
    ]


def known_queues(s: Session) -> list[str]:
    names = set(s.scalars(select(m.AgentQueue.queue).distinct()))
    names |= set(s.scalars(select(m.QueueCall.queue).distinct()))
    return sorted(names)


def per_agent(s: Session, day: date, tz: str) -> list[dict]:
    """Calls answered and handle time (talk + wrap-up) per agent on that day."""
    start, end = day_bounds(day, tz)
    rows: dict[str, dict] = {}
    for stay in s.scalars(
        select(m.QueueCall).where(
            m.QueueCall.answered_at >= start,
            m.QueueCall.answered_at < end,
            m.QueueCall.agent.is_not(None),
        )
    ):
        row = rows.setdefault(stay.agent, {"agent": stay.agent, "calls": 0, "talk_seconds": 0})
        row["calls"] += 1
        row["talk_seconds"] += stay.talk_seconds or 0
    wrap = _wrap_up_seconds(s, start, end)
    for name, row in rows.items():
        row["wrap_up_seconds"] = int(wrap.get(name, 0))
        row["handle_seconds"] = row["talk_seconds"] + row["wrap_up_seconds"]
        row["average_handle_seconds"] = round(row["handle_seconds"] / row["calls"], 1)
    return sorted(rows.values(), key=lambda r: r["agent"])


def _wrap_up_seconds(s: Session, start: datetime, end: datetime) -> dict[str, float]:
    """Time each agent spent in wrap-up, from the presence history."""
    changes = s.scalars(
        select(m.PresenceChange)
        .where(m.PresenceChange.at >= start, m.PresenceChange.at < end)
        .order_by(m.PresenceChange.username, m.PresenceChange.at, m.PresenceChange.id)
    ).all()
    total: dict[str, float] = defaultdict(float)
    entered: dict[str, datetime] = {}
    for change in changes:
        at = m.aware(change.at)
        if change.from_status == m.WRAP_UP and change.username in entered:
            total[change.username] += (at - entered.pop(change.username)).total_seconds()
        if change.to_status == m.WRAP_UP:
            entered[change.username] = at
    return total


def period_figures(s: Session, start: date, end: date, tz: str) -> DayFigures:
    """The same figures over whole days from `start` to `end` (inclusive)."""
    return figures(_stays(s, day_bounds(start, tz)[0], day_bounds(end, tz)[1], None))
