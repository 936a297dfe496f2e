"""Checking API input: every problem is reported per field, before anything is written."""

from __future__ import annotations

import re
from datetime import date

from tickets.errors import ValidationError
from tickets.models import CHANNELS, DEMAND_TYPES, STATUSES
from tickets.queries import DEFAULT_PER_PAGE, MAX_PER_PAGE, TicketFilter
from tickets.service import normalize_number

# name -> (max length, required)
CREATE_FIELDS: dict[str, tuple[int, bool]] = {
    "channel": (20, True),
    "description": (5000, True),
    "caller_number": (32, False),
    "demand_type": (20, False),
    "topic": (40, False),
    "district": (40, False),
    "location": (200, False),
    "idempotency_key": (100, False),
}
DISPATCH_FIELDS = {"department": (40, False), "note": (1000, False)}
RESOLVE_FIELDS = {"reply": (5000, True)}
FILTER_PARAMS = (
    "status",
    "channel",
    "demand_type",
    "topic",
    "department",
    "district",
    "date_from",
    "date_to",
    "overdue",
    "q",
    "page",
    "per_page",
)
# What the API accepts as a caller number: a mainland mobile or a landline with its area code.
CALLER_NUMBER_PATTERN = r"^(\+86)?1[3-9][0-9]{9}$|^0[1-9][0-9]{8,10}$"
FILTER_TEXT_MAX = 40
BOOLEAN_WORDS = {"true": True, "false": False}


def parse_body(payload, spec: dict[str, tuple[int, bool]]) -> dict[str, str | None]:
    """A JSON object whose fields are strings within their lengths; unknown fields rejected."""
    values, errors = _parse(payload, spec)
    if errors:
        raise ValidationError(errors)
    return values


def _parse(payload, spec) -> tuple[dict[str, str | None], dict[str, str]]:
    if not isinstance(payload, dict):
        raise ValidationError({"body": "expected a JSON object"})
    errors: dict[str, str] = {}
    values: dict[str, str | None] = {}
    for name in payload:
        if name not in spec:
            errors[name] = f"unknown field (allowed: {', '.join(spec)})"
    for name, (max_len, required) in spec.items():
        value = payload.get(name)
        if value is None:
            if required:
                errors[name] = "required"
            values[name] = None
            continue
        if not isinstance(value, str):
            errors[name] = "must be a string"
            continue
        value = value.strip()
        if required and not value:
            errors[name] = "must not be empty"
        elif len(value) > max_len:
            errors[name] = f"at most {max_len} characters"
        elif "\x00" in value:
            errors[name] = "must not contain NUL characters"
        values[name] = value or None
    return values, errors


def parse_create(payload, *, topics: set[str]) -> dict[str, str | None]:
    """A new ticket's fields: shapes, then choices (channel, demand type, topic, number)."""
    values, errors = _parse(payload, CREATE_FIELDS)
    values = {k: v for k, v in values.items() if k not in errors}
    raw_number = payload.get("caller_number")
    if isinstance(raw_number, str) and not re.match(CALLER_NUMBER_PATTERN, raw_number):
        errors["caller_number"] = "not a valid phone number (mobile, or landline with area code)"
        values.pop("caller_number", None)
    if values.get("channel") and values["channel"] not in CHANNELS:
        errors["channel"] = f"must be one of {', '.join(CHANNELS)}"
    if values.get("demand_type") and values["demand_type"] not in DEMAND_TYPES:
        errors["demand_type"] = f"must be one of {', '.join(DEMAND_TYPES)}"
    if values.get("topic") and values["topic"] not in topics:
        errors["topic"] = "unknown topic (see the taxonomy)"
    number = values.get("caller_number")
    if number and (not re.match(CALLER_NUMBER_PATTERN, number) or normalize_number(number) is None):
        errors["caller_number"] = "not a valid phone number (mobile, or landline with area code)"
    if errors:
        raise ValidationError(errors)
    return values


def _date(errors: dict, name: str, raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "expected a date YYYY-MM-DD"
        return None


def _int(errors: dict, name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = "expected an integer"
        return default
    if not low <= value <= high:
        errors[name] = f"must be between {low} and {high}"
    return value


def parse_filter(args) -> tuple[TicketFilter, int, int]:
    """Query string -> (filter, page, per_page); ValidationError names each bad parameter."""
    errors: dict[str, str] = {}
    for name in FILTER_PARAMS:
        if name != "status" and len(args.getlist(name)) > 1:
            errors[name] = "give this parameter once"
    statuses = [v for raw in args.getlist("status") for v in raw.split(",") if v]
    bad = [v for v in statuses if v not in STATUSES]
    if bad:
        errors["status"] = f"unknown status {', '.join(bad)} (allowed: {', '.join(STATUSES)})"
    for name, choices in (("channel", CHANNELS), ("demand_type", DEMAND_TYPES)):
        if args.get(name) is not None and args[name] not in choices:
            errors[name] = f"must be one of {', '.join(choices)}"
    for name in ("topic", "department", "district"):
        if len(args.get(name) or "") > FILTER_TEXT_MAX:
            errors[name] = f"at most {FILTER_TEXT_MAX} characters"
    overdue = None
    if args.get("overdue") is not None:
        overdue = BOOLEAN_WORDS.get(args["overdue"])
        if overdue is None:
            errors["overdue"] = "expected true or false"
    f = TicketFilter(
        statuses=statuses,
        channel=args.get("channel"),
        demand_type=args.get("demand_type"),
        topic=args.get("topic") or None,
        department=args.get("department") or None,
        district=args.get("district") or None,
        overdue=overdue,
        q=args.get("q") or None,
        date_from=_date(errors, "date_from", args.get("date_from")),
        date_to=_date(errors, "date_to", args.get("date_to")),
    )
    page = _int(errors, "page", args.get("page"), 1, 1, 1_000_000)
    per_page = _int(errors, "per_page", args.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
    if f.q and (len(f.q) > 200 or "\x00" in f.q):
        errors["q"] = "at most 200 characters, no NUL"
    if errors:
        raise ValidationError(errors)
    return f, page, per_page
