"""Tickets as JSON (API) and as CSV rows (export); one field list for both.

The caller's number goes through tickets.disclosure, like on the pages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tickets.disclosure import shown_number
from tickets.models import Article, Ticket
from tickets.settings import hotline_timezone, local_today

CSV_COLUMNS = (
    "number",
    "opened_on",
    "channel",
    "demand_type",
    "topic",
    "district",
    "location",
    "status",
    "department",
    "due_date",
    "overdue",
    "satisfaction",
    "description",
    "summary",
    "reply",
    "created_at",
    "resolved_at",
    "closed_at",
)

LOCAL_TIME_COLUMNS = ("created_at", "resolved_at", "closed_at")


def _iso(value):
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite returns our UTC datetimes naive
    return value.isoformat()


def ticket_to_dict(ticket: Ticket, *, today=None, events: bool = False) -> dict:
    today = today or local_today()
    data = {
        "number": ticket.number,
        "opened_on": _iso(ticket.opened_on),
        "channel": ticket.channel,
        "caller_number": shown_number(ticket.caller_number),
        "demand_type": ticket.demand_type,
        "topic": ticket.topic,
        "district": ticket.district,
        "location": ticket.location,
        "description": ticket.description,
        "summary": ticket.summary,
        "transcript": ticket.transcript,
        "transcript_confidence": ticket.transcript_confidence,
        "has_recording": bool(ticket.recording_url or ticket.recording_path),
        "status": ticket.status,
        "department": ticket.department.code if ticket.department else None,
        "due_date": _iso(ticket.due_date),
        "overdue": bool(ticket.is_open and ticket.due_date and ticket.due_date < today),
        "reply": ticket.reply,
        "resolution_count": ticket.resolution_count,
        "satisfaction": ticket.satisfaction,
        "suggested": {
            "demand_type": ticket.suggested_demand_type,
            "topic": ticket.suggested_topic,
            "department": ticket.suggested_department,
        },
        "created_at": _iso(ticket.created_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
    }
    if events:
        data["events"] = [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "detail": e.detail,
            }
            for e in ticket.events
        ]
    return data


def article_to_dict(article: Article, score: float | None = None) -> dict:
    data = {
        "key": article.key,
        "question": article.question,
        "answer": article.answer,
        "keywords": article.keywords.split(),
        "topic": article.topic,
        "department": article.department,
    }
    if score is not None:
        data["score"] = score
    return data


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is quoted with a leading '."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_PREFIXES) else text


def _local(value: str | None, zone: ZoneInfo) -> str | None:
    """An ISO UTC moment as the hotline's local time, 'YYYY-MM-DD HH:MM:SS' (what Excel reads)."""
    if not value:
        return value
    return datetime.fromisoformat(value).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def csv_rows(tickets: Iterable[Ticket], *, today=None) -> Iterator[str]:
    """CSV text in chunks: a header line, then one line per ticket (UTF-8 BOM for Excel).

    Moments are in the hotline's time zone (HOTLINE_TIMEZONE), like the pages."""
    zone = ZoneInfo(hotline_timezone())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow(CSV_COLUMNS)
    for ticket in tickets:
        data = ticket_to_dict(ticket, today=today)
        for column in LOCAL_TIME_COLUMNS:
            data[column] = _local(data[column], zone)
        writer.writerow([_cell(data[c]) for c in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
