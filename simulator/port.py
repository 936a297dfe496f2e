"""Outgoing calls to a simulated citizen: the embedded default when there is no Twilio.

The telephony port (telephony.base) implemented by the simulator; registered as
TELEPHONY=simulator by `simulator.init_app`.

Each placed call is answered by `simulator.phone.Phone`, which follows our TwiML
over HTTP (or a Flask test client) with signed requests and sends the status
callbacks Twilio would. How the citizen behaves is a spec (SIMULATOR_CALLEE):

    answer:1      answer, press 1 at the first question (keys are used one per question)
    say:满意      answer, say the word after the question (a short WAV is recorded)
    silent        answer and say nothing
    no-answer | busy | failed   never answered
    machine       an answering machine picks up (AMD reports machine_start)
    agent:180     an agent: answers, takes the head of the queue it is asked to dial
                  (from the port's `switch`, which stands in for Twilio's queues) and
                  talks 180 s
    desk          an agent whose desk page is the phone: the call rings there and the
                  agent answers, declines or hangs up with the page's buttons
"""

from __future__ import annotations

import collections
import io
import logging
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.config import value
from core.db import utcnow
from simulator.phone import Action, Phone, new_sid
from simulator.recordings import AppRecordings
from simulator.transport import HttpTransport
from telephony.base import STATUS_EVENTS, OutgoingCall, PlacedCall, TelephonyError, TelephonyPort

log = logging.getLogger(__name__)

NOT_ANSWERED = ("no-answer", "busy", "failed")
MAX_STEPS_PER_CALL = 50
AGENT_TALK_SECONDS = 30
SPOKEN_SECONDS = 1.0
JOIN_SECONDS = 10


def spoken_wav(seconds: float = SPOKEN_SECONDS, rate: int = 8000) -> bytes:
    """A short 8 kHz mono WAV standing in for a spoken word (a 300 Hz tone)."""
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * 32767 * np.sin(2 * np.pi * 300 * t)).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


@dataclass
class Callee:
    """A citizen's behaviour, parsed from a spec such as 'answer:19' or 'say:满意'."""

    mode: str
    keys: collections.deque = field(default_factory=collections.deque)
    word: str | None = None
    talk: float | None = None

    @classmethod
    def parse(cls, spec: str) -> Callee:
        kind, _, arg = spec.strip().partition(":")
        kind = kind.strip().lower()
        if kind == "answer":
            return cls("answer", collections.deque(arg.strip()))
        if kind == "say" and arg.strip():
            return cls("answer", word=arg.strip())
        if kind == "agent":
            try:
                return cls("agent", talk=float(arg) if arg.strip() else AGENT_TALK_SECONDS)
            except ValueError:
                pass
        if kind in ("silent", "machine", "desk", *NOT_ANSWERED):
            return cls(kind)
        raise TelephonyError(
            f"bad simulated callee {spec!r}: expected answer:DIGITS, "
            "say:WORD, agent:SECONDS, desk, silent, machine, no-answer, busy or failed",
            transient=False,
        )

    def respond(self, need):
        if need.kind == "gather":
            if self.keys:
                return Action("keys", self.keys.popleft())
            return Action("wait", need.attrs.get("timeout"))
        if need.kind == "record":
            if self.word:
                word, self.word = self.word, None
                return Action("audio", word, audio=spoken_wav())
            return Action("wait", need.attrs.get("timeout"))
        if need.kind in ("queue", "dial"):
            return Action("agent", self.talk or AGENT_TALK_SECONDS)
        return Action("hangup")


class SimulatorPort(TelephonyPort):
    name = "simulator"

    def __init__(
        self,
        transport,
        *,
        auth_token: str,
        account_sid: str,
        caller_id: str,
        callee: str | Callable[[str], str] = "answer:1",
        recordings=None,
        run_async: bool = True,
        switch=None,
    ):
        self.transport = transport
        self.auth_token, self.account_sid, self.caller_id = auth_token, account_sid, caller_id
        self.callee_for = callee if callable(callee) else (lambda number, spec=callee: spec)
        self.recordings = recordings
        self.run_async = run_async
        self.switch = switch
        self.placed: list[PlacedCall] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config) -> SimulatorPort:
        public = config["PUBLIC_BASE_URL"]
        transport = HttpTransport(public)
        return cls(
            transport,
            auth_token=config["TWILIO_AUTH_TOKEN"],
            account_sid=config["TWILIO_ACCOUNT_SID"],
            caller_id=config["TWILIO_CALLER_ID"],
            callee=value(config, "SIMULATOR_CALLEE"),
            recordings=AppRecordings(
                transport, public, config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]
            ),
        )

    def place_call(self, call: OutgoingCall) -> PlacedCall:
        callee = Callee.parse(self.callee_for(call.to))
        placed = PlacedCall(
            sid=new_sid("CA"), to=call.to, status="queued", url=call.url, created_at=utcnow()
        )
        with self._lock:
            self.placed.append(placed)
        if self.run_async:
            thread = threading.Thread(
                target=self._run_call,
                args=(placed, call, callee),
                name=f"sim-call-{placed.sid[-6:]}",
                daemon=True,
            )
            with self._lock:
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()
        else:
            self._run_call(placed, call, callee)
        return placed

    def _run_call(self, placed: PlacedCall, call: OutgoingCall, callee: Callee) -> None:
        if callee.mode == "desk":
            return  # rings on an agent's desk page, which answers it (agents' softphone)
        answered_by = None
        if call.machine_detection:
            answered_by = "machine_start" if callee.mode == "machine" else "human"
        phone = Phone.outbound(
            self.transport,
            self.auth_token,
            url=call.url,
            from_=call.from_ or self.caller_id,
            to=call.to,
            account_sid=self.account_sid,
            call_sid=placed.sid,
            status_callback=call.status_callback,
            status_events=list(STATUS_EVENTS),
            answered_by=answered_by,
            recordings=self.recordings,
            switch=self.switch,
        )
        try:
            if callee.mode in NOT_ANSWERED:
                phone.not_answered(callee.mode)
            else:
                need = phone.start()
                for _ in range(MAX_STEPS_PER_CALL):
                    if need is None or phone.ended:
                        break
                    need = phone.resume(callee.respond(need))
                phone.hangup()
        except Exception:  # a simulated call must never take the scheduler down
            log.exception("simulated call %s failed", placed.sid)
        placed.status = phone.state["status"]
        placed.extra["events"] = phone.events

    def calls_to(self, number: str, since: datetime) -> list[PlacedCall]:
        with self._lock:
            return [c for c in self.placed if c.to == number and c.created_at >= since]

    def hang_up(self, sid: str, *, answered: bool = False) -> None:
        """Simulated calls run to their end within milliseconds; nothing to interrupt."""

    def close(self) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=JOIN_SECONDS)
        close = getattr(self.transport, "close", None)
        if close:
            close()
