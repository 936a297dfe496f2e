"""The port through which the engine reaches the outside world (time, data, tickets)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from ivr.flows.session import Session


class Services(Protocol):
    def now(self) -> datetime:
        """Local time of the hotline (aware)."""

    def is_workday(self, day: date) -> bool: ...

    def known_caller(self, caller: str | None) -> bool: ...

    def incident_mode(self) -> bool:
        """True while supervisors have at least one incident notice switched on."""

    def active_notices(
        self, *, district: str | None, topic: str | None, language: str
    ) -> list[str]: ...

    def kb_answer(self, article: str, language: str) -> str | None: ...

    def ticket_status(self, number: str, language: str) -> str | None: ...

    def can_listen(self) -> bool:
        """True when a spoken answer can be recognised in time (a model and a worker)."""

    def leave_voice_message(
        self, session: Session, *, recording_url: str, recording_sid: str | None, duration: int
    ) -> str:
        """Create the voice-message ticket (idempotent per call and turn); returns its number."""

    def record_result(self, session: Session, result: str) -> None:
        """What the call achieved (a `result` node): a survey answer, no answer, reached."""

    def opt_out(self, session: Session) -> None:
        """Put the citizen's number (session call.caller) on the do-not-call list."""

    def keep_comment(
        self, session: Session, *, recording_url: str, recording_sid: str | None, duration: int
    ) -> None:
        """Keep a spoken comment (a `record` node with `into: comment`) with the call's result."""
