"""Twilio webhooks of the voice front door.

POST /ivr/voice      incoming call: open the call record, run the flow's first turn
POST /ivr/step?s=N   every later turn (Gather/Record/Enqueue/Dial actions, no-input
                     redirects `&timeout=1`, spoken-keyword polls `&poll=1`)
POST /ivr/queue/wait?s=N   the queue's hold music: prompts, position, overflow <Leave>
POST /ivr/status     call status callback: closes the call, decides abandoned outcomes
POST /ivr/fallback   Twilio's fallback URL: apology and transfer to the operator

Every route checks X-Twilio-Signature. No 5xx ever reaches Twilio: an error
answers with an apology and <Dial> to OPERATOR_NUMBER. A step already answered
(Twilio retry) gets the stored TwiML back and does nothing twice.
"""

from __future__ import annotations

import copy
import functools
import logging
import traceback

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from core import health
from core.db import get_db
from core.privacy import mask_number, mask_text
from ivr import calls, twiml
from ivr.flows import engine
from ivr.flows import events as ev
from ivr.registry import FlowRegistry
from ivr.services import DbServices, clock
from ivr.twilio_auth import signed_url, twilio_request_required

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
            sid = request.form.get("CallSid", "-")
            log.error(
                "webhook %s failed for call %s from %s: %s",
                request.path,
                sid,
                mask_number(request.form.get("From")),
                mask_text("".join(traceback.format_exception(exc))),
            )
            try:
                with get_db().session() as s:
                    calls.mark_error(s, sid)
            except Exception as inner:
                log.error("could not mark call %s as error_transfer: %s", sid, type(inner).__name__)
            return _xml(twiml.apology(current_app.config["OPERATOR_NUMBER"], speaker()))

    return wrapped


def _answer(s, cs, turn_session: dict, events: list, previous: dict | None = None):
    """Store a turn's events with the session as the next step; returns what to render."""
    cs.step += 1
    stored = twiml.dump_events(events)
    calls.save_turn(s, cs, turn_session, stored, now=clock(current_app), previous=previous)
    return stored, cs.step


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
        )
    )


@bp.post("/voice")
@twilio_request_required
@never_fail
def voice():
    form = request.form
    sid = form["CallSid"]
    db = get_db()
    try:
        with calls.write_turn(db) as s:
            answer = _start_call(s, sid, form)
    except IntegrityError:  # the same first webhook, twice at once: the other one won
        with db.session() as s:
            cs = calls.lock_session(s, sid)
            answer = (cs.last_response, cs.step) if cs else (None, 0)
    return _reply(*answer)


def _start_call(s, sid: str, form):
    cs = calls.lock_session(s, sid)
    if cs is not None:  # Twilio retried the first webhook
        return cs.last_response, cs.step
    flow = registry().latest()
    registry().persist(s, flow)
    caller = form.get("From") or None
    calls.open_call(
        s,
        call_sid=sid,
        caller=caller,
        called=form.get("To"),
        direction=form.get("Direction", "inbound"),
        flow_version=flow.version,
        now=clock(current_app),
    )
    session = engine.new_session(flow, call_sid=sid, caller=caller, called=form.get("To"))
    cs = calls.CallSession(call_sid=sid, data=session, step=0)
    s.add(cs)
    s.flush()
    turn = engine.start(flow, session, DbServices(s, current_app, call_sid=sid, step=0))
    log.info("call %s from %s starts on flow %s", sid, mask_number(caller), flow.version)
    return _answer(s, cs, turn.session, turn.events)


@bp.post("/step")
@twilio_request_required
@never_fail
def step():
    sid = request.form["CallSid"]
    with calls.write_turn(get_db()) as s:
        cs = calls.lock_session(s, sid)
        if cs is None:
            raise LookupError(f"no session for call {sid}")
        answer = _continue_call(s, cs)
    return _reply(*answer)


def _continue_call(s, cs):
    if request.args.get("s", type=int) != cs.step:
        return cs.last_response, cs.step  # a retry: replay, change nothing
    session = copy.deepcopy(cs.data)  # the engine mutates it; the column must see a change
    flow = registry().get(s, session["flow_version"])
    services = DbServices(s, current_app, call_sid=cs.call_sid, step=cs.step)
    value = (
        _listen(s, cs, session)
        if _listening(session)
        else twiml.parse_input(
            session.get("wait"), request.form, timeout=bool(request.args.get("timeout"))
        )
    )
    if isinstance(value, tuple):  # a poll answer, not an engine turn
        return value
    if value is None:
        raise ValueError(f"webhook does not match the wait {session.get('wait')}")
    turn = engine.resume(flow, session, value, services)
    if not any(isinstance(e, ev.TicketCreated) for e in turn.events):
        calls.relax_durability(s)
    return _answer(s, cs, turn.session, turn.events, previous=cs.data)


def _listening(session: dict) -> bool:
    return session.get("phase") == "listen" and session.get("wait") == "RecordAudio"


