"""A phone that calls the app exactly as Twilio would, and follows the TwiML it gets back.

The phone signs every form POST with the auth token over the public URL
(X-Twilio-Signature), sends Twilio's field names, and plays the verbs out:
<Say>/<Play>/<Pause> are heard, <Gather>/<Record>/<Enqueue>/<Dial> stop and ask
the caller (a `Need`), the caller answers with an `Action`, and the phone goes
on. Time is simulated (a call clock in seconds), so a scripted call that waits
in a queue for two minutes runs in milliseconds.

The call's state is plain JSON (`Phone.state`), so a web page can drive a call
across requests and worker processes: `Phone.resume_from(state, ...)`.
"""

from __future__ import annotations

import io
import secrets
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Protocol
from urllib.parse import urlencode, urljoin

from simulator.transport import Reply, Transport
from telephony.signature import sign

API_VERSION = "2010-04-01"
MAX_REQUESTS_PER_CALL = 300  # a Redirect loop in a flow must end the call, not hang the phone
MAX_VERBS_PER_CALL = 3000
SAY_SECONDS_PER_CHAR = 0.25  # rough speaking rate for simulated time
PLAY_SECONDS = 3.0  # assumed length of a <Play> whose audio the phone did not fetch
DEFAULT_TALK_SECONDS = 60  # an answered agent/transfer talks this long unless told otherwise
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


class QueueSwitch(Protocol):
    """Stands in for Twilio's queues in simulator mode, where no switch holds the callers.

    `dequeue(queue, agent_sid)`: the CallSid at the head of the queue an agent leg dials
    (None: empty); `answered(call_sid)`: whether an agent has taken this waiting caller
    (may wait a moment of real time for it); `talk(seconds)`: an agent's conversation.
    A phone that talks until someone hangs up (`talk_until_hangup`) also asks
    `agent(call_sid)`: who is talking with the caller now (None once that agent hung up),
    without waiting; and says `hang_up(call_sid)` when its caller hangs up on the agent, so
    that the agent's leg ends too, as Twilio ends both legs of a bridge.
    """

    def dequeue(self, queue: str, agent_sid: str) -> str | None: ...

    def answered(self, call_sid: str) -> bool: ...

    def talk(self, seconds: float) -> None: ...

    def agent(self, call_sid: str) -> str | None: ...

    def hang_up(self, call_sid: str) -> None: ...


class PhoneError(Exception):
    """The phone was driven wrongly (e.g. resumed with no question pending)."""


@dataclass
class Need:
    """What the call waits for from the caller: 'gather', 'record', 'queue', 'dial', or
    'talk' (bridged to an agent, with a phone that talks until someone hangs up)."""

    kind: str
    attrs: dict = field(default_factory=dict)


@dataclass
class Action:
    """The caller's answer to a Need.

    kind: 'keys' (value: digits), 'speech' (value: text), 'audio' (audio: WAV bytes,
    value: optional text spoken), 'wait' (value: seconds of silence / waiting),
    'agent' (an agent or the dialled party answers; value: talk seconds),
    'no-answer', 'busy', 'failed', 'hangup'.
    """

    kind: str
    value: str | float | None = None
    audio: bytes | None = None


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def wav_duration(data: bytes) -> float:
    """Seconds of audio in a WAV file."""
    with wave.open(io.BytesIO(data)) as w:
        return w.getnframes() / float(w.getframerate() or 1)


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() == "true"


def _num(value: str | None, default: float) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


