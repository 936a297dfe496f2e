"""Working days and local time on the Chinese public-holiday calendar.

A day's status comes from, in order of precedence:

1. the office's own entries (overrides: 法定节假日 and 调休 workdays entered on the calendar
   page, `flask calendar set` or `PUT /api/calendar/<date>`; see core.calendar_store);
2. `chinese_calendar`, for the years it has data for;
3. the `holidays` package, which computes statutory holidays for any year and knows the
   adjusted workdays of the years its maintainers have entered;
4. Monday–Friday.

The State Council publishes next year's arrangement in November; until someone enters it,
`arrangement_known(next_year)` is False and /healthz says so (a warning, not a failure).

The public functions keep their signatures: tickets (due dates), callbacks (calling window),
the IVR (opening hours) and reports all read the calendar through them. Overrides come from a
source the app installs (`install_source`); without one, only the libraries are consulted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

log = logging.getLogger(__name__)
_warned_years: set[int] = set()

HOLIDAY = "holiday"
WORKDAY = "workday"
KINDS = (HOLIDAY, WORKDAY)


@dataclass(frozen=True)
class Override:
    """An entry of the office: this day is a holiday or a workday, whatever the libraries say."""

    day: date
    kind: str  # HOLIDAY or WORKDAY
    name: str | None = None


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says about one day, and why."""

    day: date
    workday: bool
    name: str | None
    source: str  # "override", "chinese_calendar", "holidays" or "weekday"
    adjusted: bool = False  # a weekend made a workday (调休上班)

    @property
    def label(self) -> str:
        if self.workday:
            return "调休上班 adjusted workday" if self.adjusted else "工作日 workday"
        if self.name:
            return f"{self.name} holiday"
        return "休息日 weekend"


OverrideSource = Callable[[], Mapping[date, Override]]
_process_source: OverrideSource | None = None
_context_source: Callable[[], OverrideSource | None] | None = None


def install_source(
    source: OverrideSource | None,
    context: Callable[[], OverrideSource | None] | None = None,
) -> None:
    """Where overrides come from: `context()` names the current app's source (None outside
    an app), `source` serves everything else (scheduler and worker threads)."""
    global _process_source, _context_source
    _process_source = source
    if context is not None:
        _context_source = context


def overrides() -> Mapping[date, Override]:
    """The office's entries: the current app's, else the process's, else none."""
    source = _context_source() if _context_source is not None else None
    source = source or _process_source
    return source() if source is not None else {}


@lru_cache(maxsize=64)
def _library(year: int, language: str = "zh_CN") -> holidays.HolidayBase:
    return holidays.China(years=year, language=language)


def _chinese_calendar(day: date) -> tuple[bool, str | None] | None:
    """(workday, holiday name) from chinese_calendar, or None for a year it does not cover."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return (not on_holiday), name


def _library_workdays(year: int) -> set[date]:
    return {d for d in _library(year).weekend_workdays if d.year == year}


def calendar_covers(year: int) -> bool:
    """Whether a library knows this year's adjusted workdays (not just its holidays)."""
    covered = _chinese_calendar(date(year, 6, 1)) is not None
    return covered or bool(_library_workdays(year))


def arrangement_known(year: int) -> bool:
    """Whether the year's 调休 workdays are known: from a library, or entered by the office."""
    if calendar_covers(year):
        return True
    return any(o.kind == WORKDAY and o.day.year == year for o in overrides().values())


def _base(day: date) -> DayInfo:
    weekend = day.weekday() >= 5
    known = _chinese_calendar(day)
    if known is not None:
        workday, _ = known
        name = _library(day.year).get(day) if not workday else None
        return DayInfo(day, workday, name, "chinese_calendar", adjusted=workday and weekend)
    library = _library(day.year)
    if day in library.weekend_workdays:
        return DayInfo(day, True, None, "holidays", adjusted=True)
    if day in library:
        return DayInfo(day, False, library.get(day), "holidays")
    if day.year not in _warned_years and not arrangement_known(day.year):
        _warned_years.add(day.year)
        log.warning(
            "holiday calendar has no data for %s's adjusted workdays (调休): statutory holidays "
            "from the holidays package, weekends otherwise; enter the arrangement with "
            "`flask calendar set`",
            day.year,
        )
    return DayInfo(day, not weekend, None, "weekday")


def day_info(day: date) -> DayInfo:
    """The day's status: the office's entry wins over the libraries."""
    entry = overrides().get(day)
    if entry is not None:
        workday = entry.kind == WORKDAY
        name = entry.name or (None if workday else _library(day.year).get(day))
        return DayInfo(day, workday, name, "override", adjusted=workday and day.weekday() >= 5)
    return _base(day)


def year_days(year: int) -> list[DayInfo]:
    """Every day of the year that is not an ordinary weekday or weekend (holidays, 调休, entries)."""
    day, out = date(year, 1, 1), []
    while day.year == year:
        info = day_info(day)
        if info.source == "override" or info.adjusted or info.name:
            out.append(info)
        day += timedelta(days=1)
    return out


def is_workday(day: date) -> bool:
    """True on a working day, counting adjusted weekend workdays; False on holidays."""
    return day_info(day).workday


def is_holiday(day: date) -> bool:
    """True on a public holiday or an ordinary weekend (not an adjusted workday)."""
    return not is_workday(day)


def holiday_name(day: date) -> str | None:
    """Name of the public holiday on this day, if the calendar knows one."""
    entry = overrides().get(day)
    if entry is not None:
        return entry.name if entry.kind == HOLIDAY else None
    known = _chinese_calendar(day)
    if known is not None:
        return None if known[0] else known[1]
    return _library(day.year, "en_US").get(day)


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


# "24:00" ends a window at midnight (a normal way to write "all day": 00:00-24:00).
END_OF_DAY = time.max


def parse_window(spec: str) -> tuple[time, time]:
    """'09:00-20:00' -> (09:00, 20:00); '00:00-24:00' ends at END_OF_DAY; ValueError if bad."""
    try:
        start_s, end_s = spec.split("-")
        start = time.fromisoformat(start_s.strip())
        end_s = end_s.strip()
        end = END_OF_DAY if end_s in ("24:00", "24:00:00") else time.fromisoformat(end_s)
    except ValueError as exc:
        raise ValueError(f"bad time window {spec!r}: expected HH:MM-HH:MM") from exc
    if start >= end:
        raise ValueError(f"bad time window {spec!r}: start must be before end")
    return start, end


def window_contains(window: tuple[time, time], clock: time) -> bool:
    """Whether a local time of day lies in [start, end); a window to 24:00 includes 23:59:59.9."""
    start, end = window
    return start <= clock and (clock < end or end == END_OF_DAY)


def in_window(moment: datetime, spec: str) -> bool:
    """Whether a local datetime lies inside an HH:MM-HH:MM window."""
    return window_contains(parse_window(spec), moment.time())
