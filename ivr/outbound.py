"""Outgoing calls run the flow too: an entry (survey, return_call) with per-call values.

The package that dials answers Twilio's first webhook of its call with
`answer()`: a session starts on the flow's entry, with the call's values as
session variables, and every later turn goes through /ivr/step like an incoming
call's. What the call achieves reaches the dialling package through the engine's
services (ivr.signals), never through its own TwiML.

`/ivr/try/<entry>` lets the studio's web phone (or `flask ivr call --entry`) ring
an entry with values typed by a supervisor; it exists only in the web phone's
sandbox app and in simulator mode, where nobody real is called.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from core.db import get_db
from core.privacy import mask_number
from ivr import calls, webhooks
from ivr.flows import engine
from ivr.flows import events as ev
from ivr.flows.placeholders import CALL_VARIABLES
from ivr.flows.schema import ENTRY_NAMES
from ivr.services import DbServices
from telephony import inputs, twiml
from telephony.signature import signed_url, twilio_request_required

log = logging.getLogger(__name__)
try_bp = Blueprint("ivr_try", __name__, url_prefix="/ivr/try")


never_fail = webhooks.never_fail  # for the dialling package's own answer route
# The dialling package's status route passes each report on: an ended call closes its session.
call_status = webhooks.close_call


def answer(
    *,
    call_sid: str,
    entry: str,
    citizen: str,
    our_number: str | None,
    variables: dict[str, str],
    language: str | None = None,
) -> Response:
    """TwiML for the first turn of an outgoing call answered by a person."""
    return never_fail(_answer)(call_sid, entry, citizen, our_number, variables, language)


def _answer(call_sid, entry, citizen, our_number, variables, language) -> Response:
    db = get_db()
    try:
        with calls.write_turn(db) as s:
            stored = _start(s, call_sid, entry, citizen, our_number, variables, language)
    except IntegrityError:  # the same first webhook, twice at once: the other one won
        with calls.write_turn(db) as s:
            cs = calls.lock_session(s, call_sid)
            stored = (cs.last_response, cs.step) if cs else (None, 0)
    return webhooks._reply(*stored)


def _start(s, call_sid, entry, citizen, our_number, variables, language):
    cs = calls.lock_session(s, call_sid)
    if cs is not None:  # Twilio retried the first webhook
        return cs.last_response, cs.step
    flow = webhooks.registry().latest(s)
    webhooks.registry().persist(s, flow)
    session = engine.new_session(
        flow,
        call_sid=call_sid,
        caller=citizen,
        called=our_number,
        language=language if language in flow.languages else None,
        variables=variables,
    )
    cs = calls.CallSession(call_sid=call_sid, data=session.to_json(), step=0)
    s.add(cs)
    s.flush()
    services = DbServices(s, current_app, call_sid=call_sid, step=0)
    turn = engine.start(flow, session, services, entry=entry)
    log.info(
        "outgoing %s call %s to %s starts on flow %s",
        entry,
        call_sid,
        mask_number(citizen),
        flow.version,
    )
    return webhooks._answer(s, cs, turn.session, turn.events)


def hang_up() -> Response:
    """End a call at once, saying nothing (an answering machine: no message is left)."""
    return webhooks._xml(
        twiml.render(
            [ev.Hangup()],
            url=signed_url,
            step=0,
            operator=current_app.config["OPERATOR_NUMBER"],
            speak=webhooks.speaker(),
        )
    )


@try_bp.post("/<entry>")
@twilio_request_required
@never_fail
def try_entry(entry: str):
    """The web phone rings an entry; the call's values come in the (signed) query string."""
    if entry not in ENTRY_NAMES:
        return Response(status=404)
    call = inputs.OutboundAnswer.from_request(request)
    variables = {k: request.args[k] for k in CALL_VARIABLES if request.args.get(k)}
    return answer(
        call_sid=call.sid,
        entry=entry,
        citizen=inputs.callee(request),
        our_number=call.our_number,
        variables=variables,
    )


def init_app(app) -> None:
    # Only where nobody real is called: the web phone's sandbox, the simulator.
    if not (app.config.get("STUDIO_SANDBOX") or app.config.get("TELEPHONY") == "simulator"):
        return
    app.register_blueprint(try_bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # signed like every webhook, not a form of ours
        csrf.exempt(try_bp)
