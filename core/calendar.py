"""Working days and local time on the Chinese public-holiday calendar.

Holidays and adjusted workdays (调休) come from the maintained `chinese_calendar`
package. For a year the package does not cover yet (the State Council publishes
each year's schedule in November), Monday–Friday is assumed and a warning is
logged once per year, so the line keeps working while someone upgrades it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


def is_workday(day: date) -> bool:
    """True on a working day, counting adjusted weekend workdays; False on holidays."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "holiday calendar has no data for %s: assuming Monday-Friday; "
                "upgrade chinese-calendar",
                day.year,
            )
        return day.weekday() < 5


def is_holiday(day: date) -> bool:
    """True on a public holiday or an ordinary weekend (not an adjusted workday)."""
    return not is_workday(day)


def holiday_name(day: date) -> str | None:
    """Name of the public holiday on this day, if the calendar knows one."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return name if on_holiday else None


def calendar_covers(year: int) -> bool:
    """Whether the holiday package has data for this year."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
        return True
    except NotImplementedError:
        return False


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def next_working_day(day: date) -> date:
    return add_working_days(day, 1)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]."""
    count, current = 0, start
    while current < end:
        current += timedelta(days=1)
        count += is_workday(current)
    return count


def local_now(tz: str, now: datetime | None = None) -> datetime:
    """Now (or the given aware datetime) in the hotline's time zone."""
    zone = ZoneInfo(tz)
    return (now or datetime.now(zone)).astimezone(zone)


def parse_window(spec: str) -> tuple[time, time]:
    """'09:00-20:00' -> (09:00, 20:00); raises ValueError with the bad spec."""
    try:
        start_s, end_s = spec.split("-")
        start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    except ValueError as exc:
        raise ValueError(f"bad time window {spec!r}: expected HH:MM-HH:MM") from exc
    if start >= end:
        raise ValueError(f"bad time window {spec!r}: start must be before end")
    return start, end


def in_window(moment: datetime, spec: str) -> bool:
    """Whether a local datetime lies inside an HH:MM-HH:MM window."""
    start, end = parse_window(spec)
    return start <= moment.time() < end
