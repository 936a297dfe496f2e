"""The engine's Services port backed by the database, tickets, speech and the calendar.

One instance per webhook, bound to that request's transaction: a voice message's
ticket, its transcription job and the session save commit together or not at all.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core import calendar
from ivr import notices, signals
from ivr.flows import session as flow_session
from ivr.models import Call
from speech import availability
from speech.jobs import enqueue_transcription
from tickets.kb_edit import spoken_answer
from tickets.service import create_ticket, find_by_number, spoken_status

log = logging.getLogger(__name__)
# app.extensions key: the Database whose knowledge base and notices calls read, when it is
# not the app's own (the studio's sandbox reads the live line's content, read-only).
CONTENT_DB = "ivr.content_db"


def clock(app) -> datetime:
    """Now, UTC. Tests install a fixed clock as app.extensions['ivr.clock']."""
    fn = app.extensions.get("ivr.clock")
    return fn() if fn else datetime.now(UTC)


class DbServices:
    def __init__(self, s: Session, app, *, call_sid: str, step: int):
        self.s, self.app, self.call_sid, self.step = s, app, call_sid, step

    def now(self) -> datetime:
        return calendar.local_now(self.app.config["HOTLINE_TIMEZONE"], clock(self.app))

    def is_workday(self, day: date) -> bool:
        return calendar.is_workday(day)

    def known_caller(self, caller: str | None) -> bool:
        if not caller:
            return False
        return bool(
            self.s.scalar(
                select(exists().where(Call.caller == caller, Call.call_sid != self.call_sid))
            )
        )

    @contextlib.contextmanager
    def _content(self) -> Iterator[Session]:
        """A session for reading the knowledge base and notices (never written here)."""
        db = self.app.extensions.get(CONTENT_DB)
        if db is None:
            yield self.s
            return
        with db.Session() as s:
            try:
                yield s
            finally:
                s.rollback()

    def incident_mode(self) -> bool:
        with self._content() as s:
            return bool(notices.active_notices(s, now=clock(self.app)))

    def active_notices(self, *, district, topic, language) -> list[str]:
        with self._content() as s:
            found = notices.active_notices(
                s, now=clock(self.app), district=district, topic=topic, language=language
            )
            return [n.text for n in found]

    def kb_answer(self, article: str, language: str) -> str | None:
        with self._content() as s:
            return spoken_answer(s, article, self.now().date())

    def ticket_status(self, number: str, language: str) -> str | None:
        ticket = find_by_number(self.s, number)
        return spoken_status(ticket, language) if ticket is not None else None

    def can_listen(self) -> bool:
        return availability.can_listen(self.s, self.app.config["VOSK_MODEL_PATH"])

    def leave_voice_message(
        self,
        session: flow_session.Session,
        *,
        recording_url: str,
        recording_sid: str | None,
        duration: int,
    ) -> str:
        ticket = create_ticket(
            self.s,
            channel="voice_message",
            caller_number=session.call.caller,
            call_sid=self.call_sid,
            recording_sid=recording_sid,
            recording_url=recording_url,
            idempotency_key=f"{self.call_sid}:{self.step}",
        )
        enqueue_transcription(
            self.s, ticket_id=ticket.id, recording_url=recording_url, recording_sid=recording_sid
        )
        return ticket.number

    def record_result(self, session: flow_session.Session, result: str) -> None:
        signals.call_result.send(
            self.app,
            s=self.s,
            call_sid=self.call_sid,
            result=result,
            heard=session.vars.get("heard"),
        )

    def opt_out(self, session: flow_session.Session) -> None:
        number = session.call.caller
        if number:
            signals.opt_out.send(self.app, s=self.s, call_sid=self.call_sid, number=number)

    def keep_comment(
        self,
        session: flow_session.Session,
        *,
        recording_url: str,
        recording_sid: str | None,
        duration: int,
    ) -> None:
        signals.comment_recorded.send(
            self.app,
            s=self.s,
            call_sid=self.call_sid,
            recording_url=recording_url,
            recording_sid=recording_sid,
        )
