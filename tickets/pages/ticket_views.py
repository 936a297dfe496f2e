"""Ticket list, department inbox, ticket page, its action forms and its recording."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)

from accounts import current_actor, role_required
from core.db import get_db
from speech.jobs import transcript_state
from tickets import queries, routing, service
from tickets.errors import TicketError
from tickets.models import CHANNELS, DEMAND_TYPES, STATUSES
from tickets.pages import access, bp, labels
from tickets.pages.filters import TicketFilter, list_page
from tickets.pages.media import RecordingUnavailable, has_recording, recording_file
from tickets.serialize import csv_rows


def _choices() -> dict:
    return {
        "statuses": STATUSES,
        "channels": CHANNELS,
        "demand_types": DEMAND_TYPES,
        "topics": labels.topics(),
        "departments": labels.departments(),
        "districts": labels.districts(),
    }


def _list(template: str, flt: TicketFilter, **extra):
    with get_db().session() as s:
        page = list_page(s, flt, service.local_today())
    return render_template(
        template, page=page, flt=flt, today=service.local_today(), **_choices(), **extra
    )


@bp.get("/tickets/")
@role_required(*access.LIST)
def ticket_list():
    return _list("tickets/list.html", TicketFilter.from_args(request.args))


@bp.get("/inbox/")
@role_required(*access.INBOX)
def inbox():
    """A department's tickets; a supervisor picks the department (?department=ID)."""
    flt = access.scope_filter(TicketFilter.from_args(request.args))
    if "status" not in request.args:
        flt.status = "open"
    return _list("tickets/inbox.html", flt)


@bp.get("/tickets/export.csv")
@role_required(*access.LIST)
def export_csv():
    """The filtered list as CSV (tickets.serialize's columns, streamed)."""
    query = TicketFilter.from_args(request.args).query()

    def generate():
        with get_db().session() as s:
            yield from csv_rows(queries.iter_tickets(s, query))

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=tickets.csv"},
    )


@bp.get("/tickets/<number>")
@role_required(*access.VIEW)
def ticket_page(number: str):
    with get_db().session() as s:
        ticket = access.load_ticket(s, number)
        events = list(ticket.events)
        transcription = None if ticket.transcript else _transcription_state(s, ticket.id)
    return render_template(
        "tickets/ticket.html",
        t=ticket,
        events=events,
        today=service.local_today(),
        can=access.can,
        roles=access,
        has_recording=has_recording(ticket),
        may_hear=access.may_hear_recording(),
        transcription=transcription,
        **_choices(),
    )


def _transcription_state(s, ticket_id: int) -> str:
    """'pending', 'failed', 'done' or 'none' from the speech job queue."""
    return transcript_state(s, ticket_id)


def _starts_playing() -> bool:
    """A play starts with a request for the whole file or its first bytes; the range
    requests a browser makes while playing or seeking are the same play."""
    byte_range = request.range
    return byte_range is None or all(start == 0 for start, _ in byte_range.ranges)


@bp.get("/tickets/<number>/recording")
@role_required(*access.VIEW)
def recording(number: str):
    if not access.may_hear_recording():
        abort(403)
    with get_db().session() as s:
        ticket = access.load_ticket(s, number)
        try:
            path = recording_file(ticket)
        except RecordingUnavailable as exc:
            current_app.logger.info("ticket %s: recording unavailable: %s", number, exc)
            abort(404)
        if _starts_playing():
            # Recordings are personal data: every play is in the ticket's audit trail.
            service.audit(s, ticket, actor=current_actor(), action="recording_played")
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _act(number: str, action, success: str):
    """Run one ticket action in a transaction; flash the outcome; back to the ticket."""
    try:
        with get_db().session() as s:
            ticket = access.load_ticket(s, number)
            action(s, ticket)
    except TicketError as exc:
        flash(f"操作未完成 Not done: {exc}", "error")
    else:
        flash(success, "success")
    return redirect(url_for("tickets_pages.ticket_page", number=number))


@bp.post("/tickets/<number>/dispatch")
@role_required(*access.DISPATCH)
def dispatch(number: str):
    code = request.form.get("department") or None
    note = (request.form.get("note") or "").strip() or None
    return _act(
        number,
        lambda s, t: service.route(s, t, actor=current_actor(), department_code=code, note=note),
        "已转办 Dispatched",
    )


@bp.post("/tickets/<number>/return")
@role_required(*access.RETURN)
def return_ticket(number: str):
    """A department sends a misrouted ticket back to the routing table's default office."""
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        flash("请填写退回原因 A reason is required", "error")
        return redirect(url_for("tickets_pages.ticket_page", number=number))
    office = routing.active_routing().default
    return _act(
        number,
        lambda s, t: service.route(
            s, t, actor=current_actor(), department_code=office, note=f"退回 returned: {reason}"
        ),
        "已退回热线办 Returned to the hotline office",
    )


@bp.post("/tickets/<number>/start")
@role_required(*access.START)
def start(number: str):
    return _act(
        number, lambda s, t: service.start(s, t, actor=current_actor()), "已开始办理 Started"
    )


@bp.post("/tickets/<number>/resolve")
@role_required(*access.RESOLVE)
def resolve(number: str):
    reply = request.form.get("reply", "")
    return _act(
        number,
        lambda s, t: service.resolve(s, t, reply=reply, actor=current_actor()),
        "已办结，将安排满意度回访 Resolved; the satisfaction callback is scheduled",
    )


@bp.post("/tickets/<number>/classify")
@role_required(*access.CLASSIFY)
def classify(number: str):
    form = request.form
    changes = {
        name: (form.get(name) or "").strip() or None
        for name in ("demand_type", "topic", "district", "location")
        if name in form
    }
    if changes.get("topic") and changes["topic"] not in labels.topics():
        flash("未知的诉求分类 Unknown topic", "error")
        return redirect(url_for("tickets_pages.ticket_page", number=number))
    return _act(
        number,
        lambda s, t: service.update_fields(s, t, actor=current_actor(), **changes),
        "分类已更新 Classification updated",
    )


@bp.post("/tickets/<number>/summary")
@role_required(*access.SUMMARY)
def summary(number: str):
    text = (request.form.get("summary") or "").strip()[: service.MAX_SUMMARY] or None
    return _act(
        number,
        lambda s, t: service.update_fields(s, t, actor=current_actor(), summary=text),
        "诉求摘要已保存 Summary saved",
    )


@bp.post("/tickets/<number>/close")
@role_required(*access.CLOSE_REOPEN)
def close(number: str):
    return _act(number, lambda s, t: service.close(s, t, actor=current_actor()), "已关闭 Closed")


@bp.post("/tickets/<number>/reopen")
@role_required(*access.CLOSE_REOPEN)
def reopen(number: str):
    reason = (request.form.get("reason") or "").strip() or None
    return _act(
        number,
        lambda s, t: service.reopen(s, t, actor=current_actor(), reason=reason),
        "已重新办理 Reopened",
    )
