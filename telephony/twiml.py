"""Engine events -> TwiML, built only with twilio's VoiceResponse.

Prompts are spoken with <Say language> unless the speech package offers
synthesized audio through app.extensions["prompt_audio"](text, language) -> URL,
then <Play>. A turn's events are stored as JSON (`dump_events`) so a Twilio retry
of the same step is answered with the same TwiML.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from ivr.flows import events as ev
from ivr.flows.dialplan import DialPlan
from ivr.flows.hold import Hold
from ivr.flows.messages import DEFAULT_MESSAGES

log = logging.getLogger(__name__)
DEFAULT_LANGUAGE = "zh-CN"  # an apology with no flow to name a language

STEP_PATH = "/ivr/step"
HOLD_PATH = "/ivr/queue/wait"
RECORD_FINISH_KEY = "#"

AudioLookup = Callable[[str, str], str | None]


@dataclass(frozen=True)
class PollAgain:
    """Adapter-only answer while a spoken keyword is being recognised: pause, then ask again."""

    seconds: int


_EVENT_TYPES = {
    cls.__name__: cls
    for cls in (
        ev.Say,
        ev.Play,
        ev.Hangup,
        ev.TransferToOperator,
        ev.TicketCreated,
        ev.GatherDigits,
        ev.RecordAudio,
        ev.Enqueue,
        ev.Dial,
        PollAgain,
    )
}


def dump_events(events: list) -> str:
    """A turn's events as JSON: stored per step, so a Twilio retry gets the same answer."""
    # Events are flat: their fields are read directly (dataclasses.asdict deep-copies each).
    return json.dumps(
        [
            {
                "type": type(e).__name__,
                **{f.name: getattr(e, f.name) for f in dataclasses.fields(e)},
            }
            for e in events
        ],
        ensure_ascii=False,
    )


def load_events(text: str) -> list:
    out = []
    for item in json.loads(text):
        cls = _EVENT_TYPES[item.pop("type")]
        if cls is ev.RecordAudio:
            item["words"] = tuple(item.get("words", ()))
        out.append(cls(**item))
    return out


class Speaker:
    """Adds a prompt to a TwiML element as <Play> (synthesized audio) or <Say language>."""

    def __init__(self, audio_url: AudioLookup | None = None):
        self.audio_url = audio_url

    def __call__(self, parent, text: str, language: str) -> None:
        url = None
        if self.audio_url is not None:
            try:
                url = self.audio_url(text, language)
            except Exception:  # audio is an improvement; <Say> always works
                url = None
        if url:
            parent.play(url)
        else:
            parent.say(text, language=language)


def _speak_all(parent, items, speak: Speaker) -> None:
    for item in items:
        if isinstance(item, ev.Say):
            speak(parent, item.text, item.language)
        elif isinstance(item, ev.Play):
            parent.play(item.url)


def render(
    events: list,
    *,
    url: Callable[[str], str],
    step: int,
    operator: str,
    speak: Speaker,
    dial_plan: DialPlan | None = None,
) -> str:
    """TwiML for one engine turn. `url(path)` makes the absolute callback URL; a `dial:`
    target `dial_plan` refuses becomes an apology and the operator."""
    resp = VoiceResponse()
    action = url(f"{STEP_PATH}?s={step}")
    no_input = url(f"{STEP_PATH}?s={step}&timeout=1")
    spoken = [e for e in events if isinstance(e, ev.Say | ev.Play)]
    last = events[-1] if events else None
    if isinstance(last, PollAgain):
        resp.pause(length=last.seconds)
        resp.redirect(url(f"{STEP_PATH}?s={step}&poll=1"), method="POST")
        return str(resp)
    if isinstance(last, ev.GatherDigits):
        # Prompts go inside <Gather> so the caller can key in while they play.
        gather = resp.gather(
            action=action,
            method="POST",
            timeout=last.timeout,
            finish_on_key=last.finish_on_key,
            **({"num_digits": last.num_digits} if last.num_digits else {}),
        )
        _speak_all(gather, spoken, speak)
        resp.redirect(no_input, method="POST")
        return str(resp)
    _speak_all(resp, spoken, speak)
    if isinstance(last, ev.RecordAudio):
        resp.record(
            action=action,
            method="POST",
            max_length=last.max_length,
            timeout=last.silence,
            play_beep=last.beep,
            finish_on_key=RECORD_FINISH_KEY,
            trim="trim-silence",
        )
        resp.redirect(no_input, method="POST")  # Twilio skips the action on an empty recording
    elif isinstance(last, ev.Enqueue):
        resp.enqueue(
            last.queue,
            action=action,
            method="POST",
            wait_url=url(f"{HOLD_PATH}?s={step}"),
            wait_url_method="POST",
        )
    elif isinstance(last, ev.Dial) and dial_plan and (why := dial_plan.refusal(last.target)):
        # Validated when published; the allow-list may have changed since.
        log.error("dial target refused at render time, caller sent to the operator: %s", why)
        speak(resp, DEFAULT_MESSAGES["apology"][DEFAULT_LANGUAGE], DEFAULT_LANGUAGE)
        resp.dial(operator)
    elif isinstance(last, ev.Dial):
        dial = resp.dial(action=action, method="POST", timeout=last.timeout)
        if last.target.startswith("sip:"):
            dial.sip(last.target)
        else:
            dial.number(last.target)
    elif isinstance(last, ev.TransferToOperator):
        resp.dial(operator)
    else:
        resp.hangup()
    return str(resp)


def apology(operator: str, speak: Speaker, language: str = "zh-CN") -> str:
    """The answer when anything goes wrong: an apology and a transfer to the operator."""
    resp = VoiceResponse()
    speak(resp, DEFAULT_MESSAGES["apology"][language], language)
    resp.dial(operator)
    return str(resp)


def empty() -> str:
    return str(VoiceResponse())


def hold(answer: Hold, speak: Speaker) -> str:
    """The queue's wait URL answer: one hold round, or <Leave> for the overflow."""
    resp = VoiceResponse()
    if answer.leave:
        resp.leave()
        return str(resp)
    _speak_all(resp, answer.prompts, speak)
    resp.pause(length=max(1, answer.pause))
    return str(resp)
