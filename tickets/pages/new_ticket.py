"""New-ticket form for agents taking a call (and supervisors).

Validated by tickets.validation.parse_create — the same rules as POST /api/tickets —
then classified, so the ticket page opens with suggested demand type, topic and
department. A random idempotency key in the form makes a double submit harmless.
"""

from __future__ import annotations

import secrets

from flask import redirect, render_template, request, url_for
from sqlalchemy import select

from accounts import current_actor, role_required
from core.db import get_db
from tickets import service
from tickets.errors import ValidationError
from tickets.models import CHANNELS, DEMAND_TYPES, Topic
from tickets.pages import access, bp, labels
from tickets.validation import CREATE_FIELDS, parse_create

FORM_FIELDS = tuple(name for name in CREATE_FIELDS if name != "idempotency_key")


def _render(values: dict, errors: dict, status: int = 200):
    return render_template(
        "tickets/new.html",
        values=values,
        errors=errors,
        channels=CHANNELS,
        demand_types=DEMAND_TYPES,
        topics=labels.topics(),
        districts=labels.districts(),
        key=values.get("idempotency_key") or "web-" + secrets.token_hex(12),
    ), status


@bp.get("/tickets/new")
@role_required(*access.DISPATCH)
def new_ticket():
    return _render({"channel": "phone"}, {})


@bp.post("/tickets/new")
@role_required(*access.DISPATCH)
def create_ticket():
    form = request.form
    payload = {name: form[name] for name in FORM_FIELDS if form.get(name, "").strip()}
    key = form.get("idempotency_key", "")
    if key.startswith("web-") and len(key) <= 100:
        payload["idempotency_key"] = key
    try:
        with get_db().session() as s:
            values = parse_create(
                payload, topics=set(s.scalars(select(Topic.code).where(Topic.active.is_(True))))
            )
            ticket = service.create_ticket(s, actor=current_actor(), **values)
            if not ticket.suggested_topic:  # a resubmitted form finds the first ticket
                service.apply_suggestions(s, ticket)
            number = ticket.number
    except ValidationError as exc:
        return _render(dict(form.items()), exc.errors, 400)
    return redirect(url_for("tickets_pages.ticket_page", number=number))
