"""JSON API under /api/ for the other channels (web, WeChat) and the departments.

Every route needs a bearer token (HOTLINE_API_TOKEN or a user's token, see
accounts). One request is one transaction: a 400 leaves nothing written.
Department users see and resolve only their own department's tickets.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, stream_with_context, url_for
from sqlalchemy import select

from accounts import api_auth_required, current_actor, department_scope
from core.db import get_db
from tickets import kb, openapi, queries, service
from tickets.errors import TicketNotFound, TransitionError, ValidationError
from tickets.models import Ticket, Topic
from tickets.serialize import article_to_dict, csv_rows, ticket_to_dict
from tickets.validation import (
    DISPATCH_FIELDS,
    RESOLVE_FIELDS,
    parse_body,
    parse_create,
    parse_filter,
)

bp = Blueprint("tickets_api", __name__, url_prefix="/api")
KB_MAX_QUERY = 200
WRITE_ROLES = ("supervisor", "agent")


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError):
    return jsonify(error="invalid input", fields=exc.errors), 400


@bp.errorhandler(TicketNotFound)
def _not_found(exc: TicketNotFound):
    return jsonify(error=f"no ticket {exc.number}"), 404


@bp.errorhandler(TransitionError)
def _conflict(exc: TransitionError):
    return jsonify(error=str(exc), status=exc.from_status), 409


def _json_body() -> dict:
    payload = request.get_json(silent=True)
    if payload is None:
        raise ValidationError({"body": "expected a JSON object (Content-Type: application/json)"})
    return payload


def _ticket_for_caller(s, number: str) -> Ticket:
    """The ticket, if the caller may see it (department users: only their own)."""
    ticket = service.get_ticket(s, number)
    scope = department_scope()
    if scope is not None and ticket.department_id != scope:
        raise TicketNotFound(number)  # do not reveal other departments' tickets
    return ticket


@bp.post("/tickets")
@api_auth_required(roles=WRITE_ROLES)
def create_ticket():
    payload = _json_body()
    with get_db().session() as s:
        values = parse_create(
            payload, topics=set(s.scalars(select(Topic.code).where(Topic.active)))
        )
        # A retry, even one racing the first request, gets 200 and the first ticket.
        ticket, created = service.create_or_find_ticket(s, actor=current_actor(), **values)
        if created:
            service.apply_suggestions(s, ticket)
        body = ticket_to_dict(ticket)
    response = jsonify(body)
    response.status_code = 201 if created else 200
    response.headers["Location"] = url_for("tickets_api.get_ticket", number=body["number"])
    return response


@bp.get("/tickets/<number>")
@api_auth_required
def get_ticket(number: str):
    with get_db().session() as s:
        return jsonify(ticket_to_dict(_ticket_for_caller(s, number), events=True))


@bp.get("/tickets")
@api_auth_required
def list_tickets():
    f, page, per_page = parse_filter(request.args)
    f.department_id = department_scope()
    with get_db().session() as s:
        result = queries.list_tickets(s, f, page=page, per_page=per_page)
        items = [ticket_to_dict(t) for t in result.items]
    return jsonify(
        items=items,
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        total_exact=result.total_exact,
        pages=result.pages,
    )


@bp.get("/tickets.csv")
@api_auth_required
def export_csv():
    f, _, _ = parse_filter(request.args)
    f.department_id = department_scope()

    def generate():
        with get_db().session() as s:
            yield from csv_rows(queries.iter_tickets(s, f))

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=tickets.csv"},
    )


@bp.post("/tickets/<number>/dispatch")
@api_auth_required(roles=WRITE_ROLES)
def dispatch_ticket(number: str):
    values = parse_body(_json_body(), DISPATCH_FIELDS)
    with get_db().session() as s:
        ticket = service.get_ticket(s, number)
        service.route(
            s,
            ticket,
            actor=current_actor(),
            department_code=values["department"],
            note=values["note"],
        )
        return jsonify(ticket_to_dict(ticket))


@bp.post("/tickets/<number>/resolve")
@api_auth_required(roles=("supervisor", "agent", "department"))
def resolve_ticket(number: str):
    """The department's reply; the satisfaction callback is requested in the same transaction."""
    values = parse_body(_json_body(), RESOLVE_FIELDS)
    with get_db().session() as s:
        ticket = _ticket_for_caller(s, number)
        service.resolve(s, ticket, reply=values["reply"], actor=current_actor())
        return jsonify(ticket_to_dict(ticket))


@bp.get("/kb")
@api_auth_required
def search_kb():
    q = request.args.get("q", "")
    if len(q) > KB_MAX_QUERY or "\x00" in q:
        raise ValidationError({"q": f"at most {KB_MAX_QUERY} characters, no NUL"})
    with get_db().session() as s:
        found = kb.search(s, q, topic=request.args.get("topic") or None)
        return jsonify(items=[article_to_dict(a, score) for a, score in found])


@bp.get("/kb/<key>")
@api_auth_required
def get_kb_article(key: str):
    with get_db().session() as s:
        article = kb.get_article(s, key)
        if article is None:
            return jsonify(error=f"no article {key}"), 404
        return jsonify(article_to_dict(article))


@bp.get("/openapi.json")
@api_auth_required
def openapi_document():
    return jsonify(openapi.document())
