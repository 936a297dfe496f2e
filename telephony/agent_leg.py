"""TwiML of the agent leg: the call placed to an agent's device to answer a queued caller.

The agent leg dials the queue (`<Dial><Queue url>`), which is Twilio's own
dequeue: the caller at the head of the queue is bridged to the agent, and the
`<Queue url>` is fetched for the dequeued caller (CallSid) with the agent leg
as DequeingCallSid, before the two are connected.
"""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, VoiceResponse

# An agent who answers an empty queue (the caller just left) waits this long, not forever.
DEQUEUE_WAIT_SECONDS = 5


def dial_queue(queue: str, *, url: str, whisper: str | None = None, language="zh-CN") -> str:
    """The answered agent leg: optionally tell the agent, then take the head of the queue."""
    resp = VoiceResponse()
    if whisper:
        resp.say(whisper, language=language)
    dial = Dial(timeout=DEQUEUE_WAIT_SECONDS)
    dial.queue(queue, url=url, method="POST")
    resp.append(dial)
    resp.hangup()
    return str(resp)


def announce(text: str | None, language: str = "zh-CN") -> str:
    """The `<Queue url>` answer, played to the dequeued caller just before the bridge."""
    resp = VoiceResponse()
    if text:
        resp.say(text, language=language)
    return str(resp)


def goodbye(text: str, language: str = "zh-CN") -> str:
    """An agent leg with nobody to connect (the caller left): say so and hang up."""
    resp = VoiceResponse()
    resp.say(text, language=language)
    resp.hangup()
    return str(resp)
