"""What the engine emits (events, the last one possibly a wait) and what resumes it.

All plain frozen dataclasses: the Twilio adapter renders events as TwiML and
parses Twilio's form into a resume input; the simulator does the same in text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

# ---- events -------------------------------------------------------------------------------


class WaitKind(enum.Enum):
    """What a waiting call expects next; stored in the session between webhooks."""

    DIGITS = "digits"
    RECORDING = "recording"
    QUEUE = "queue"
    DIAL = "dial"


@dataclass(frozen=True)
class Say:
    text: str
    language: str


@dataclass(frozen=True)
class Play:
    url: str


@dataclass(frozen=True)
class Hangup:
    """The flow ends the call."""


@dataclass(frozen=True)
class TransferToOperator:
    """The engine gives up (error, step cap): the adapter dials OPERATOR_NUMBER."""

    reason: str


@dataclass(frozen=True)
class TicketCreated:
    number: str


@dataclass(frozen=True)
class GatherDigits:
    """Wait for keypad input. Resumed by Digits or Timeout."""

    kind: ClassVar[WaitKind] = WaitKind.DIGITS

    timeout: int
    num_digits: int | None = None
    finish_on_key: str = ""


@dataclass(frozen=True)
class RecordAudio:
    """Wait for a recording. purpose 'message' (voice message) or 'listen' (spoken keyword).

    Resumed by RecordingDone or Timeout; for 'listen' the adapter turns the
    recording into Speech (grammar recognition) before resuming.
    """

    kind: ClassVar[WaitKind] = WaitKind.RECORDING

    purpose: str
    max_length: int
    silence: int
    beep: bool = True
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Enqueue:
    """Wait in the agent queue. Resumed by QueueResult.

    While the caller waits, `ivr.flows.hold` decides each hold round of `node` (prompts,
    position) and, after `overflow_after` seconds, that the caller leaves the queue: the
    QueueResult that follows takes the node's overflow exit.
    """

    kind: ClassVar[WaitKind] = WaitKind.QUEUE

    queue: str
    node: str
    overflow_after: int
    has_overflow: bool


@dataclass(frozen=True)
class Dial:
    """Wait for a dialled number or SIP URI to answer. Resumed by DialResult."""

    kind: ClassVar[WaitKind] = WaitKind.DIAL

    target: str
    timeout: int


WAITS = (GatherDigits, RecordAudio, Enqueue, Dial)
ENDS = (Hangup, TransferToOperator)

# ---- resume inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Digits:
    digits: str


@dataclass(frozen=True)
class Speech:
    text: str
    confidence: float


@dataclass(frozen=True)
class Timeout:
    pass


@dataclass(frozen=True)
class RecordingDone:
    url: str
    sid: str | None = None
    duration: int = 0


class QueueOutcome(enum.Enum):
    """How a caller's wait in the agent queue ended."""

    ANSWERED = "answered"  # an agent took the call; it has ended since
    HUNG_UP = "hung_up"  # the caller hung up while waiting
    LEFT = "left"  # we took the caller out of the queue (overflow)
    FULL = "full"  # the queue was full
    FAILED = "failed"  # the provider could not queue the call


class DialOutcome(enum.Enum):
    """How a dialled number or SIP address answered."""

    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class QueueResult:
    outcome: QueueOutcome
    queue_time: int = 0


@dataclass(frozen=True)
class DialResult:
    outcome: DialOutcome
    duration: int = 0


@dataclass(frozen=True)
class CallerHangup:
    """The caller hung up (status callback)."""
