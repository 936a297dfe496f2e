"""The ticket life cycle: which status may follow which, and the audited transition.

new -> dispatched -> in_progress -> resolved (department's reply) -> callback_done -> closed;
new -> resolved when the agent answers a consultation during the call (当场办结);
a citizen not satisfied reopens it, and a reopened ticket is dispatched again.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.db import utcnow
from tickets.errors import TransitionError
from tickets.models import OPEN_STATUSES, Ticket, TicketEvent

OPEN = OPEN_STATUSES

# to_status -> statuses it may be reached from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "dispatched": ("new", "dispatched", "in_progress", "reopened"),  # incl. reassignment
    "in_progress": ("dispatched",),
    # from new: answered on the spot by the agent (当场办结, tickets.service.resolve with an article)
    "resolved": ("new", "dispatched", "in_progress"),
    "callback_done": ("resolved",),
    "closed": ("resolved", "callback_done"),
    "reopened": ("resolved", "callback_done", "closed"),
}


def can_transition(from_status: str, to_status: str) -> bool:
    return from_status in ALLOWED_FROM.get(to_status, ())


def audit(
    s: Session,
    ticket: Ticket,
    *,
    actor: str,
    action: str,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict | None = None,
) -> TicketEvent:
    """Append an entry to the ticket's audit trail (who, when, what, status change)."""
    event = TicketEvent(
        ticket_id=ticket.id,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail or None,
        at=utcnow(),
    )
    s.add(event)
    return event


def transition(
    s: Session,
    ticket: Ticket,
    to_status: str,
    *,
    actor: str,
    action: str,
    detail: dict | None = None,
) -> None:
    """Move the ticket to `to_status` and audit it; TransitionError if not allowed."""
    from_status = ticket.status
    if not can_transition(from_status, to_status):
        raise TransitionError(ticket.number, from_status, to_status)
    ticket.status = to_status
    audit(
        s,
        ticket,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail={k: v for k, v in (detail or {}).items() if v is not None},
    )
