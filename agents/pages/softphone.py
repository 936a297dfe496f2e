"""Simulator mode: the agent's desk page is their phone (device `sim:desk`).

The distributor rings `sim:desk` like any device; the simulator leaves that call to the
page. 接听 Answer plays the agent leg exactly as Twilio would (the answer URL's
<Dial><Queue>, the head of the queue from the simulator's queue switch, the <Queue url>
bridge); 拒接 Decline reports the leg busy (the agent is then on break, not responding);
挂机 Hang up reports it completed (wrap-up). So one person can be the citizen (the
live line's web phone, studio.line, in another tab; or `flask ivr call`) and the agent
(this page) on the embedded default: hanging up on either side ends the other's leg.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, url_for
from sqlalchemy import select

from accounts import current_user, role_required
from agents import models as m
from agents.pages import bp
from agents.presence import get_agent
from agents.simulated import DESK_DEVICE, DbQueueSwitch, report_leg
from core.db import get_db
from simulator.phone import Action, Phone
from simulator.transport import FlaskTransport

ANSWER_PATH = "/agents/leg/answer"


def _live_offer(states: tuple[str, ...]) -> m.Offer:
    """The signed-in agent's offer on their desk phone, or 404."""
    if current_app.config.get("TELEPHONY") != "simulator":
        abort(404)
    with get_db().session() as s:
        agent = get_agent(s, current_user().username)
        if agent is None or agent.device != DESK_DEVICE:
            abort(404)
        offer = s.scalar(
            select(m.Offer)
            .where(m.Offer.agent_id == agent.id, m.Offer.state.in_(states))
            .order_by(m.Offer.id.desc())
            .limit(1)
        )
    if offer is None or offer.leg_sid is None:
        flash("没有来电 No call to act on", "error")
        return None
    return offer


def _report(offer: m.Offer, status: str) -> None:
    report_leg(current_app, offer.id, offer.leg_sid, status)


@bp.post("/desk/phone/answer")
@role_required("agent", "supervisor")
def phone_answer():
    offer = _live_offer((m.PLACING, m.RINGING))
    if offer is not None:
        cfg = current_app.config
        phone = Phone.outbound(
            FlaskTransport(current_app.test_client(), cfg["PUBLIC_BASE_URL"], outside=False),
            cfg["TWILIO_AUTH_TOKEN"],
            url=f"{cfg['PUBLIC_BASE_URL']}{ANSWER_PATH}?offer={offer.id}",
            from_=cfg["TWILIO_CALLER_ID"],
            to=DESK_DEVICE,
            account_sid=cfg["TWILIO_ACCOUNT_SID"],
            call_sid=offer.leg_sid,
            switch=DbQueueSwitch(get_db(), real_time_talk=False, poll=0),
        )
        need = phone.start()
        if need is not None and need.kind == "dial":  # <Dial><Queue>: take the caller
            phone.resume(Action("agent", 0))
        if not any(e["kind"] == "dequeued" for e in phone.events):
            _report(offer, "completed")  # the caller had gone: the leg just ends
            flash("来电已挂断 The caller has hung up", "warning")
    return redirect(url_for("agents_pages.desk"))


@bp.post("/desk/phone/decline")
@role_required("agent", "supervisor")
def phone_decline():
    offer = _live_offer((m.PLACING, m.RINGING))
    if offer is not None:
        _report(offer, "busy")
    return redirect(url_for("agents_pages.desk"))


@bp.post("/desk/phone/hangup")
@role_required("agent", "supervisor")
def phone_hangup():
    offer = _live_offer((m.BRIDGED,))
    if offer is not None:
        _report(offer, "completed")
    return redirect(url_for("agents_pages.desk"))
