"""Dashboard figures and the period report (the shape of the seed's annual report).

All counting is GROUP BY in the database over `opened_on` ranges (indexed);
Python only combines a handful of rows, so a year of a busy line stays fast.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.calendar import is_workday
from tickets.models import CHANNELS, DEMAND_TYPES, Ticket, Topic
from tickets.settings import local_today

TOP_TOPICS = 6
# The seed compares "the start of the year" with "the end of the year": a month each.
EDGE_WINDOW_DAYS = 30
SATISFIED = ("satisfied", "basically_satisfied")


def _in_period(stmt, start: date, end: date):
    return stmt.where(Ticket.opened_on >= start, Ticket.opened_on <= end)


def count(s: Session, start: date, end: date) -> int:
    return s.scalar(_in_period(select(func.count(Ticket.id)), start, end)) or 0


def counts_by(s: Session, column, start: date, end: date) -> dict[str, int]:
    """{value: tickets} for one column over the period, largest first."""
    stmt = _in_period(select(column, func.count(Ticket.id)), start, end).group_by(column)
    return _ranked((value, n) for value, n in s.execute(stmt))


def _ranked(pairs) -> dict[str, int]:
    totals: dict[str, int] = {}
    for value, n in pairs:
        key = value if value is not None else "unknown"
        totals[key] = totals.get(key, 0) + n
    return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))


BREAKDOWN = ("channel", "demand_type", "topic", "satisfaction")


def breakdown(s: Session, start: date, end: date) -> dict[str, dict[str, int]]:
    """Counts per channel, demand type, topic and satisfaction in ONE scan of the period.

    The combined GROUP BY has at most a few thousand groups (7 x 4 x topics x 5), so
    one pass over a year of tickets replaces four.
    """
    columns = [getattr(Ticket, name) for name in BREAKDOWN]
    stmt = _in_period(select(*columns, func.count(Ticket.id)), start, end).group_by(*columns)
    rows = s.execute(stmt).all()
    return {name: _ranked((row[i], row[-1]) for row in rows) for i, name in enumerate(BREAKDOWN)}


def volume_per_day(s: Session, start: date, end: date) -> list[tuple[date, int]]:
    """Tickets opened each day of the period, days without tickets included as 0."""
    stmt = _in_period(select(Ticket.opened_on, func.count(Ticket.id)), start, end)
    found = dict(s.execute(stmt.group_by(Ticket.opened_on)).all())
    days = (end - start).days + 1
    return [(start + timedelta(d), found.get(start + timedelta(d), 0)) for d in range(days)]


def shares(counts: dict[str, int]) -> dict[str, float]:
    """Percentages (one decimal) of a {value: count} mapping."""
    total = sum(counts.values())
    return {k: round(100.0 * v / total, 2) if total else 0.0 for k, v in counts.items()}


def satisfaction(counts: dict[str, int]) -> dict:
    """Survey results of a period's tickets and the share satisfied or basically satisfied."""
    rows = {k: v for k, v in counts.items() if k != "unknown"}
    rated = sum(rows.values())
    good = sum(rows.get(k, 0) for k in SATISFIED)
    return {
        "counts": rows,
        "rated": rated,
        "rate": round(100.0 * good / rated, 2) if rated else None,
    }


def on_time(s: Session, start: date, end: date, today: date) -> dict:
    """Of the tickets due in the period (and already due), the share answered by the due date."""
    last = min(end, today - timedelta(days=1))
    answered = case((Ticket.resolved_on <= Ticket.due_date, 1), else_=0)
    stmt = select(func.count(Ticket.id), func.coalesce(func.sum(answered), 0)).where(
        Ticket.due_date >= start, Ticket.due_date <= last
    )
    due, in_time = s.execute(stmt).one()
    return {
        "due": due,
        "on_time": int(in_time),
        "rate": round(100.0 * int(in_time) / due, 2) if due else None,
    }


