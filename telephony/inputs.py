"""Twilio's webhook forms -> typed values: the caller's input for the engine, call facts.

Only this module reads Twilio's form fields and knows Twilio's status words
("bridged", "completed", "no-answer", ...). The engine is resumed with
`ivr.flows.events` inputs whose outcomes are enums; call records receive a
`StatusReport` that says whether the call has ended.

A field Twilio did not send, or sent empty, becomes its neutral value (no digits,
zero seconds): a malformed form must lead to a re-prompt or the operator, never to
an exception in the middle of a turn.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.flows import events as ev

# Twilio's QueueResult of an <Enqueue> action. Anything unknown counts as FAILED.
QUEUE_RESULTS = {
    "bridged": ev.QueueOutcome.ANSWERED,
    "hangup": ev.QueueOutcome.HUNG_UP,
    "leave": ev.QueueOutcome.LEFT,
    "queue-full": ev.QueueOutcome.FULL,
    "error": ev.QueueOutcome.FAILED,
    "system-error": ev.QueueOutcome.FAILED,
    "redirected": ev.QueueOutcome.FAILED,
}
# Twilio's DialCallStatus of a <Dial> action. Anything unknown counts as FAILED.
DIAL_STATUSES = {
    "completed": ev.DialOutcome.ANSWERED,
    "answered": ev.DialOutcome.ANSWERED,
    "busy": ev.DialOutcome.BUSY,
    "no-answer": ev.DialOutcome.NO_ANSWER,
    "failed": ev.DialOutcome.FAILED,
    "canceled": ev.DialOutcome.CANCELED,
}
# Twilio's AnsweredBy (answering machine detection) words that mean no person answered.
MACHINE_ANSWERS = ("machine", "fax")
# A call whose CallStatus is one of these is over; the second set: over, never answered.
CALL_END_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
CALL_UNANSWERED_STATUSES = frozenset({"busy", "failed", "no-answer"})


MAX_COUNT_DIGITS = 9  # seconds, positions, sequence numbers: Twilio's fit easily


def _count(value) -> int | None:
    """A non-negative whole number from a form field, or None: only ASCII digits count
    ('²' is a digit to str.isdigit but not to int), and no more than MAX_COUNT_DIGITS
    (int() refuses 4,300 digits with a ValueError)."""
    ok = isinstance(value, str) and value.isascii() and value.isdigit()
    return int(value) if ok and len(value) <= MAX_COUNT_DIGITS else None


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def call_sid(request, default: str | None = None) -> str | None:
    """The CallSid of a webhook (`default` when absent)."""
    return request.form.get("CallSid", default)


def caller(request) -> str | None:
    """The caller's number, for masked logging (None when absent)."""
    return request.form.get("From") or None


def callee(request) -> str | None:
    """The number called (an outgoing call's citizen), None when absent."""
    return request.form.get("To") or None


@dataclass(frozen=True)
class CallStart:
    """An incoming (or answered outgoing) call's first webhook."""

    sid: str
    caller: str | None
    called: str | None
    direction: str

    @classmethod
    def from_request(cls, request) -> CallStart:
        form = request.form
        return cls(
            sid=form["CallSid"],
            caller=form.get("From") or None,
            called=form.get("To"),
            direction=form.get("Direction", "inbound"),
        )


@dataclass(frozen=True)
class OutboundAnswer:
    """An outgoing call was answered (the url of calls.create): by whom, from which line."""

    sid: str
    our_number: str | None
    answered_by: str | None  # the provider's word (human, machine_start, fax, ...), if detected

    @property
    def machine(self) -> bool:
        """An answering machine or a fax answered: no person is listening."""
        return bool(self.answered_by and self.answered_by.startswith(MACHINE_ANSWERS))

    @classmethod
    def from_request(cls, request) -> OutboundAnswer:
        form = request.form
        return cls(
            sid=form["CallSid"],
            our_number=form.get("From") or None,
            answered_by=form.get("AnsweredBy") or None,
        )


