"""Call records and per-call sessions in the database.

`lock_session` serialises webhooks of one call: it reads the row FOR UPDATE
(PostgreSQL) or first touches it with an UPDATE (SQLite's write lock), so a
Twilio retry racing the original request sees the step the original request
wrote and replays its answer instead of repeating its work.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core.db import utcnow
from ivr.models import Call, CallSession

_thread_lock = threading.Lock()


@contextlib.contextmanager
def write_turn(db):
    """A transaction for one webhook turn.

    On SQLite, writers queue on a thread lock and a file lock first: SQLite's own
    busy handler polls with sleeps of up to 100 ms, which under concurrent calls
    turns a 5 ms step into hundreds. PostgreSQL needs nothing: the row lock waits
    without polling.
    """
    if db.dialect != "sqlite" or not db.engine.url.database:
        with db.session() as s:
            yield s
        return
    with _thread_lock, open(db.engine.url.database + ".ivr-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
        with db.session() as s:
            yield s


def relax_durability(s: Session) -> None:
    """Commit this turn without waiting for the WAL flush (PostgreSQL).

    For turns that only move the caller through the flow: a server crash in the
    next fraction of a second loses at most this step, and Twilio's next request
    then gets the previous answer again. Turns that create a ticket keep the full
    guarantee. Without this, every menu key is one fsync and the line tops out at
    the disk's fsync rate.
    """
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SET LOCAL synchronous_commit TO OFF"))


def lock_session(s: Session, call_sid: str) -> CallSession | None:
    """The call's session row, locked for this transaction (None if the call is unknown)."""
    query = (
        select(CallSession)
        .where(CallSession.call_sid == call_sid)
        .execution_options(populate_existing=True)
    )
    if s.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: an UPDATE takes the database write lock before the read.
        s.execute(
            update(CallSession)
            .where(CallSession.call_sid == call_sid)
            .values(step=CallSession.step)
            .execution_options(synchronize_session=False)
        )
        return s.scalar(query)
    return s.scalar(query.with_for_update())


def get_call(s: Session, call_sid: str) -> Call | None:
    return s.scalar(select(Call).where(Call.call_sid == call_sid))


def open_call(
    s: Session,
    *,
    call_sid: str,
    caller: str | None,
    called: str | None,
    direction: str,
    flow_version: str | None,
    now: datetime | None = None,
) -> Call:
    call = Call(
        call_sid=call_sid,
        caller=caller,
        called=called,
        direction=direction,
        started_at=now or utcnow(),
        nodes=[],
        needs_return_call=False,
        flow_version=flow_version,
    )
    s.add(call)
    return call


def _mirrored(session: dict | None) -> tuple:
    if session is None:
        return ()
    return (
        len(session.get("path", [])),
        session.get("outcome"),
        session.get("needs_return_call"),
        session.get("vars", {}).get("ticket_number"),
    )


def save_turn(
    s: Session,
    cs: CallSession,
    session: dict,
    response: str,
    now: datetime | None = None,
    previous: dict | None = None,
) -> None:
    """Store the session and the TwiML answered for this step, and mirror the call record
    (only when the turn changed what the record shows: most menu turns do not)."""
    cs.data = dict(session)
    flag_modified(cs, "data")  # the engine changed nested values in place
    cs.last_response = response
    cs.updated_at = now or utcnow()
    if previous is None or _mirrored(previous) != _mirrored(session):
        sync_call(s, session, now=now)


def sync_call(
    s: Session,
    session: dict,
    *,
    status: str | None = None,
    ended: bool = False,
    now: datetime | None = None,
) -> Call | None:
    """Copy what the session knows (path, outcome, return call) onto the call record.

    `status` is the provider's call status, `ended` whether it says the call is over."""
    call = get_call(s, session["call"]["sid"])
    if call is None:
        return None
    call.nodes = list(session.get("path", []))
    call.outcome = session.get("outcome")
    call.needs_return_call = bool(session.get("needs_return_call"))
    call.ticket_number = session.get("vars", {}).get("ticket_number") or call.ticket_number
    if status:
        call.status = status
    if session.get("ended") and ended and call.ended_at is None:
        call.ended_at = now or utcnow()
    return call


def mark_error(s: Session, call_sid: str) -> None:
    """Record that a call was handed to the operator after an error."""
    call = get_call(s, call_sid)
    if call is not None:
        call.outcome = "error_transfer"
        call.needs_return_call = False
    cs = s.get(CallSession, call_sid)
    if cs is not None:
        cs.data = {**cs.data, "ended": True, "wait": None, "outcome": "error_transfer"}
        flag_modified(cs, "data")
