"""The agent desk: presence, the current call's screen pop, and the ticket taken on the call.

GET  /desk/             the page (agents and supervisors taking calls)
GET  /desk/state.json   presence and the current call, polled by the page every 2 s
GET  /desk/suggest?text=  the classifier's demand type / topic / department as the agent types
POST /desk/presence     示闲 available / 小休 break / 离线 offline, and the device
POST /desk/ticket       the call's ticket: answered on the spot (当场办结, with the article
                        used) or dispatched to a department

Agents are privileged: the desk shows the caller's full number (department pages mask it).
"""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from accounts import current_actor, current_user, role_required
from agents import models as m
from agents import presence
from agents.pages import bp
from agents.presence import PresenceError
from agents.simulated import DESK_DEVICE
from core.db import get_db, utcnow
from ivr.notices import active_notices
from tickets import classify, kb, service
from tickets.errors import TicketError, ValidationError
from tickets.models import DEMAND_TYPES, Department, Ticket, Topic
from tickets.validation import parse_create

TAKES_CALLS = ("agent", "supervisor")
EARLIER_TICKETS = 10
LIVE = (m.PLACING, m.RINGING, m.BRIDGED)
CALL_STATES = {
    m.PLACING: "振铃 Ringing",
    m.RINGING: "振铃 Ringing",
    m.BRIDGED: "通话中 Talking",
    m.ENDED: "已结束 Ended",
}
STATUS_LABELS = {
    m.AVAILABLE: "示闲 Available",
    m.OFFERED: "振铃 Ringing",
    m.ON_CALL: "通话中 On call",
    m.WRAP_UP: "话后处理 Wrap-up",
    m.BREAK: "小休 Break",
    m.OFFLINE: "离线 Offline",
}


def current_call(s, agent: m.Agent | None) -> dict | None:
    """The caller the agent is offered or talking to, with the screen pop."""
    if agent is None:
        return None
    offer = s.scalar(
        select(m.Offer)
        .where(m.Offer.agent_id == agent.id, m.Offer.state.in_(LIVE))
        .order_by(m.Offer.id.desc())
        .limit(1)
    )
    if offer is None:  # after the call, until the ticket is taken: the last one answered
        offer = s.scalar(
            select(m.Offer)
            .where(m.Offer.agent_id == agent.id, m.Offer.state == m.ENDED)
            .where(m.Offer.bridged_at.is_not(None))
            .order_by(m.Offer.id.desc())
            .limit(1)
        )
        if offer is None or agent.status != m.WRAP_UP:
            return None
    stay = offer.queue_call
    number = service.normalize_number(stay.caller) or stay.caller
    earlier = (
        s.scalars(
            select(Ticket)
            .where(Ticket.caller_number == number)
            .order_by(Ticket.created_at.desc())
            .limit(EARLIER_TICKETS)
        ).all()
        if number
        else []
    )
    return {
        "call_sid": stay.call_sid,
        "caller": stay.caller,
        "queue": stay.queue,
        "state": CALL_STATES.get(offer.state, offer.state),
        "phase": offer.state,
        "waited_seconds": int(
            ((m.aware(stay.answered_at) or utcnow()) - m.aware(stay.entered_at)).total_seconds()
        ),
        "earlier": [
            {
                "number": t.number,
                "status": t.status,
                "opened_on": t.opened_on.isoformat(),
                "topic": t.topic,
                "description": (t.description or t.transcript or "")[:80],
            }
            for t in earlier
        ],
    }


def desk_state(s, username: str) -> dict:
    agent = presence.get_agent(s, username)
    wrap_left = None
    if agent is not None and agent.status == m.WRAP_UP and agent.wrap_up_until:
        wrap_left = max(0, int((m.aware(agent.wrap_up_until) - utcnow()).total_seconds()))
    return {
        "status": agent.status if agent else m.OFFLINE,
        "label": STATUS_LABELS[agent.status if agent else m.OFFLINE],
        "reason": agent.reason if agent else None,
        "device": agent.device if agent else None,
        "queues": agent.queue_names if agent else [],
        "wrap_up_left": wrap_left,
        "call": current_call(s, agent),
        # Simulator mode: this page is the agent's phone (agents.pages.softphone).
        "softphone": bool(
            agent is not None
            and agent.device == DESK_DEVICE
            and current_app.config.get("TELEPHONY") == "simulator"
        ),
    }