def _listen(s, cs, session: dict):
    """A spoken keyword: queue grammar recognition, then poll.

    Returns a stored poll answer (events, step) while waiting, or the Speech input."""
    try:
        from speech.jobs import enqueue_grammar, grammar_result
    except ModuleNotFoundError:  # no speech package: the recording counts as an invalid try
        return twiml.parse_input("RecordAudio", request.form, timeout=False)
    pending = session.get("listen")
    if pending is None:
        url = request.form.get("RecordingUrl")
        if request.args.get("timeout") or not url:
            return ev.Timeout()
        node = registry().get(s, session["flow_version"]).nodes[session["node"]]
        job = enqueue_grammar(s, call_sid=cs.call_sid, recording_url=url, words=list(node.keywords))
        session["listen"] = {"job": job, "polls": 1}
        return _poll_answer(s, cs, session)
    result = grammar_result(s, pending["job"])
    if result is None and pending["polls"] < MAX_GRAMMAR_POLLS:
        session["listen"] = {**pending, "polls": pending["polls"] + 1}
        return _poll_answer(s, cs, session)
    session.pop("listen", None)
    text, confidence = result if result is not None else (None, 0.0)
    return ev.Speech(text or "", confidence)


def _poll_answer(s, cs, session: dict):
    return _answer(s, cs, session, [twiml.PollAgain(GRAMMAR_POLL_PAUSE)])


@bp.post("/queue/wait")
@twilio_request_required
def queue_wait():
    """Hold prompts and queue position; <Leave> once the overflow time has passed.

    Only the queue's wait verbs are allowed here (no <Dial>): on any error the call
    leaves the queue, and the Enqueue action (a normal step) takes it from there.
    """
    sid = request.form.get("CallSid", "-")
    try:
        return _xml(_hold(sid))
    except Exception as exc:
        log.error(
            "hold for call %s failed: %s", sid, mask_text("".join(traceback.format_exception(exc)))
        )
        return _xml(twiml.hold(prompts=[], position=None, speak=speaker(), leave=True))


def _hold(sid: str) -> str:
    with get_db().session() as s:
        cs = s.get(calls.CallSession, sid)
        if cs is None:
            raise LookupError(f"no session for call {sid}")
        session = cs.data
        flow = registry().get(s, session["flow_version"])
    node = flow.nodes[session["node"]]
    queue_time = twiml._int(request.form.get("QueueTime"))
    leave = node.overflow is not None and queue_time >= node.overflow_after
    lang = session["language"]
    texts = [p.say.get(lang) or p.say[flow.default_language] for p in node.hold] or [
        flow.message("hold").say[lang]
    ]
    # Rotate through the hold prompts, one per visit of the wait URL.
    prompt = texts[(queue_time // twiml.HOLD_PAUSE_SECONDS) % len(texts)]
    position = None
    ahead = twiml._int(request.form.get("QueuePosition")) - 1
    if ahead > 0:
        template = (node.position or flow.message("position")).say[lang]
        position = (template.format(position=ahead), lang)
    if node.overflow is None:
        return twiml.hold(prompts=[(prompt, lang)], position=position, speak=speaker(), leave=False)
    # Twilio only asks the wait URL again when its TwiML is done: close to the overflow time,
    # wait just the seconds left (no prompt) so the offer comes at overflow_after, not a
    # whole hold round later.
    remaining = node.overflow_after - queue_time
    if 0 < remaining <= twiml.HOLD_PAUSE_SECONDS:
        return twiml.hold(prompts=[], position=None, speak=speaker(), leave=False, pause=remaining)
    return twiml.hold(prompts=[(prompt, lang)], position=position, speak=speaker(), leave=leave)


@bp.post("/status")
@twilio_request_required
@never_fail
def status():
    form = request.form
    sid, call_status = form["CallSid"], form.get("CallStatus", "")
    with calls.write_turn(get_db()) as s:
        cs = calls.lock_session(s, sid)
        if cs is None:
            return _xml(twiml.empty())
        session = copy.deepcopy(cs.data)
        if call_status in calls.CALL_END_STATUSES and not session.get("ended"):
            flow = registry().get(s, session["flow_version"])
            session = engine.resume(
                flow,
                session,
                ev.CallerHangup(),
                DbServices(s, current_app, call_sid=sid, step=cs.step),
            ).session
            cs.data = session
            calls.flag_modified(cs, "data")
        calls.sync_call(s, session, status=call_status, now=clock(current_app))
    return _xml(twiml.empty())


@bp.post("/fallback")
@twilio_request_required
def fallback():
    sid = request.form.get("CallSid", "-")
    log.error(
        "Twilio used the fallback URL for call %s (%s)",
        sid,
        request.form.get("ErrorCode", "no error code"),
    )
    try:
        with get_db().session() as s:
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
    try:
        from accounts.csrf import csrf
    except ModuleNotFoundError:
        return
    csrf.exempt(bp)


def init_app(app) -> None:
    from ivr import flows_cli, notices

    flows = FlowRegistry(app.config["FLOWS_PATH"], on_load=_presynthesize(app))
    app.extensions["ivr.flows"] = flows
    health.register(app, "flow", lambda a: a.extensions["ivr.flows"].check(a))
    app.register_blueprint(bp)
    _exempt_from_csrf()
    flows_cli.init_app(app)
    app.cli.add_command(notices.notices_cli)
