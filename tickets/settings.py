"""Settings of the tickets package, read from the Flask app when there is one.

Processes outside Flask (benchmarks, scripts) get the documented defaults of
core.config.SETTINGS; values are parsed by their kind (core.config.value).
"""

from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context

from core.calendar import local_now
from core.config import value


def setting(name: str):
    """A setting's parsed value from the current app, or its default outside one."""
    return value(current_app.config if has_app_context() else {}, name)


def hotline_timezone() -> str:
    return setting("HOTLINE_TIMEZONE")


def local_today() -> date:
    """Today in the hotline's time zone."""
    return local_now(hotline_timezone()).date()


def due_days() -> dict[str, int]:
    """Working days to answer a ticket, per demand type ('other' for the rest)."""
    return setting("TICKET_DUE_DAYS")
