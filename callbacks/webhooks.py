"""Twilio-facing routes of outgoing calls: the survey script, answers, comment, status.

Every route checks X-Twilio-Signature (telephony.signature). Answers are taken by
keypad (a <Gather> around the question, so a key may interrupt it) or by voice
(a short <Record> right after it, matched by the speech grammar while the
citizen hears a pause). Any error is an apology and a hang-up, never Twilio's
"application error".
"""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from callbacks import models as m
from callbacks import script, service, ticketing
from core.db import get_db, utcnow
from telephony.base import TERMINAL_STATUSES
from telephony.signature import signed_url, twilio_request_required

log = logging.getLogger(__name__)
bp = Blueprint("callbacks_voice", __name__, url_prefix="/callbacks")

KEY_TIMEOUT_SECONDS = 2  # after the question, before listening for a spoken answer
SPOKEN_MAX_SECONDS = 5
SPOKEN_SILENCE_SECONDS = 3
COMMENT_MAX_SECONDS = 60
MAX_SILENCES = 2  # the question is asked twice, then the attempt is unanswered
MAX_GRAMMAR_POLLS = 8  # one second each, while the speech worker matches the answer
MACHINE_PREFIXES = ("machine", "fax")


def _twiml(resp: VoiceResponse) -> Response:
    return Response(str(resp), mimetype="application/xml")


def _say(resp, text: str, language: str = "zh-CN") -> None:
    """Synthesized audio (speech's prompt cache) when there is some, else Twilio's <Say>."""
    audio_url = current_app.extensions.get("prompt_audio")
    url = None
    if audio_url is not None:
        try:
            url = audio_url(text, language)
        except Exception:  # a TTS failure must not cost the call: <Say> instead
            log.exception("prompt audio failed; using <Say>")
    if url:
        resp.play(url)
    else:
        resp.say(text, language=language)


def _goodbye(text: str) -> Response:
    resp = VoiceResponse()
    _say(resp, text)
    resp.hangup()
    return _twiml(resp)


