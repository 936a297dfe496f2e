"""Template filters every page of the layout may use (registered app-wide)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from core.config import value


def localtime(dt: datetime | None) -> str:
    """A stored UTC moment in the hotline's time zone, 'YYYY-MM-DD HH:MM'."""
    if dt is None:
        return ""
    if dt.tzinfo is None:  # SQLite returns naive UTC
        dt = dt.replace(tzinfo=UTC)
    tz = ZoneInfo(value(current_app.config, "HOTLINE_TIMEZONE"))
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def init_app(app) -> None:
    app.jinja_env.filters["localtime"] = localtime
