"""The office's calendar entries (holidays and 调休 workdays) in the database.

`init_app(app)` installs a cached reader of the `calendar_days` table as core.calendar's
override source, so every working-day question in the app (opening hours, calling window,
due dates, reports) sees the entries. Other processes (scheduler, worker) see a change
within RELOAD_SECONDS; the process that writes sees it at once.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from datetime import date, datetime, timedelta

from sqlalchemy import Date, DateTime, String, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import calendar
from core.config import value
from core.db import Base, Database, get_db, utcnow
from core.health import Check, register

log = logging.getLogger(__name__)

RELOAD_SECONDS = 30.0
MAX_NAME_LENGTH = 40
# From this month on, /healthz warns when next year's arrangement is missing.
WARN_FROM_MONTH = 11


class CalendarDay(Base):
    """One day the office has declared a holiday or a workday."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(MAX_NAME_LENGTH))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CalendarEntryError(ValueError):
    """An entry that cannot be stored; `.errors` maps field -> message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def parse_entry(day: str, kind: str, name: str | None) -> tuple[date, str, str | None]:
    """Validate the text of an entry (page, API, CLI alike)."""
    errors: dict[str, str] = {}
    try:
        parsed = date.fromisoformat(str(day).strip())
    except ValueError:
        errors["date"] = f"not a date (YYYY-MM-DD): {day!r}"
        parsed = None
    kind = str(kind or "").strip().lower()
    if kind not in calendar.KINDS:
        errors["kind"] = f"must be one of {', '.join(calendar.KINDS)}"
    name = (name or "").strip() or None
    if name and len(name) > MAX_NAME_LENGTH:
        errors["name"] = f"at most {MAX_NAME_LENGTH} characters"
    if errors:
        raise CalendarEntryError(errors)
    return parsed, kind, name


MAX_RANGE_DAYS = 31  # one holiday period (the longest, Spring Festival, is 8-9 days)


def parse_range(first: date, last: str | None) -> list[date]:
    """The days from `first` to `last` (YYYY-MM-DD, inclusive; empty: `first` alone)."""
    if not last or not str(last).strip():
        return [first]
    try:
        end = date.fromisoformat(str(last).strip())
    except ValueError:
        raise CalendarEntryError({"until": f"not a date (YYYY-MM-DD): {last!r}"}) from None
    count = (end - first).days + 1
    if not 1 <= count <= MAX_RANGE_DAYS:
        raise CalendarEntryError(
            {"until": f"must be on or after the date, at most {MAX_RANGE_DAYS} days in all"}
        )
    return [first + timedelta(days=i) for i in range(count)]


def set_day(s: Session, day: date, kind: str, *, name: str | None, actor: str) -> CalendarDay:
    row = s.get(CalendarDay, day) or CalendarDay(day=day)
    row.kind, row.name, row.updated_by, row.updated_at = kind, name, actor, utcnow()
    s.add(row)
    log.info("calendar: %s set to %s (%s) by %s", day, kind, name or "-", actor)
    return row


def clear_day(s: Session, day: date, *, actor: str) -> bool:
    """Remove the office's entry for a day (the libraries decide again)."""
    row = s.get(CalendarDay, day)
    if row is None:
        return False
    s.delete(row)
    s.flush()
    log.info("calendar: entry for %s removed by %s", day, actor)
    return True


def entries(s: Session, year: int | None = None) -> list[CalendarDay]:
    stmt = select(CalendarDay).order_by(CalendarDay.day)
    if year is not None:
        stmt = stmt.where(
            CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)
        )
    return list(s.scalars(stmt))


class CachedOverrides:
    """A snapshot of the table, reloaded when older than RELOAD_SECONDS or after a write."""

    def __init__(self, db: Database, reload_seconds: float = RELOAD_SECONDS):
        self.db = db
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._data: dict[date, calendar.Override] = {}

    def invalidate(self) -> None:
        self._loaded_at = float("-inf")

    def __call__(self) -> dict[date, calendar.Override]:
        if _time.monotonic() - self._loaded_at < self.reload_seconds:
            return self._data
        with self._lock:
            if _time.monotonic() - self._loaded_at >= self.reload_seconds:
                self._data = self._load()
                self._loaded_at = _time.monotonic()
        return self._data

    def _load(self) -> dict[date, calendar.Override]:
        try:
            with self.db.Session() as s:
                rows = s.execute(select(CalendarDay.day, CalendarDay.kind, CalendarDay.name))
                return {d: calendar.Override(d, k, n) for d, k, n in rows}
        except SQLAlchemyError as exc:
            # A database not yet migrated (or down) must not stop calls: libraries only.
            log.warning("calendar entries unavailable (%s): using the libraries only", exc)
            return self._data


EXTENSION = "calendar.overrides"  # app.extensions key of the app's CachedOverrides


def source(app) -> CachedOverrides:
    return app.extensions[EXTENSION]


def _current_app_source() -> CachedOverrides | None:
    from flask import current_app, has_app_context

    return current_app.extensions.get(EXTENSION) if has_app_context() else None


def source_of_current_app() -> CachedOverrides:
    from flask import current_app

    return source(current_app)


def today(app=None) -> date:
    """The hotline's local date (the app's fixed clock in tests)."""
    if app is None:
        from flask import current_app

        app = current_app
    zone = value(app.config, "HOTLINE_TIMEZONE")
    # Tests fix the app's clock under this key (see ivr.services.clock).
    clock = app.extensions.get("ivr.clock")
    return calendar.local_now(zone, clock() if clock else None).date()


def health(app) -> object:
    """A warning (not a failure) from November on while next year's 调休 is not entered."""
    today_ = today(app)
    detail: dict = {"entries": len(source(app)())}
    if today_.month >= WARN_FROM_MONTH:
        year = today_.year + 1
        with app.app_context():
            known = calendar.arrangement_known(year)
        if not known:
            detail["warning"] = (
                f"{year}年调休安排未录入: the adjusted workdays of {year} are not entered; "
                f"enter the State Council's arrangement on the calendar page or with "
                f"`flask calendar set {year}-MM-DD workday`"
            )
    return Check(True, detail)


def init_app(app) -> None:
    """Install the table as the calendar's override source; register the health check."""
    cached = CachedOverrides(get_db(app))
    app.extensions[EXTENSION] = cached
    # Jobs running outside a request (scheduler threads) read the last app built.
    calendar.install_source(cached, context=_current_app_source)
    register(app, "calendar", health)
