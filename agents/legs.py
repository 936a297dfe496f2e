"""Twilio webhooks of the agent leg (the call placed to an agent for a queued caller).

POST /agents/leg/answer?offer=N    the agent picked up: dial the queue, or say the caller left
POST /agents/leg/bridged?offer=N   <Queue url>: Twilio dequeued CallSid for DequeingCallSid
POST /agents/leg/status?offer=N    the leg's status callback: no answer / busy / failed ->
                                   agent on break, caller to the next agent; completed after
                                   the bridge -> wrap-up

Twilio's <Dial><Queue> takes the caller at the head of the queue, who may not be
the one this offer was made for (two agents rang, the second answered first).
The bridge request says whom Twilio dequeued; offers are swapped so that the
other agent still ringing now rings for the other caller: never two agents for
one caller. Every route checks X-Twilio-Signature and never answers with a 5xx.
"""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from agents import models as m
from agents.distribution import CANCELING, begin_write, end_offer
from agents.presence import NOT_RESPONDING, SYSTEM, change_status
from agents.queueing import open_stay
from core.db import get_db, utcnow
from telephony import agent_leg, inputs
from telephony.signature import signed_url, twilio_request_required

log = logging.getLogger(__name__)
bp = Blueprint("agents_legs", __name__, url_prefix="/agents/leg")

CALLER_GONE = "来电已挂断，谢谢。"
CONNECTING = "正在为您接通话务员。"


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def safe(fallback):
    """Log any error and answer `fallback()` TwiML: Twilio never reads an application error."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except Exception:
                log.exception("agent leg webhook %s failed", request.path)
                return _xml(fallback())

        return wrapped

    return decorator


def _offer(s) -> m.Offer | None:
    offer_id = request.args.get("offer", type=int)
    return s.get(m.Offer, offer_id) if offer_id is not None else None


@bp.post("/answer")
@twilio_request_required
@safe(lambda: agent_leg.goodbye(CALLER_GONE))
def answer():
    with get_db().session() as s:  # reads, and notes the leg's sid: no lock needed
        offer = _offer(s)
        if offer is None:
            return _xml(agent_leg.goodbye(CALLER_GONE))
        offer.leg_sid = offer.leg_sid or inputs.call_sid(request)
        live = offer.state in (m.PLACING, m.RINGING) and offer.queue_call.state == m.OFFERING
        queue = offer.queue_call.queue
        offer_id = offer.id
    if not live:
        return _xml(agent_leg.goodbye(CALLER_GONE))
    return _xml(
        agent_leg.dial_queue(queue, url=signed_url(f"/agents/leg/bridged?offer={offer_id}"))
    )


@bp.post("/bridged")
@twilio_request_required
@safe(lambda: agent_leg.announce(None))
def bridged():
    bridge = inputs.QueueBridge.from_request(request)
    caller_sid = bridge.caller_sid
    now = utcnow()
    with get_db().session() as s:
        begin_write(s)
        offer = _offer(s)
        if offer is None:
            return _xml(agent_leg.announce(None))
        stay = open_stay(s, caller_sid) or offer.queue_call
        if stay.id != offer.queue_call_id:
            _swap(s, offer, stay)
        stay.state, stay.answered_at, stay.agent = m.ANSWERED, now, offer.agent.username
        offer.state, offer.bridged_at = m.BRIDGED, now
        offer.leg_sid = offer.leg_sid or bridge.leg_sid
        change_status(s, offer.agent, m.ON_CALL, actor=SYSTEM, now=now)
        log.info("caller %s bridged to %s", caller_sid, offer.agent.username)
    return _xml(agent_leg.announce(CONNECTING))


def _swap(s, offer: m.Offer, dequeued: m.QueueCall) -> None:
    """Twilio bridged another caller than the offer's: give the offers' callers a swap."""
    other = s.scalar(
        select(m.Offer).where(
            m.Offer.queue_call_id == dequeued.id,
            m.Offer.state.in_((m.PLACING, m.RINGING, CANCELING)),
        )
    )
    mine = offer.queue_call
    if other is not None:
        other.queue_call_id = mine.id
    elif mine.state == m.OFFERING:
        mine.state = m.WAITING  # nobody rings for the offer's caller now: back in line
    offer.queue_call_id = dequeued.id
    s.flush()
    s.expire(offer, ["queue_call"])


@bp.post("/status")
@twilio_request_required
@safe(lambda: agent_leg.announce(None))
def status():
    report = inputs.StatusReport.from_request(request)
    call_status = report.status
    if not report.ended:
        return _xml(agent_leg.announce(None))
    now = utcnow()
    with get_db().session() as s:
        begin_write(s)
        offer = _offer(s)
        if offer is None or offer.state == m.ENDED:
            return _xml(agent_leg.announce(None))
        if offer.state == m.BRIDGED:
            _talk_ended(s, offer, call_status, now)
        elif offer.state == CANCELING:
            end_offer(s, offer, "caller-left", agent_to=m.AVAILABLE, now=now)
        elif report.unanswered:
            end_offer(s, offer, call_status, agent_to=m.BREAK, reason=NOT_RESPONDING, now=now)
            log.info("agent %s did not answer (%s)", offer.agent.username, call_status)
        else:  # answered but never bridged (the caller left as the agent picked up)
            end_offer(s, offer, call_status, agent_to=m.AVAILABLE, now=now)
    return _xml(agent_leg.announce(None))


def _talk_ended(s, offer: m.Offer, call_status: str, now) -> None:
    offer.state, offer.result, offer.ended_at = m.ENDED, call_status, now
    stay = offer.queue_call
    stay.ended_at = now
    stay.talk_seconds = int((now - m.aware(offer.bridged_at)).total_seconds())
    change_status(
        s,
        offer.agent,
        m.WRAP_UP,
        actor=SYSTEM,
        now=now,
        wrap_up_seconds=int(current_app.config["AGENT_WRAP_UP_SECONDS"]),
        expect=(m.ON_CALL, m.OFFERED),
    )
