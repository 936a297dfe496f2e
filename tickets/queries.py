"""Ticket lists: filters, text search, paging, overdue and department inboxes.

Filtering and counting happen in the database (indexed columns); pages are
ordered newest first (local date, then id, which follows creation order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, literal_column, or_, select
from sqlalchemy.orm import Session

from tickets.models import OPEN_STATUSES, TEXT_SEARCH_COLUMNS, Department, Ticket
from tickets.numbering import is_valid_number
from tickets.settings import local_today

DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100
# Counting stops here: "10000+" is as useful as 731,204 and does not read a million rows.
COUNT_LIMIT = 10_000
INBOX_STATUSES = ("dispatched", "in_progress", "reopened")


@dataclass
class TicketFilter:
    statuses: list[str] = field(default_factory=list)
    channel: str | None = None
    demand_type: str | None = None
    topic: str | None = None
    department: str | None = None  # department code
    department_id: int | None = None
    district: str | None = None
    date_from: date | None = None  # opened_on, inclusive
    date_to: date | None = None  # opened_on, inclusive
    overdue: bool | None = None
    q: str | None = None
    today: date | None = None  # for `overdue`; default: the hotline's local today


@dataclass
class Page:
    items: list[Ticket]
    total: int  # at most COUNT_LIMIT; see total_exact
    page: int
    per_page: int
    total_exact: bool = True

    @property
    def total_label(self) -> str:
        return str(self.total) if self.total_exact else f"{self.total}+"

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def apply_filter(stmt: Select, f: TicketFilter) -> Select:
    """Add the filter's WHERE clauses to a statement selecting from tickets."""
    if f.statuses:
        stmt = stmt.where(Ticket.status.in_(f.statuses))
    for column, value in (
        (Ticket.channel, f.channel),
        (Ticket.demand_type, f.demand_type),
        (Ticket.topic, f.topic),
        (Ticket.district, f.district),
        (Ticket.department_id, f.department_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.department is not None:
        stmt = stmt.where(
            Ticket.department_id
            == select(Department.id).where(Department.code == f.department).scalar_subquery()
        )
    if f.date_from is not None:
        stmt = stmt.where(Ticket.opened_on >= f.date_from)
    if f.date_to is not None:
        stmt = stmt.where(Ticket.opened_on <= f.date_to)
    if f.overdue is not None:
        today = f.today or local_today()
        late = Ticket.status.in_(OPEN_STATUSES) & (Ticket.due_date < today)
        stmt = stmt.where(late if f.overdue else ~late)
    if f.q and f.q.strip():
        stmt = stmt.where(_text_condition(f.q.strip()))
    return stmt


def _text_condition(q: str):
    if is_valid_number(q):
        return Ticket.number == q
    pattern = f"%{_escape_like(q)}%"
    # Every column here has a trigram index on PostgreSQL (TEXT_SEARCH_COLUMNS).
    return or_(*[getattr(Ticket, name).like(pattern, escape="\\") for name in TEXT_SEARCH_COLUMNS])


def list_tickets(
    s: Session, f: TicketFilter | None = None, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page:
    """One page of tickets matching the filter, newest first, with the total count."""
    f = f or TicketFilter()
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    base = apply_filter(select(Ticket), f)
    total = count_tickets(s, f, COUNT_LIMIT)
    # opened_on first: the planner then walks the (…, opened_on) indexes backwards and stops
    # after a page, instead of scanning the primary key back to the filtered date range.
    items = s.scalars(
        base.order_by(Ticket.opened_on.desc(), Ticket.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), min(total, COUNT_LIMIT), page, per_page, total <= COUNT_LIMIT)


def count_tickets(s: Session, f: TicketFilter, limit: int) -> int:
    """Matching tickets, counted up to limit + 1 (COUNT(*) of a LIMITed subquery)."""
    capped = apply_filter(select(literal_column("1")).select_from(Ticket), f).limit(limit + 1)
    return s.scalar(select(func.count()).select_from(capped.subquery())) or 0


def iter_tickets(s: Session, f: TicketFilter | None = None, batch: int = 1000) -> Iterator[Ticket]:
    """Every matching ticket, oldest first, in batches (CSV export of any size)."""
    last_id = 0
    while True:
        stmt = apply_filter(select(Ticket), f or TicketFilter()).where(Ticket.id > last_id)
        rows = s.scalars(stmt.order_by(Ticket.id).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        s.expunge_all()


def overdue(
    s: Session, *, today: date | None = None, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page:
    return list_tickets(s, TicketFilter(overdue=True, today=today), page=page, per_page=per_page)


def inbox(
    s: Session, department_id: int, *, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page:
    """The department's open tickets (dispatched to it, in progress, or reopened)."""
    f = TicketFilter(statuses=list(INBOX_STATUSES), department_id=department_id)
    return list_tickets(s, f, page=page, per_page=per_page)
