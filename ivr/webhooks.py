"""Twilio webhooks of the voice front door.

POST /ivr/voice      incoming call: open the call record, run the flow's first turn
POST /ivr/step?s=N   every later turn (Gather/Record/Enqueue/Dial actions, no-input
                     redirects `&timeout=1`, spoken-keyword polls `&poll=1`)
POST /ivr/queue/wait?s=N   the queue's hold music: prompts, position, overflow <Leave>
POST /ivr/status     call status callback: closes the call, decides abandoned outcomes
POST /ivr/fallback   Twilio's fallback URL: apology and transfer to the operator

Every route checks X-Twilio-Signature. No 5xx ever reaches Twilio: an error
answers with an apology and <Dial> to OPERATOR_NUMBER. A step already answered
(Twilio retry) gets the stored TwiML back and does nothing twice. Twilio's forms
are read only through telephony.inputs and answered only through telephony.twiml:
this module joins them to the engine and the call records.
"""

from __future__ import annotations

import functools
import logging
import traceback

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from accounts.csrf import csrf
from core import health
from core.db import get_db
from core.privacy import mask_number, mask_text
from ivr import calls, flows_cli, notices, signals
from ivr.flows import dialplan, engine
from ivr.flows import events as ev
from ivr.flows.hold import Hold, hold
from ivr.flows.session import Listening, Phase, Session
from ivr.registry import FlowRegistry
from ivr.services import DbServices, clock
from speech.jobs import enqueue_grammar, grammar_result
from telephony import inputs, twiml
from telephony.signature import signed_url, twilio_request_required

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__, url_prefix="/ivr")

# A spoken keyword is polled once a second for at most this many seconds.
MAX_GRAMMAR_POLLS = 8
GRAMMAR_POLL_PAUSE = 1


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def registry() -> FlowRegistry:
    return current_app.extensions["ivr.flows"]


def speaker() -> twiml.Speaker:
    return twiml.Speaker(current_app.extensions.get("prompt_audio"))


def never_fail(view):
    """Any exception: log it (numbers masked), mark the call, apologise and transfer."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Exception as exc:
            sid = inputs.call_sid(request, "-")
            log.error(
                "webhook %s failed for call %s from %s: %s",
                request.path,
                sid,
                mask_number(inputs.caller(request)),
                mask_text("".join(traceback.format_exception(exc))),
            )
            try:  # bounded: the database may be the reason the turn failed
                with calls.write_turn(get_db(), budget=calls.ERROR_MARK_SECONDS) as s:
                    calls.mark_error(s, sid)
            except Exception as inner:
                log.error("could not mark call %s as error_transfer: %s", sid, type(inner).__name__)
            return _xml(twiml.apology(current_app.config["OPERATOR_NUMBER"], speaker()))

    return wrapped


def _answer(
    s, cs, session: Session, events: list, before: tuple | None = None, left: str | None = None
):
    """Store a turn's events with the session as the next step; returns what to render."""
    _queue_moves(s, cs.call_sid, session, events, left)
    cs.step += 1
    stored = twiml.dump_events(events)
    calls.save_turn(s, cs, session, stored, now=clock(current_app), before=before)
    return stored, cs.step


def _queue_moves(s, sid: str, session: Session, events: list, left: str | None) -> None:
    """Tell the agent distribution a caller left a queue (`left`: how; any turn after
    waiting in one ends the wait) or joined one (the turn ends in Enqueue)."""
    app = current_app._get_current_object()
    if left is not None:
        signals.queue_left.send(app, s=s, call_sid=sid, result=left)
    last = events[-1] if events else None
    if isinstance(last, ev.Enqueue):
        caller = session.call.caller
        signals.queue_joined.send(app, s=s, call_sid=sid, queue=last.queue, caller=caller)