class Phone:
    """One call. Build with `Phone.inbound(...)` or `Phone.outbound(...)`, then `start()`."""

    def __init__(
        self,
        transport: Transport,
        auth_token: str,
        state: dict,
        *,
        recordings=None,
        prompt_text: Callable[[str], str | None] | None = None,
        measure_audio: bool = False,
        switch: QueueSwitch | None = None,
        talk_until_hangup: bool = False,
    ):
        self.transport = transport
        self.auth_token = auth_token
        self.switch = switch
        # A person on the line (the browser's live line): an agent who takes the caller
        # talks until one of them hangs up, not for a simulated number of seconds.
        self.talk_until_hangup = talk_until_hangup and switch is not None
        self.state = state
        # Anything with .base_url and .add_recording(sid, wav_bytes) (FakeTwilio, or the
        # app's simulator recording store) receives <Record>ed audio.
        self.recordings = recordings
        self.prompt_text = prompt_text
        # Fetch each <Play> file once to know how long it plays (the call clock, queue
        # overflow timing); off, a <Play> counts PLAY_SECONDS.
        self.measure_audio = measure_audio
        self._durations: dict[str, float] = {}

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def inbound(
        cls,
        transport: Transport,
        auth_token: str,
        *,
        voice_url: str,
        from_: str,
        to: str,
        account_sid: str,
        status_callback: str | None = None,
        **kwargs,
    ) -> Phone:
        """A citizen calling the hotline number whose voice webhook is `voice_url`."""
        return cls(
            transport,
            auth_token,
            _new_state(voice_url, from_, to, account_sid, "inbound", status_callback),
            **kwargs,
        )

    @classmethod
    def outbound(
        cls,
        transport: Transport,
        auth_token: str,
        *,
        url: str,
        from_: str,
        to: str,
        account_sid: str,
        call_sid: str | None = None,
        status_callback: str | None = None,
        status_events: list[str] | None = None,
        answered_by: str | None = None,
        **kwargs,
    ) -> Phone:
        """A call the app placed through the REST API, answered by this phone."""
        state = _new_state(url, from_, to, account_sid, "outbound-api", status_callback)
        if call_sid:
            state["call_sid"] = call_sid
        state["status_events"] = list(status_events or [])
        state["answered_by"] = answered_by
        return cls(transport, auth_token, state, **kwargs)

    @classmethod
    def resume_from(cls, state: dict, transport: Transport, auth_token: str, **kwargs) -> Phone:
        return cls(transport, auth_token, state, **kwargs)

    # ---- public API ---------------------------------------------------------------------

    @property
    def events(self) -> list[dict]:
        return self.state["events"]

    @property
    def ended(self) -> bool:
        return self.state["ended"]

    @property
    def need(self) -> Need | None:
        n = self.state["need"]
        return Need(**n) if n else None

    def start(self) -> Need | None:
        """Ring the app; run until the caller must act (returns the Need) or the call ends."""
        if self.state["requests"]:
            raise PhoneError("call already started")
        self._status_event("initiated")
        self._status_event("ringing")
        self._status_event("answered")
        doc = self._fetch(self.state["url"], "POST", {}, first=True)
        if doc is not None:
            self._load(doc, self.state["url"])
        return self._run()

    def resume(self, action: Action) -> Need | None:
        """Give the caller's answer to the pending Need; run on."""
        need = self.need
        if need is None or self.ended:
            raise PhoneError("the call is not waiting for the caller")
        self.state["need"] = None
        handler = getattr(self, f"_answer_{need.kind}")
        handler(need, action)
        return self._run()

    def not_answered(self, status: str) -> None:
        """An outgoing call that rings out ('no-answer'), is 'busy' or 'failed'."""
        self._event("not-answered", status=status)
        self._end(status)

    def hangup(self) -> None:
        """The caller hangs up now, whatever is pending."""
        if not self.ended:
            self._caller_hangup()

    # ---- the verb loop ------------------------------------------------------------------

    def _queue(self) -> dict | None:
        return self.state["queue"]

    def _pending(self) -> list:
        q = self._queue()
        return q["pending"] if q else self.state["pending"]

    def _load(self, root: ET.Element, url: str, into_queue: bool | None = None) -> None:
        verbs = [{"xml": ET.tostring(el, encoding="unicode"), "url": url} for el in root]
        q = self._queue()
        if q is not None and into_queue is not False:
            q["pending"] = verbs
        else:
            self.state["pending"] = verbs

    def _run(self) -> Need | None:
        while not self.ended and self.state["need"] is None:
            pending = self._pending()
            if not pending:
                if self._queue() is not None:
                    self._wait_round()
                    continue
                self._event("end-of-document")
                self._end("completed")
                break
            item = pending.pop(0)
            self.state["verbs"] += 1
            if self.state["verbs"] > MAX_VERBS_PER_CALL:
                self._app_error("too many verbs (a loop in the flow?)")
                break
            el = ET.fromstring(item["xml"])
            handler = getattr(self, f"_verb_{el.tag.lower()}", None)
            if handler is None:
                self._event("unsupported", verb=el.tag)
                continue
            handler(el, item["url"])
        return self.need

    def _verb_say(self, el, url) -> None:
        times = max(1, int(_num(el.get("loop"), 1)))
        text = (el.text or "").strip()
        self._event("say", text=text, language=el.get("language"))
        self.state["clock"] += SAY_SECONDS_PER_CHAR * len(text) * times

    def _verb_play(self, el, url) -> None:
        audio = urljoin(url, (el.text or "").strip())
        text = self.prompt_text(audio) if self.prompt_text else None
        self._event("play", url=audio, text=text)
        if el.get("digits"):
            self._event("play-digits", digits=el.get("digits"))
        self.state["clock"] += self._play_seconds(audio) * max(1, int(_num(el.get("loop"), 1)))

    def _play_seconds(self, url: str) -> float:
        if not self.measure_audio:
            return PLAY_SECONDS
        if url not in self._durations:
            seconds = PLAY_SECONDS
            try:
                reply = self.transport.request("GET", url)
                if reply.status == 200:
                    seconds = wav_duration(reply.body)
            except Exception:  # not a WAV, unreachable: the estimate will do for the clock
                pass
            self._durations[url] = seconds
        return self._durations[url]

    def _verb_pause(self, el, url) -> None:
        seconds = _num(el.get("length"), 1)
        self._event("pause", seconds=seconds)
        self.state["clock"] += seconds

    def _verb_redirect(self, el, url) -> None:
        target = urljoin(url, (el.text or "").strip())
        self._event("redirect", url=target)
        self._follow(target, el.get("method", "POST"), {})

    def _verb_hangup(self, el, url) -> None:
        self._event("hangup", by="app")
        self._end("completed")

    def _verb_reject(self, el, url) -> None:
        reason = el.get("reason", "rejected")
        self._event("reject", reason=reason)
        self._end("busy" if reason == "busy" else "no-answer")

    def _verb_leave(self, el, url) -> None:
        q = self._queue()
        if q is None:
            return
        self._event("leave-queue")
        self._leave_queue("leave")

    def _verb_gather(self, el, url) -> None:
        for child in el:
            handler = getattr(self, f"_verb_{child.tag.lower()}", None)
            if child.tag in ("Say", "Play", "Pause") and handler:
                handler(child, url)
        attrs = {
            "input": el.get("input", "dtmf"),
            "action": urljoin(url, el.get("action") or url),
            "method": el.get("method", "POST"),
            "timeout": _num(el.get("timeout"), 5),
            "numDigits": int(_num(el.get("numDigits"), 0)) or None,
            "finishOnKey": el.get("finishOnKey", "#"),
            "actionOnEmptyResult": _bool(el.get("actionOnEmptyResult")),
            "language": el.get("language"),
            "hints": el.get("hints"),
        }
        self._event(
            "gather", input=attrs["input"], timeout=attrs["timeout"], numDigits=attrs["numDigits"]
        )
        self.state["need"] = asdict(Need("gather", attrs))

    def _answer_gather(self, need: Need, action: Action) -> None:
        a = need.attrs
        if action.kind == "hangup":
            self._caller_hangup()
            return
        params: dict | None = None
        if action.kind == "keys" and "dtmf" in a["input"]:
            digits = str(action.value or "")
            if a["finishOnKey"] and a["finishOnKey"] in digits:
                digits = digits.split(a["finishOnKey"], 1)[0]
            if a["numDigits"]:
                digits = digits[: a["numDigits"]]
            self._event("keys", digits=digits)
            self.state["clock"] += 0.5 * max(1, len(digits))
            params = {"Digits": digits, "FinishedOnKey": ""} if digits else None
        elif action.kind in ("speech", "audio") and "speech" in a["input"] and action.value:
            text = str(action.value)
            self._event("speech", text=text)
            self.state["clock"] += SAY_SECONDS_PER_CHAR * len(text) + 1
            params = {"SpeechResult": text, "Confidence": "0.9"}
        else:
            # Silence, or input the <Gather> does not listen for: it times out.
            self._event("timeout", seconds=a["timeout"])
            self.state["clock"] += a["timeout"]
        if params is None and not a["actionOnEmptyResult"]:
            return  # Twilio goes on with the verb after <Gather>
        self._follow(a["action"], a["method"], params or {})

    def _verb_record(self, el, url) -> None:
        if _bool(el.get("playBeep"), True):
            self._event("beep")
        attrs = {
            "action": urljoin(url, el.get("action") or url),
            "method": el.get("method", "POST"),
            "maxLength": _num(el.get("maxLength"), 3600),
            "timeout": _num(el.get("timeout"), 5),
            "finishOnKey": el.get("finishOnKey", "1234567890*#"),
            "status_callback": (
                urljoin(url, el.get("recordingStatusCallback"))
                if el.get("recordingStatusCallback")
                else None
            ),
            "status_callback_method": el.get("recordingStatusCallbackMethod", "POST"),
        }
        self._event("record", maxLength=attrs["maxLength"])
        self.state["need"] = asdict(Need("record", attrs))

    def _answer_record(self, need: Need, action: Action) -> None:
        a = need.attrs
        if action.kind == "hangup":
            self._caller_hangup()
            return
        if action.kind != "audio" or not action.audio:
            # Silence or a finish key before any audio: Twilio skips the action URL.
            self._event("no-recording")
            self.state["clock"] += a["timeout"] if action.kind == "wait" else 0.5
            return
        duration = min(wav_duration(action.audio), a["maxLength"])
        sid = new_sid("RE")
        try:
            rec_url = self._publish_recording(sid, action.audio)
        except Exception as exc:  # nowhere to put it: to the app, as if nothing was said
            self._event("http-error", url="(recording server)", error=f"{exc}")
            self._event("no-recording")
            self.state["clock"] += a["timeout"]
            return
        self._event("recorded", sid=sid, url=rec_url, seconds=round(duration, 2), text=action.value)
        self.state["clock"] += duration + a["timeout"]
        params = {
            "RecordingUrl": rec_url,
            "RecordingSid": sid,
            "RecordingDuration": str(int(round(duration))),
        }
        self._follow(a["action"], a["method"], params)
        if a["status_callback"]:
            self._post(
                a["status_callback"],
                a["status_callback_method"],
                {
                    "RecordingSid": sid,
                    "RecordingUrl": rec_url,
                    "RecordingStatus": "completed",
                    "RecordingDuration": str(int(round(duration))),
                    "RecordingChannels": "1",
                    "RecordingSource": "RecordVerb",
                },
            )

    def _publish_recording(self, sid: str, wav: bytes) -> str:
        if self.recordings is None:
            raise PhoneError("the flow records, but the phone has no recording server")
        self.recordings.add_recording(sid, wav)
        if hasattr(self.recordings, "recording_url"):
            return self.recordings.recording_url(sid)
        base = self.recordings.base_url.rstrip("/")
        return f"{base}/{API_VERSION}/Accounts/{self.state['account_sid']}/Recordings/{sid}"

    def _verb_enqueue(self, el, url) -> None:
        name = (el.text or "").strip()
        wait_url = el.get("waitUrl")
        self.state["queue"] = {
            "name": name,
            "sid": new_sid("QU"),
            "entered": self.state["clock"],
            "action": urljoin(url, el.get("action")) if el.get("action") else None,
            "method": el.get("method", "POST"),
            "wait_url": urljoin(url, wait_url) if wait_url else None,
            "wait_method": el.get("waitUrlMethod", "POST"),
            "rounds": 0,
            "pending": [],
        }
        self._event("enqueue", queue=name)
        self._wait_round(first=True)

    def _queue_time(self) -> int:
        return int(self.state["clock"] - self._queue()["entered"])

    def _wait_round(self, first: bool = False) -> None:
        """Between rounds of the wait URL, ask the caller: wait on, agent answers, or hang up."""
        q = self._queue()
        if not first:
            if self.switch is not None and self.switch.answered(self.state["call_sid"]):
                self._answer_queue(Need("queue"), Action("agent"))
                return
            self.state["need"] = asdict(
                Need("queue", {"queue": q["name"], "waited": self._queue_time()})
            )
            return
        self._next_wait_doc()

    def _next_wait_doc(self) -> None:
        q = self._queue()
        q["rounds"] += 1
        if q["wait_url"] is None:
            self.state["clock"] += PLAY_SECONDS  # Twilio's own hold music
            return
        doc = self._fetch(
            q["wait_url"],
            q["wait_method"],
            {
                "QueuePosition": "1",
                "QueueSid": q["sid"],
                "QueueTime": str(self._queue_time()),
                "AvgQueueTime": "0",
                "CurrentQueueSize": "1",
                "MaxQueueSize": "100",
            },
        )
        if doc is not None:
            self._load(doc, q["wait_url"], into_queue=True)
            if not len(doc):
                self.state["clock"] += 1  # an empty wait document still takes time
        # Not a real infinite loop: each round asks the caller (a Need) before the next.

    def _answer_queue(self, need: Need, action: Action) -> None:
        if action.kind == "hangup":
            self._leave_queue("hangup")
            if not self.ended:
                self._caller_hangup()
        elif action.kind == "agent" and self.talk_until_hangup:
            agent = self.switch.agent(self.state["call_sid"])
            self._event("agent-answered", waited=self._queue_time(), agent=agent)
            talk = Need("talk", {"agent": agent, "queue": self._queue()["name"]})
            self.state["need"] = asdict(talk)
        elif action.kind == "agent":
            talk = _num(
                str(action.value) if action.value is not None else None, DEFAULT_TALK_SECONDS
            )
            self._event("agent-answered", waited=self._queue_time())
            self.state["clock"] += talk
            self._leave_queue("bridged")
        else:
            self.state["clock"] += _num(str(action.value) if action.value else None, 0)
            self._next_wait_doc()

    def _answer_talk(self, need: Need, action: Action) -> None:
        """Bridged to an agent: the caller hangs up, or talks on until the agent hangs up."""
        sid = self.state["call_sid"]
        if action.kind == "hangup":
            self.switch.hang_up(sid)
            self._leave_queue("bridged", caller_gone=True)
            self._caller_hangup()
            return
        self.state["clock"] += _num(str(action.value) if action.value else None, 0)
        if self.switch.agent(sid) is None:
            self._event("agent-hangup", agent=need.attrs.get("agent"))
            self._leave_queue("bridged")  # the caller goes on in the flow
        else:
            self.state["need"] = asdict(need)

    def _leave_queue(self, result: str, *, caller_gone: bool = False) -> None:
        q = self.state["queue"]
        self.state["queue"] = None
        self._event("queue-result", result=result, seconds=int(self.state["clock"] - q["entered"]))
        if not q["action"]:
            return
        params = {
            "QueueResult": result,
            "QueueSid": q["sid"],
            "QueueTime": str(int(self.state["clock"] - q["entered"])),
        }
        if result == "hangup" or caller_gone:
            self._post(q["action"], q["method"], params)  # TwiML ignored: the caller is gone
        else:
            self._follow(q["action"], q["method"], params)

    def _verb_dial(self, el, url) -> None:
        number = (el.text or "").strip() or " ".join(
            (c.text or "").strip() for c in el if c.tag in ("Number", "Sip", "Client", "Queue")
        )
        queue = next((c for c in el if c.tag == "Queue"), None)
        attrs = {
            "number": number,
            "queue": (queue.text or "").strip() if queue is not None else None,
            "queue_url": urljoin(url, queue.get("url"))
            if queue is not None and queue.get("url")
            else None,
            "timeout": _num(el.get("timeout"), 30),
            "action": urljoin(url, el.get("action")) if el.get("action") else None,
            "method": el.get("method", "POST"),
        }
        self._event("dial", number=number)
        self.state["need"] = asdict(Need("dial", attrs))

    def _answer_dial(self, need: Need, action: Action) -> None:
        a = need.attrs
        if action.kind == "hangup":
            self._caller_hangup()
            return
        duration = 0
        if action.kind == "agent" and a.get("queue") and self.switch is not None:
            status, duration = self._dequeue(a, action)
        elif action.kind == "agent":
            status = "completed"
            duration = int(_num(str(action.value) if action.value else None, DEFAULT_TALK_SECONDS))
        elif action.kind in ("busy", "failed"):
            status = action.kind
        else:
            status = "no-answer"
        self.state["clock"] += duration or (a["timeout"] if status == "no-answer" else 1)
        self._event("dial-result", status=status, seconds=duration)
        if a["action"]:
            self._follow(
                a["action"],
                a["method"],
                {
                    "DialCallStatus": status,
                    "DialCallSid": new_sid("CA"),
                    "DialCallDuration": str(duration),
                    "DialBridged": str(status == "completed"),
                },
            )

    def _dequeue(self, a: dict, action: Action) -> tuple[str, int]:
        """<Dial><Queue>: take the head of the queue from the switch, run <Queue url>, talk."""
        caller = self.switch.dequeue(a["queue"], self.state["call_sid"])
        if caller is None:  # Twilio waits for a caller until the Dial timeout
            return "no-answer", 0
        self._event("dequeued", queue=a["queue"], caller=caller)
        if a.get("queue_url"):
            self._post(
                a["queue_url"],
                "POST",
                {
                    "CallSid": caller,
                    "DequeingCallSid": self.state["call_sid"],
                    "QueueSid": new_sid("QU"),
                    "QueueTime": "0",
                },
            )
        duration = int(_num(str(action.value) if action.value else None, DEFAULT_TALK_SECONDS))
        self.switch.talk(duration)
        return "completed", duration

    # ---- requests -----------------------------------------------------------------------

    def _params(self, extra: dict) -> dict:
        s = self.state
        status = s["status"] if s["ended"] else "in-progress"
        params = {
            "AccountSid": s["account_sid"],
            "ApiVersion": API_VERSION,
            "CallSid": s["call_sid"],
            "CallStatus": status,
            "Direction": s["direction"],
            "From": s["from"],
            "To": s["to"],
            "Caller": s["from"],
            "Called": s["to"],
        }
        if s.get("answered_by"):
            params["AnsweredBy"] = s["answered_by"]
        params.update({k: v for k, v in extra.items() if v is not None})
        return params

    def _post(self, url: str, method: str, extra: dict, first: bool = False) -> Reply | None:
        s = self.state
        s["requests"] += 1
        if s["requests"] > MAX_REQUESTS_PER_CALL:
            self._app_error("too many webhook requests (a redirect loop?)")
            return None
        params = self._params(extra)
        if first:
            params["CallStatus"] = "ringing" if s["direction"] == "inbound" else "in-progress"
        method = method.upper()
        if method == "GET":
            url = url + ("&" if "?" in url else "?") + urlencode(params)
            signature = sign(url, {}, self.auth_token)
            data = None
        else:
            signature = sign(url, params, self.auth_token)
            data = params
        headers = {
            "X-Twilio-Signature": signature,
            "I-Twilio-Idempotency-Token": secrets.token_hex(8),
        }
        try:
            reply = self.transport.request(method, url, data=data, headers=headers)
        except Exception as exc:  # connection refused, timeout: Twilio's 11200/11205
            self._event("http-error", url=url, error=f"{type(exc).__name__}: {exc}")
            return None
        self._event(
            "request",
            method=method,
            url=url,
            status=reply.status,
            params={k: v for k, v in extra.items() if v is not None},
        )
        return reply

    def _fetch(self, url: str, method: str, extra: dict, first: bool = False) -> ET.Element | None:
        """POST to a webhook and parse its TwiML; any failure is Twilio's application error."""
        reply = self._post(url, method, extra, first=first)
        if reply is None:
            if not self.ended:
                self._app_error(f"no reply from {url}")
            return None
        if reply.status != 200:
            self._app_error(f"HTTP {reply.status} from {url}")
            return None
        try:
            root = ET.fromstring(reply.body)
        except ET.ParseError as exc:
            self._app_error(f"invalid TwiML from {url}: {exc}")
            return None
        if root.tag != "Response":
            self._app_error(f"TwiML root is <{root.tag}>, not <Response>, from {url}")
            return None
        return root

    def _follow(self, url: str, method: str, extra: dict) -> None:
        """Fetch the next document; it replaces whatever was left of the current one."""
        doc = self._fetch(url, method, extra)
        if doc is not None:
            self._load(doc, url)

    def _app_error(self, detail: str) -> None:
        self._event("application-error", detail=detail, text=APPLICATION_ERROR)
        self._end("failed" if not self.state["requests"] else "completed")

    def _caller_hangup(self) -> None:
        self._event("hangup", by="caller")
        self._end("completed")

    def _status_event(self, name: str) -> None:
        s = self.state
        if name not in s.get("status_events", []) or not s["status_callback"]:
            return
        status = {"initiated": "queued", "ringing": "ringing", "answered": "in-progress"}[name]
        self._post(
            s["status_callback"],
            "POST",
            {"CallStatus": status, "CallbackSource": "call-progress-events"},
        )

    def _end(self, status: str) -> None:
        s = self.state
        if s["ended"]:
            return
        s["ended"], s["status"], s["need"] = True, status, None
        s["pending"], s["queue"] = [], None
        if s["status_callback"]:
            duration = int(s["clock"] + 0.999) if status == "completed" else 0
            self._post(
                s["status_callback"],
                "POST",
                {
                    "CallStatus": status,
                    "CallDuration": str(duration),
                    "Duration": str(duration),
                    "CallbackSource": "call-progress-events",
                    "SequenceNumber": "0",
                },
            )

    def _event(self, kind: str, **data) -> None:
        self.state["events"].append({"kind": kind, "t": round(self.state["clock"], 1), **data})


def _new_state(url, from_, to, account_sid, direction, status_callback) -> dict:
    return {
        "url": url,
        "call_sid": new_sid("CA"),
        "account_sid": account_sid,
        "from": from_,
        "to": to,
        "direction": direction,
        "status_callback": status_callback,
        "status_events": [],
        "answered_by": None,
        "clock": 0.0,
        "status": "ringing",
        "ended": False,
        "need": None,
        "pending": [],
        "queue": None,
        "events": [],
        "requests": 0,
        "verbs": 0,
    }
