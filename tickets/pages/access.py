"""Who may do what on the ticket pages, and loading a ticket within the user's scope."""

from __future__ import annotations

from flask import abort, current_app
from sqlalchemy.orm import Session

from accounts import current_user, department_scope
from core.config import value
from tickets.models import Ticket
from tickets.pages.filters import TicketFilter
from tickets.service import find_by_number

# Roles per action. Recordings are personal data: only the people who take and
# supervise calls hear them; departments work from the description and transcript.
VIEW = ("supervisor", "agent", "department")
LIST = ("supervisor", "agent")
INBOX = ("department", "supervisor")  # a supervisor picks the department
KB = ("supervisor", "agent", "department")
DISPATCH = ("supervisor", "agent")
START = ("supervisor", "department")
RESOLVE = ("supervisor", "department")
RETURN = ("department",)  # a department sends a misrouted ticket back
CLASSIFY = ("supervisor",)
CLOSE_REOPEN = ("supervisor",)
HEAR_RECORDING = ("supervisor", "agent")
SUMMARY = ("supervisor", "agent")  # 诉求摘要: written by the people who take the calls
READ_TRANSCRIPT = ("supervisor", "agent", "department")
SUPERVISE = ("supervisor",)


def can(roles: tuple[str, ...]) -> bool:
    user = current_user()
    return user is not None and user.role in roles


def may_hear_recording() -> bool:
    """Supervisors and agents; department users too when DEPARTMENT_RECORDINGS allows it
    (their own tickets only: load_ticket scopes them)."""
    extra = ("department",) if value(current_app.config, "DEPARTMENT_RECORDINGS") else ()
    return can(HEAR_RECORDING + extra)


def require(roles: tuple[str, ...]) -> None:
    if not can(roles):
        abort(403)


def load_ticket(s: Session, number: str) -> Ticket:
    """The ticket, or 404 — also for a department user asking for another department's
    ticket (404, not 403: its existence is not theirs to know)."""
    ticket = find_by_number(s, number) if number.isdigit() else None
    if ticket is None:
        abort(404)
    scope = department_scope()
    if scope is not None and ticket.department_id != scope:
        abort(404)
    return ticket


def scope_filter(flt: TicketFilter) -> TicketFilter:
    """Pin a department user's filter to their department, whatever the URL says."""
    scope = department_scope()
    if scope is not None:
        flt.department_id = scope
    return flt