def _reply(stored: str | None, step_no: int) -> Response:
    """Render stored events as TwiML, after the transaction: a prompt synthesized on a cache
    miss (seconds) must not hold the database lock other calls wait on."""
    if not stored:
        return _xml(twiml.empty())
    return _xml(
        twiml.render(
            twiml.load_events(stored),
            url=signed_url,
            step=step_no,
            operator=current_app.config["OPERATOR_NUMBER"],
            speak=speaker(),
            dial_plan=dialplan.plan_for(current_app.config),
        )
    )


@bp.post("/voice")
@twilio_request_required
@never_fail
def voice():
    call = inputs.CallStart.from_request(request)
    db = get_db()
    try:
        with calls.write_turn(db) as s:
            answer = _start_call(s, call)
    except IntegrityError:  # the same first webhook, twice at once: the other one won
        with calls.write_turn(db) as s:
            cs = calls.lock_session(s, call.sid)
            answer = (cs.last_response, cs.step) if cs else (None, 0)
    return _reply(*answer)


def _start_call(s, call: inputs.CallStart):
    cs = calls.lock_session(s, call.sid)
    if cs is not None:  # Twilio retried the first webhook
        return cs.last_response, cs.step
    flow = registry().latest(s)
    registry().persist(s, flow)
    calls.open_call(
        s,
        call_sid=call.sid,
        caller=call.caller,
        called=call.called,
        direction=call.direction,
        flow_version=flow.version,
        now=clock(current_app),
    )
    session = engine.new_session(flow, call_sid=call.sid, caller=call.caller, called=call.called)
    cs = calls.CallSession(call_sid=call.sid, data=session.to_json(), step=0)
    s.add(cs)
    s.flush()
    turn = engine.start(flow, session, DbServices(s, current_app, call_sid=call.sid, step=0))
    log.info("call %s from %s starts on flow %s", call.sid, mask_number(call.caller), flow.version)
    return _answer(s, cs, turn.session, turn.events)


@bp.post("/step")
@twilio_request_required
@never_fail
def step():
    post = inputs.TurnPost.from_request(request)
    with calls.write_turn(get_db(), durable=False) as s:
        cs = calls.lock_session(s, post.sid)
        if cs is None:
            raise LookupError(f"no session for call {post.sid}")
        answer = _continue_call(s, cs, post)
    return _reply(*answer)


def _continue_call(s, cs, post: inputs.TurnPost):
    if post.step != cs.step:
        return cs.last_response, cs.step  # a retry: replay, change nothing
    session = calls.load_session(cs)
    before = calls.mirrored(session)
    flow = registry().get(s, session.flow_version)
    services = DbServices(s, current_app, call_sid=cs.call_sid, step=cs.step)
    if _listening(session):
        value = _listen(s, cs, flow, session, post, before)
    else:
        value = post.input_for(session.wait)
    if isinstance(value, tuple):  # a poll answer, not an engine turn
        return value
    if value is None:
        raise ValueError(f"webhook does not match the wait {session.wait}")
    queued = session.wait is ev.WaitKind.QUEUE
    turn = engine.resume(flow, session, value, services)
    if any(isinstance(e, ev.TicketCreated) for e in turn.events):
        calls.keep_durable(s)
    left = None
    if queued:
        left = value.outcome.value if isinstance(value, ev.QueueResult) else "left"
    return _answer(s, cs, turn.session, turn.events, before=before, left=left)


def _listening(session: Session) -> bool:
    return session.phase is Phase.LISTEN and session.wait is ev.WaitKind.RECORDING


def _listen(s, cs, flow, session: Session, post: inputs.TurnPost, before: tuple):
    """A spoken keyword: queue grammar recognition, then poll.

    Returns a stored poll answer (events, step) while waiting, or the Speech input."""
    pending = session.listening
    if pending is None:
        url = post.recording.url if post.recording else ""
        if post.timeout or not url:
            return ev.Timeout()
        words = list(flow.nodes[session.node].keywords)
        job = enqueue_grammar(s, call_sid=cs.call_sid, recording_url=url, words=words)
        calls.keep_durable(s)
        session.listening = Listening(job)
        return _poll_answer(s, cs, session, before)
    result = grammar_result(s, pending.job)
    if result is None and pending.polls < MAX_GRAMMAR_POLLS:
        pending.polls += 1
        return _poll_answer(s, cs, session, before)
    session.listening = None
    text, confidence = result if result is not None else (None, 0.0)
    return ev.Speech(text or "", confidence)


