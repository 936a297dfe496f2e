"""The outgoing-call port: what the follow-up caller needs from a telephony provider.

Two implementations share one contract test: `TwilioPort` (the real REST API,
or the local fake of it) and `SimulatorPort` (a local citizen who answers by the
TwiML our webhooks return). Errors subclass `TelephonyError`; `transient` tells
the caller whether trying again later may succeed.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime

# Every progress event we ask Twilio to report (completed is always reported).
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
RING_TIMEOUT_SECONDS = 30


class TelephonyError(Exception):
    """A call could not be placed or looked up."""

    def __init__(self, message: str, *, transient: bool = True, status: int | None = None):
        super().__init__(message)
        self.transient = transient
        self.status = status


@dataclass(frozen=True)
class OutgoingCall:
    to: str
    url: str
    status_callback: str
    from_: str | None = None
    machine_detection: bool = True
    timeout: int = RING_TIMEOUT_SECONDS


@dataclass
class PlacedCall:
    sid: str
    to: str
    status: str
    url: str | None = None
    created_at: datetime | None = None
    extra: dict = field(default_factory=dict)


class TelephonyPort(abc.ABC):
    """Places outgoing calls whose progress comes back as status callbacks."""

    name = "base"

    @abc.abstractmethod
    def place_call(self, call: OutgoingCall) -> PlacedCall:
        """Ask the provider to dial; returns once the call is queued (not answered)."""

    @abc.abstractmethod
    def calls_to(self, number: str, since: datetime) -> list[PlacedCall]:
        """Calls to this number created at or after `since` (crash reconciliation)."""

    @abc.abstractmethod
    def hang_up(self, sid: str, *, answered: bool = False) -> None:
        """Cancel a call not yet answered, or end one in progress (`answered`)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and threads."""
