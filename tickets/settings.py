"""Settings of the tickets package, read from the Flask app when there is one.

Processes outside Flask (scheduler, benchmarks) get the documented defaults
of core.config.SETTINGS.
"""

from __future__ import annotations

from core.config import SETTINGS_BY_NAME

_FALLBACK = {
    "TICKET_DUE_DAYS": "consultation=3,complaint=13,suggestion=10,other=10",
    "RETENTION_DAYS": "180",
    "SURGE_WINDOW_HOURS": "24",
    "SURGE_MIN_COUNT": "5",
    "SURGE_RATIO": "3",
}


def setting(name: str) -> str:
    try:
        from flask import current_app

        value = current_app.config.get(name)
    except RuntimeError:  # outside an application context
        value = None
    if value is None:
        known = SETTINGS_BY_NAME.get(name)
        value = known.default if known is not None else _FALLBACK[name]
    return str(value)


def hotline_timezone() -> str:
    return setting("HOTLINE_TIMEZONE")


def parse_due_days(spec: str) -> dict[str, int]:
    """'consultation=3,complaint=13' -> {'consultation': 3, 'complaint': 13, 'other': ...}."""
    days: dict[str, int] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        try:
            days[name.strip()] = int(value)
        except ValueError as exc:
            raise ValueError(f"TICKET_DUE_DAYS: bad entry {part!r} (expected type=days)") from exc
    days.setdefault("other", max(days.values(), default=10))
    return days


def due_days() -> dict[str, int]:
    return parse_due_days(setting("TICKET_DUE_DAYS"))