def _poll_answer(s, cs, session: Session, before: tuple):
    return _answer(s, cs, session, [twiml.PollAgain(GRAMMAR_POLL_PAUSE)], before=before)


@bp.post("/queue/wait")
@twilio_request_required
def queue_wait():
    """One hold round (prompts, position), or <Leave> once the overflow time has passed.

    Only the queue's wait verbs are allowed here (no <Dial>): on any error the call
    leaves the queue, and the Enqueue action (a normal step) takes it from there.
    """
    post = inputs.HoldPost.from_request(request)
    try:
        with get_db().session() as s:
            cs = s.get(calls.CallSession, post.sid)
            if cs is None:
                raise LookupError(f"no session for call {post.sid}")
            session = calls.load_session(cs)
            flow = registry().get(s, session.flow_version)
        answer = hold(
            flow,
            session.node,
            session.language,
            queue_time=post.queue_time,
            position=post.position,
        )
    except Exception as exc:
        log.error(
            "hold for call %s failed: %s",
            post.sid,
            mask_text("".join(traceback.format_exception(exc))),
        )
        answer = Hold(leave=True)
    return _xml(twiml.hold(answer, speaker()))


@bp.post("/status")
@twilio_request_required
@never_fail
def status():
    close_call(inputs.StatusReport.from_request(request))
    return _xml(twiml.empty())


def close_call(report: inputs.StatusReport) -> None:
    """A status callback: an ended call's session is closed (the caller hung up) and its
    record updated. Also called for outgoing calls, whose status goes to their dialler."""
    with calls.write_turn(get_db()) as s:
        cs = calls.lock_session(s, report.sid)
        if cs is None:
            return
        session = calls.load_session(cs)
        if report.ended and not session.ended:
            if session.wait is ev.WaitKind.QUEUE:
                signals.queue_left.send(
                    current_app._get_current_object(),
                    s=s,
                    call_sid=report.sid,
                    result=ev.QueueOutcome.HUNG_UP.value,
                )
            flow = registry().get(s, session.flow_version)
            services = DbServices(s, current_app, call_sid=report.sid, step=cs.step)
            engine.resume(flow, session, ev.CallerHangup(), services)
            cs.data = session.to_json()
        calls.sync_call(
            s, session, status=report.status, ended=report.ended, now=clock(current_app)
        )


@bp.post("/fallback")
@twilio_request_required
def fallback():
    sid = inputs.call_sid(request, "-")
    log.error("Twilio used the fallback URL for call %s (%s)", sid, inputs.fallback_error(request))
    try:  # bounded: the primary URL failed, perhaps on this very database
        with calls.write_turn(get_db(), budget=calls.ERROR_MARK_SECONDS) as s:
            calls.mark_error(s, sid)
    except Exception as exc:
        log.error("could not mark call %s: %s", sid, type(exc).__name__)
    return _xml(twiml.apology(current_app.config["OPERATOR_NUMBER"], speaker()))


def _presynthesize(app):
    def hook(flow) -> None:
        fn = app.extensions.get("prompt_presynthesize")
        if fn is not None:
            fn(flow.texts())

    return hook


def _exempt_from_csrf() -> None:
    """Webhooks are authenticated by Twilio's signature, not a session cookie: no CSRF token."""
    csrf.exempt(bp)


def init_app(app) -> None:
    flows = FlowRegistry(app.config["FLOWS_PATH"], on_load=_presynthesize(app))
    app.extensions["ivr.flows"] = flows
    health.register(app, "flow", lambda a: a.extensions["ivr.flows"].check(a))
    app.register_blueprint(bp)
    _exempt_from_csrf()
    flows_cli.init_app(app)
    app.cli.add_command(notices.notices_cli)