@dataclass(frozen=True)
class TurnPost:
    """A later turn's webhook: which step it answers and everything the caller did."""

    sid: str
    step: int | None  # the step whose TwiML this answers (None: not given)
    timeout: bool  # the no-input redirect after <Gather>/<Record>
    poll: bool  # a spoken-keyword poll redirect
    digits: str
    recording: ev.RecordingDone | None
    queue: ev.QueueResult | None
    dial: ev.DialResult | None

    @classmethod
    def from_request(cls, request) -> TurnPost:
        form, args = request.form, request.args
        recording = None
        if "RecordingUrl" in form:
            recording = ev.RecordingDone(
                url=form.get("RecordingUrl", ""),
                sid=form.get("RecordingSid") or None,
                duration=_int(form.get("RecordingDuration")),
            )
        queue = dial = None
        if "QueueResult" in form:
            outcome = QUEUE_RESULTS.get(form["QueueResult"], ev.QueueOutcome.FAILED)
            queue = ev.QueueResult(outcome, _int(form.get("QueueTime")))
        if "DialCallStatus" in form:
            outcome = DIAL_STATUSES.get(form["DialCallStatus"], ev.DialOutcome.FAILED)
            dial = ev.DialResult(outcome, _int(form.get("DialCallDuration")))
        return cls(
            sid=form["CallSid"],
            step=args.get("s", type=int),
            timeout=bool(args.get("timeout")),
            poll=bool(args.get("poll")),
            digits=form.get("Digits", ""),
            recording=recording,
            queue=queue,
            dial=dial,
        )

    def input_for(self, wait: ev.WaitKind | None):
        """The engine input this post means for the session's wait (None: it does not fit)."""
        if self.timeout:
            return ev.Timeout()
        if wait is ev.WaitKind.DIGITS:
            return ev.Digits(self.digits) if self.digits else ev.Timeout()
        if wait is ev.WaitKind.RECORDING:
            return self.recording or ev.RecordingDone(url="")
        if wait is ev.WaitKind.QUEUE:
            return self.queue
        if wait is ev.WaitKind.DIAL:
            return self.dial
        return None


@dataclass(frozen=True)
class HoldPost:
    """The queue's wait URL: how long the caller has waited and their place in the queue."""

    sid: str
    queue_time: int  # seconds
    position: int  # 1 = next to be answered; 0 = unknown

    @classmethod
    def from_request(cls, request) -> HoldPost:
        form = request.form
        return cls(
            sid=form.get("CallSid", "-"),
            queue_time=_int(form.get("QueueTime")),
            position=_int(form.get("QueuePosition")),
        )


@dataclass(frozen=True)
class StatusReport:
    """A call status callback."""

    sid: str
    status: str  # the provider's word, kept as-is on the call record
    ended: bool
    answered_by: str | None = None
    duration: int | None = None  # seconds, when the provider says
    sequence: int | None = None  # the provider's order of this call's callbacks

    @property
    def unanswered(self) -> bool:
        """Ended without being answered (busy, no answer, failed)."""
        return self.status in CALL_UNANSWERED_STATUSES

    @classmethod
    def from_request(cls, request) -> StatusReport:
        form = request.form
        status = form.get("CallStatus", "")
        duration = form.get("CallDuration") or form.get("Duration")
        sequence = form.get("SequenceNumber", "")
        return cls(
            sid=form.get("CallSid", ""),
            status=status,
            ended=status in CALL_END_STATUSES,
            answered_by=form.get("AnsweredBy") or None,
            duration=_count(duration),
            sequence=_count(sequence),
        )


def fallback_error(request) -> str:
    """The error code Twilio gives when it uses the fallback URL."""
    return request.form.get("ErrorCode", "no error code")


@dataclass(frozen=True)
class QueueBridge:
    """The url of a <Dial><Queue>: an agent's leg took a caller out of the queue."""

    caller_sid: str  # the queued caller's call
    leg_sid: str | None  # the agent's call that dequeued them

    @classmethod
    def from_request(cls, request) -> QueueBridge:
        form = request.form
        return cls(caller_sid=form.get("CallSid", ""), leg_sid=form.get("DequeingCallSid") or None)