def voice_route(rule: str):
    """A signed Twilio route for one attempt, answering an apology on any error."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(attempt_id: int):
            try:
                with get_db().session() as s:
                    attempt = s.get(m.CallbackAttempt, attempt_id)
                    if attempt is None:
                        return _goodbye(script.SORRY)
                    return view(s, attempt)
            except Exception:
                log.exception("callback webhook %s failed for attempt %s", rule, attempt_id)
                return _goodbye(script.SORRY)

        bp.post(rule, endpoint=view.__name__)(twilio_request_required(wrapped))
        return view  # callable directly with (s, attempt) from the other steps

    return decorate


def _url(attempt: m.CallbackAttempt, step: str, **query) -> str:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    return signed_url(f"/callbacks/voice/{attempt.id}/{step}" + (f"?{qs}" if qs else ""))


def _question(attempt: m.CallbackAttempt, prefix: str | None = None) -> Response:
    resp = VoiceResponse()
    gather = resp.gather(
        input="dtmf",
        num_digits=1,
        timeout=KEY_TIMEOUT_SECONDS,
        action=_url(attempt, "key"),
        method="POST",
    )
    if prefix:
        _say(gather, prefix)
    _say(gather, script.survey_text(attempt.request.script), attempt.request.language)
    # No key: listen for a spoken answer (a key still ends the recording and is honoured).
    resp.record(
        max_length=SPOKEN_MAX_SECONDS,
        timeout=SPOKEN_SILENCE_SECONDS,
        play_beep=False,
        finish_on_key="1239",
        trim="trim-silence",
        action=_url(attempt, "spoken"),
        method="POST",
    )
    resp.redirect(_url(attempt, "silence"), method="POST")
    return _twiml(resp)


@voice_route("/voice/<int:attempt_id>")
def answered(s, attempt: m.CallbackAttempt) -> Response:
    """The url of calls.create: Twilio fetches it once a person or a machine answered."""
    answered_by = request.form.get("AnsweredBy")
    if answered_by:
        attempt.answered_by = answered_by
    attempt.call_sid = attempt.call_sid or request.form.get("CallSid")
    if answered_by and answered_by.startswith(MACHINE_PREFIXES):
        attempt.outcome = "machine"  # hang up, leave no message
        resp = VoiceResponse()
        resp.hangup()
        return _twiml(resp)
    req = attempt.request
    if req.state != m.PENDING or attempt.state == m.FINISHED:
        return _goodbye(script.GOODBYE)
    if req.kind == m.RETURN_CALL:
        attempt.outcome = "enqueued"
        resp = VoiceResponse()
        _say(resp, script.RETURN_CALL)
        resp.enqueue(current_app.config.get("RETURN_CALL_QUEUE", "agents"))
        return _twiml(resp)
    return _question(attempt)


def _answer(
    s, attempt: m.CallbackAttempt, key: str | None = None, result: str | None = None
) -> Response:
    if key == script.OPT_OUT_KEY:
        attempt.outcome = "opted_out"
        service.add_do_not_call(s, attempt.number, source="keypad", actor="citizen")
        return _goodbye(script.OPTED_OUT)
    result = result or script.KEYS.get(key or "")
    if result is None:
        return silence(s, attempt)
    attempt.outcome = "answered"
    ticketing.record_result(s, attempt, result)
    resp = VoiceResponse()
    _say(resp, script.THANKS_RESULT)
    resp.record(
        max_length=COMMENT_MAX_SECONDS,
        finish_on_key="#",
        timeout=4,
        action=_url(attempt, "comment"),
        method="POST",
    )
    _say(resp, script.GOODBYE)
    resp.hangup()
    return _twiml(resp)


@voice_route("/voice/<int:attempt_id>/key")
def key(s, attempt: m.CallbackAttempt) -> Response:
    return _answer(s, attempt, key=request.form.get("Digits", "")[:1])


@voice_route("/voice/<int:attempt_id>/spoken")
def spoken(s, attempt: m.CallbackAttempt) -> Response:
    """End of the short recording: a key ended it, or a spoken answer to recognise."""
    digits = request.form.get("Digits", "")
    if digits and digits[:1] in "1239":
        return _answer(s, attempt, key=digits[:1])
    url = request.form.get("RecordingUrl")
    if not url or request.form.get("RecordingDuration", "0") in ("0", ""):
        return silence(s, attempt)
    from speech.jobs import enqueue_grammar

    job = enqueue_grammar(
        s,
        call_sid=attempt.call_sid or request.form.get("CallSid", ""),
        recording_url=url,
        words=list(script.WORDS),
    )
    resp = VoiceResponse()
    resp.pause(length=1)
    resp.redirect(_url(attempt, "heard", job=job, n=0), method="POST")
    return _twiml(resp)


@voice_route("/voice/<int:attempt_id>/heard")
def heard(s, attempt: m.CallbackAttempt) -> Response:
    """Poll the grammar job; the citizen hears short pauses meanwhile."""
    from speech.jobs import grammar_result

    job, polls = int(request.args["job"]), int(request.args.get("n", 0))
    found = grammar_result(s, job)
    if found is None and polls + 1 < MAX_GRAMMAR_POLLS:
        resp = VoiceResponse()
        resp.pause(length=1)
        resp.redirect(_url(attempt, "heard", job=job, n=polls + 1), method="POST")
        return _twiml(resp)
    word = found[0] if found else None
    attempt.heard = word
    result = script.result_for_word(word)
    if result is None:
        return silence(s, attempt)
    return _answer(s, attempt, result=result)


@voice_route("/voice/<int:attempt_id>/silence")
def silence(s, attempt: m.CallbackAttempt) -> Response:
    """No usable answer: ask once more, then give up on this attempt."""
    attempt.silences += 1
    if attempt.silences < MAX_SILENCES:
        return _question(attempt, prefix=script.NOT_HEARD)
    attempt.outcome = "unanswered"
    return _goodbye(script.UNANSWERED)


@voice_route("/voice/<int:attempt_id>/comment")
def comment(s, attempt: m.CallbackAttempt) -> Response:
    url = request.form.get("RecordingUrl")
    if url and request.form.get("RecordingDuration", "0") not in ("0", ""):
        ticketing.record_comment(s, attempt, url, request.form.get("RecordingSid"))
    return _goodbye(script.GOODBYE)


@bp.post("/status/<int:attempt_id>")
@twilio_request_required
def status(attempt_id: int):
    """Twilio's status callbacks: every event is stored; a final one closes the attempt."""
    form = request.form
    call_status = form.get("CallStatus", "")
    with get_db().session() as s:
        attempt = s.get(m.CallbackAttempt, attempt_id)
        if attempt is None:
            return Response(status=204)
        duration = form.get("CallDuration") or form.get("Duration")
        s.add(
            m.CallbackEvent(
                attempt_id=attempt.id,
                call_sid=form.get("CallSid"),
                status=call_status,
                answered_by=form.get("AnsweredBy"),
                duration=int(duration) if duration and duration.isdigit() else None,
                sequence=int(form["SequenceNumber"])
                if form.get("SequenceNumber", "").isdigit()
                else None,
                received_at=utcnow(),
            )
        )
        attempt.call_sid = attempt.call_sid or form.get("CallSid")
        if form.get("AnsweredBy"):
            attempt.answered_by = form["AnsweredBy"]
        if attempt.state != m.FINISHED:
            attempt.status = call_status
            if call_status in TERMINAL_STATUSES:
                attempt.duration = int(duration) if duration and duration.isdigit() else None
                service.finish_attempt(s, attempt)
    return Response(status=204)