def _me() -> str:
    return current_user().username


@bp.get("/desk/")
@role_required(*TAKES_CALLS)
def desk():
    with get_db().session() as s:
        state = desk_state(s, _me())
        notices = active_notices(s)
        topics = {t.code: t.name for t in s.scalars(select(Topic).where(Topic.active.is_(True)))}
        departments = {
            d.code: d.name for d in s.scalars(select(Department).where(Department.active.is_(True)))
        }
    return render_template(
        "agents/desk.html",
        state=state,
        labels=STATUS_LABELS,
        choosable=presence.CHOOSABLE,
        notices=notices,
        topics=topics,
        departments=departments,
        demand_types=DEMAND_TYPES,
    )


@bp.get("/desk/state.json")
@role_required(*TAKES_CALLS)
def desk_state_json():
    with get_db().session() as s:
        return jsonify(desk_state(s, _me()))


@bp.get("/desk/suggest")
@role_required(*TAKES_CALLS)
def suggest():
    text = request.args.get("text", "")[:5000]
    found = classify.classify(text, request.args.get("district") or None)
    with get_db().session() as s:
        articles = kb.search(s, text[:200]) if text.strip() else []
        return jsonify(
            demand_type=found.demand_type,
            topic=found.topic,
            department=found.department,
            articles=[
                {"key": a.key, "question": a.question, "answer": a.answer} for a, _ in articles[:5]
            ],
        )


@bp.post("/desk/presence")
@role_required(*TAKES_CALLS)
def set_presence():
    status = request.form.get("status") or None
    device = request.form.get("device", "").strip() or None
    try:
        with get_db().session() as s:
            agent = presence.ensure_agent(s, _me())
            presence.choose(
                s,
                agent,
                status,
                device=device,
                actor=current_actor(),
                simulator=current_app.config.get("TELEPHONY") == "simulator",
            )
    except PresenceError as exc:
        flash("；".join(exc.errors.values()), "error")
    return redirect(url_for("agents_pages.desk"))


@bp.post("/desk/ticket")
@role_required(*TAKES_CALLS)
def take_ticket():
    form = request.form
    outcome = form.get("outcome")
    payload = {
        "channel": "phone",
        **{
            k: form[k]
            for k in ("description", "caller_number", "demand_type", "topic", "district")
            if form.get(k, "").strip()
        },
    }
    try:
        with get_db().session() as s:
            topics = set(s.scalars(select(Topic.code).where(Topic.active.is_(True))))
            values = parse_create(payload, topics=topics)
            values["idempotency_key"] = form.get("idempotency_key") or None
            ticket = service.create_ticket(
                s, actor=current_actor(), call_sid=form.get("call_sid") or None, **values
            )
            service.apply_suggestions(s, ticket)
            _finish(s, ticket, outcome, form)
            number = ticket.number
    except (ValidationError, TicketError) as exc:
        errors = getattr(exc, "errors", None) or {"ticket": str(exc)}
        flash("；".join(f"{k}: {v}" for k, v in errors.items()), "error")
        return redirect(url_for("agents_pages.desk"))
    flash(f"工单 {number} 已受理 Ticket {number} taken", "success")
    return redirect(url_for("agents_pages.desk"))


def _finish(s, ticket: Ticket, outcome: str | None, form) -> None:
    if outcome == "on_the_spot":
        key = form.get("article", "").strip()
        article = kb.get_article(s, key) if key else None
        if article is None:
            raise ValidationError(
                {"article": "choose the knowledge-base article you answered from"}
            )
        reply = form.get("reply", "").strip() or article.answer
        service.resolve(s, ticket, reply=reply, actor=current_actor(), article=article.key)
    elif outcome == "dispatch":
        service.route(
            s, ticket, actor=current_actor(), department_code=form.get("department") or None
        )
    else:
        raise ValidationError({"outcome": "answered on the spot, or dispatch"})