def topic_names(s: Session) -> dict[str, str]:
    return dict(s.execute(select(Topic.code, Topic.name)).all())


def dashboard(s: Session, start: date, end: date, *, today: date | None = None) -> dict:
    """Figures for the dashboard charts over [start, end] (local dates, inclusive)."""
    today = today or local_today()
    counts = breakdown(s, start, end)
    channels, demand, topics = counts["channel"], counts["demand_type"], counts["topic"]
    names = topic_names(s)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "total": sum(channels.values()),
        "volume_per_day": [(d.isoformat(), n) for d, n in volume_per_day(s, start, end)],
        "channels": channels,
        "channel_shares": shares(channels),
        "demand_types": demand,
        "demand_type_shares": shares(demand),
        "top_topics": [
            {"topic": t, "name": names.get(t, t), "count": n} for t, n in list(topics.items())[:10]
        ],
        "satisfaction": satisfaction(counts["satisfaction"]),
        "on_time": on_time(s, start, end, today),
    }


@dataclass
class PeriodReport:
    start: date
    end: date
    total: int
    previous_total: int
    growth_pct: float | None
    channels: dict[str, int]
    demand_type_pct: dict[str, float]
    top_topics: list[tuple[str, str, int]]  # (code, name, count)
    workday_avg_start: float | None
    workday_avg_end: float | None
    extra: dict = field(default_factory=dict)


def workday_average(s: Session, start: date, end: date) -> float | None:
    """Tickets per working day (Chinese calendar) over [start, end]."""
    per_day = volume_per_day(s, start, end)
    workdays = [n for d, n in per_day if is_workday(d)]
    return round(sum(workdays) / len(workdays), 1) if workdays else None


def period_report(
    s: Session, start: date, end: date, edge_days: int = EDGE_WINDOW_DAYS
) -> PeriodReport:
    """Totals and growth against the previous period of the same length, as the seed reports."""
    length = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    prev_start = prev_end - timedelta(days=length - 1)
    counts = breakdown(s, start, end)
    channels, demand = counts["channel"], counts["demand_type"]
    total = sum(channels.values())
    previous = count(s, prev_start, prev_end)
    topics = {k: v for k, v in counts["topic"].items() if k != "unknown"}
    names = topic_names(s)
    edge = max(1, min(edge_days, length // 2 or 1))
    return PeriodReport(
        start=start,
        end=end,
        total=total,
        previous_total=previous,
        growth_pct=round(100.0 * (total - previous) / previous, 2) if previous else None,
        channels=channels,
        demand_type_pct=shares(demand),
        top_topics=[(t, names.get(t, t), n) for t, n in list(topics.items())[:TOP_TOPICS]],
        workday_avg_start=workday_average(s, start, start + timedelta(days=edge - 1)),
        workday_avg_end=workday_average(s, end - timedelta(days=edge - 1), end),
    )


def report_csv(report: PeriodReport) -> str:
    """The period report as CSV: section, item, value (UTF-8 BOM for spreadsheet programs)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "item", "value"])
    w.writerow(["period", "start", report.start.isoformat()])
    w.writerow(["period", "end", report.end.isoformat()])
    w.writerow(["total", "tickets", report.total])
    w.writerow(["total", "previous period", report.previous_total])
    w.writerow(["total", "growth %", "" if report.growth_pct is None else report.growth_pct])
    for channel, n in report.channels.items():
        w.writerow(["channel", CHANNELS.get(channel, channel), n])
    for demand, pct in report.demand_type_pct.items():
        w.writerow(["demand type %", DEMAND_TYPES.get(demand, demand), pct])
    for rank, (_, name, n) in enumerate(report.top_topics, 1):
        w.writerow(["top topics", f"{rank}. {name}", n])
    w.writerow(["workday daily average", "start of period", report.workday_avg_start or ""])
    w.writerow(["workday daily average", "end of period", report.workday_avg_end or ""])
    return "\ufeff" + out.getvalue()
