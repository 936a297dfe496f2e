"""The ticket list's filter form: parsed from the query string, turned into a
tickets.queries.TicketFilter, and back into query-string arguments for links.

Shared by the list page, the department inbox and the CSV export, so all three
always agree on what a filter means.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from sqlalchemy.orm import Session

from tickets import queries
from tickets.models import CHANNELS, DEMAND_TYPES, OPEN_STATUSES, STATUSES

PAGE_SIZE = 50  # tickets.queries caps it at MAX_PER_PAGE
MAX_PAGE = 10_000
MAX_QUERY_LENGTH = 100


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _choice(value: str | None, choices) -> str | None:
    return value if value in choices else None


@dataclass
class TicketFilter:
    status: str | None = None  # a status, or "open"
    channel: str | None = None
    demand_type: str | None = None
    topic: str | None = None
    department_id: int | None = None
    district: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    overdue: bool = False
    q: str | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args) -> TicketFilter:
        """Unknown or malformed values are ignored rather than failing the page."""
        dept = args.get("department", "")
        try:
            page = min(MAX_PAGE, max(1, int(args.get("page", 1))))
        except ValueError:
            page = 1
        return cls(
            status=_choice(args.get("status"), (*STATUSES, "open")),
            channel=_choice(args.get("channel"), CHANNELS),
            demand_type=_choice(args.get("demand_type"), DEMAND_TYPES),
            topic=(args.get("topic") or "").strip()[:40] or None,
            department_id=int(dept) if dept.isdigit() else None,
            district=(args.get("district") or "").strip()[:40] or None,
            date_from=_date(args.get("from")),
            date_to=_date(args.get("to")),
            overdue=args.get("overdue") in ("1", "on", "true"),
            q=(args.get("q") or "").strip()[:MAX_QUERY_LENGTH] or None,
            page=page,
        )

    def as_args(self, **changes) -> dict[str, str]:
        """Query-string form (for paging links and the CSV link), empty values left out."""
        names = {"date_from": "from", "date_to": "to", "department_id": "department"}
        out = {}
        for f in fields(self):
            value = changes.get(f.name, getattr(self, f.name))
            if value in (None, False, "") or (f.name == "page" and value == 1):
                continue
            out[names.get(f.name, f.name)] = "1" if value is True else str(value)
        return out

    def query(self, today: date | None = None) -> queries.TicketFilter:
        """The tickets.queries filter this form stands for."""
        if self.status == "open":
            statuses = list(OPEN_STATUSES)
        else:
            statuses = [self.status] if self.status else []
        return queries.TicketFilter(
            statuses=statuses,
            channel=self.channel,
            demand_type=self.demand_type,
            topic=self.topic,
            department_id=self.department_id,
            district=self.district,
            date_from=self.date_from,
            date_to=self.date_to,
            overdue=True if self.overdue else None,
            q=self.q,
            today=today,
        )


def list_page(s: Session, flt: TicketFilter, today: date | None = None) -> queries.Page:
    """One page of tickets, newest first, and the total count."""
    return queries.list_tickets(s, flt.query(today), page=flt.page, per_page=PAGE_SIZE)
