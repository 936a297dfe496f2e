"""The planning view of the line: history → forecast → agents per half hour → rota.

The one place that reads the database and the settings; forecast, erlang and staffing
stay pure. Used by the CLI and the supervisor page alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from core import calendar as core_calendar
from core.config import value
from planning import history, staffing
from planning.forecast import Calendar, Forecast, ForecastError, forecast
from planning.history import SlotStats
from tickets import surges

HISTORY_DAYS = 3 * 365  # older years say little about next fortnight's level
AHT_DAYS = 28
REVIEW_DAYS = 14


@dataclass(frozen=True)
class Settings:
    tz: ZoneInfo
    target: staffing.Target
    shift_hours: float
    shift_starts: str
    wrap_up_seconds: float = 0

    @classmethod
    def from_config(cls, config) -> Settings:
        return cls(
            tz=ZoneInfo(value(config, "HOTLINE_TIMEZONE")),
            target=staffing.Target(
                answer_within=float(config["PLANNING_ANSWER_WITHIN"]),
                service_level=float(config["PLANNING_SERVICE_LEVEL"]),
                aht_seconds=float(config["PLANNING_AHT_SECONDS"]),
                shrinkage=float(config["PLANNING_SHRINKAGE"]),
                max_occupancy=float(config["PLANNING_MAX_OCCUPANCY"]),
            ),
            shift_hours=float(config["PLANNING_SHIFT_HOURS"]),
            shift_starts=str(config["PLANNING_SHIFT_STARTS"]),
            wrap_up_seconds=float(value(config, "AGENT_WRAP_UP_SECONDS")),
        )


@dataclass(frozen=True)
class PastDay:
    day: date
    offered: int
    forecast: float
    planned_service_level: float | None  # Erlang C: the plan's agents for the actual calls
    achieved_service_level: float | None  # from the records, where they say so


@dataclass(frozen=True)
class Plan:
    first: date
    forecast: Forecast
    needs: list[staffing.SlotNeed]
    rota: staffing.Rota
    target: staffing.Target
    aht_source: str  # "records" or "setting"
    actual_daily: dict[date, int]  # offered calls per day before `first`, as loaded
    review: list[PastDay]

    @property
    def history_days(self) -> int:
        return len(self.actual_daily)


def hotline_calendar() -> Calendar:
    return Calendar(core_calendar.is_workday, core_calendar.holiday_name)


def _aht(slots: dict[datetime, SlotStats], first: date, target: staffing.Target):
    recent = [st for k, st in slots.items() if first - timedelta(days=AHT_DAYS) <= k.date() < first]
    measured = history.average_handle_seconds(recent)
    if measured:
        return staffing.Target(**{**target.__dict__, "aht_seconds": measured}), "records"
    return target, "setting"


def build(s: Session, settings: Settings, first: date, days: int = 14) -> Plan:
    """Forecast, staffing and rota for `days` days from `first`; raises ForecastError."""
    if not 1 <= days <= 62:
        raise ForecastError(f"days must be between 1 and 62 (got {days})")
    since = history.first_day(s, settings.tz)
    if since is None:
        raise ForecastError(
            "还没有来电记录，无法预测。No call history yet: the forecast needs at least "
            "14 days of calls (or `flask planning import calls.csv`)."
        )
    since = max(since, first - timedelta(days=HISTORY_DAYS))
    slots = history.load(
        s,
        since,
        first + timedelta(days=days),
        settings.tz,
        answer_within=settings.target.answer_within,
        wrap_up_seconds=settings.wrap_up_seconds,
    )
    cal = hotline_calendar()
    exclude = surges.surge_days(s, since, first)
    fc = forecast(slots, cal, first, days, exclude=exclude)
    target, source = _aht(slots, first, settings.target)
    needs = staffing.needs(fc.slots, target)
    rota = staffing.plan(
        staffing.required_by_slot(needs),
        staffing.parse_starts(settings.shift_starts),
        settings.shift_hours,
    )
    review = _review(slots, cal, first, target, exclude)
    return Plan(
        first=first,
        forecast=fc,
        needs=needs,
        rota=rota,
        target=target,
        aht_source=source,
        actual_daily=history.daily_totals({k: v for k, v in slots.items() if k.date() < first}),
        review=review,
    )


def _review(slots, cal, first: date, target: staffing.Target, exclude) -> list[PastDay]:
    """The last fortnight: what a plan made the day before it would have delivered."""
    origin = first - timedelta(days=REVIEW_DAYS)
    try:
        past = forecast(slots, cal, origin, REVIEW_DAYS, exclude=exclude)
    except ForecastError:
        return []
    needs = {n.start: n for n in staffing.needs(past.slots, target)}
    out = []
    for day in past.days:
        actual = [(k, st) for k, st in slots.items() if k.date() == day.day]
        offered = sum(st.offered for _, st in actual)
        planned = None
        if offered:
            weighted = sum(
                st.offered
                * staffing.planned_service_level(st.offered, needs[k].staffing.agents, target)
                for k, st in actual
                if k in needs
            )
            planned = weighted / offered
        out.append(
            PastDay(
                day=day.day,
                offered=offered,
                forecast=day.calls,
                planned_service_level=planned,
                achieved_service_level=history.achieved_service_level(st for _, st in actual),
            )
        )
    return out


def _num(x: float) -> float | None:
    return round(x, 4) if math.isfinite(x) else None


def as_data(plan: Plan) -> dict:
    """The plan as plain data (CLI --json and the CSV export share it)."""
    fc = plan.forecast
    return {
        "first_day": plan.first.isoformat(),
        "trained_days": fc.trained_days,
        "excluded_days": [d.isoformat() for d in fc.excluded],
        "interval_level": fc.level,
        "aht_seconds": round(plan.target.aht_seconds, 1),
        "aht_source": plan.aht_source,
        "target": {
            "answer_within": plan.target.answer_within,
            "service_level": plan.target.service_level,
            "shrinkage": plan.target.shrinkage,
        },
        "days": [
            {
                "date": d.day.isoformat(),
                "kind": d.kind,
                "calls": round(d.calls, 1),
                "low": round(d.low, 1),
                "high": round(d.high, 1),
            }
            for d in fc.days
        ],
        "slots": [
            {
                "start": n.start.isoformat(timespec="minutes"),
                "calls": round(n.calls, 2),
                "low": round(slot.low, 2),
                "high": round(slot.high, 2),
                "agents": n.staffing.agents,
                "scheduled": n.staffing.scheduled,
                "rostered": plan.rota.coverage.get(n.start, 0),
                "service_level": _num(n.staffing.service_level),
                "asa_seconds": _num(n.staffing.asa_seconds),
                "occupancy": _num(n.staffing.occupancy),
            }
            for n, slot in zip(plan.needs, fc.slots, strict=True)
        ],
        "shifts": [
            {
                "start": sh.start.isoformat(timespec="minutes"),
                "end": sh.end.isoformat(timespec="minutes"),
                "agents": sh.agents,
            }
            for sh in plan.rota.shifts
        ],
    }
