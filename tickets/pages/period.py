"""The period a dashboard or report covers: from/to in the query string, or a preset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

# A period longer than this is refused (cost of a report is bounded).
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def args(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def presets(today: date) -> list[tuple[str, Period]]:
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return [
        ("近7天 7 days", Period(today - timedelta(days=6), today)),
        ("近30天 30 days", Period(today - timedelta(days=29), today)),
        ("本月 This month", Period(first_of_month, today)),
        ("上月 Last month", Period(last_month_end.replace(day=1), last_month_end)),
        ("今年 This year", Period(date(today.year, 1, 1), today)),
        ("去年 Last year", Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))),
    ]


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def from_args(args, today: date, default: Period) -> Period:
    """The requested period; a malformed, reversed or overlong one falls back to `default`."""
    start, end = _date(args.get("from")), _date(args.get("to"))
    if start is None or end is None or start > end or (end - start).days >= MAX_PERIOD_DAYS:
        return default
    return Period(start, end)
