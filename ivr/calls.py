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
import time
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core.db import SQLITE_BUSY_TIMEOUT_MS, utcnow
from ivr.models import Call, CallSession

# How long one webhook turn may wait for the database in all (locks, busy database):
# Twilio gives up on a webhook at 15 s, and the apology still has to be rendered.
TURN_BUDGET_SECONDS = 8.0
# Marking a failed call after the budget is spent: a best effort, never a second wait.
ERROR_MARK_SECONDS = 1.0
# Polling a file lock held by another process: first and longest pause.
_FLOCK_PAUSES = (0.001, 0.02)
_thread_lock = threading.Lock()


class TurnTimeout(TimeoutError):
    """A turn could not get the database within its budget."""


@contextlib.contextmanager
def write_turn(db, budget: float = TURN_BUDGET_SECONDS):
    """A transaction for one webhook turn that waits for the database at most `budget` s.

    On SQLite, writers queue on a thread lock and a file lock first: SQLite's own
    busy handler polls with sleeps of up to 100 ms, which under concurrent calls
    turns a 5 ms step into hundreds. Every wait (thread lock, file lock, SQLite's
    busy handler, PostgreSQL's row locks) counts against the same deadline, so a
    turn stuck behind another process never makes the calls queued behind it late.
    """
    deadline = time.monotonic() + budget
    if db.dialect != "sqlite" or not db.engine.url.database:
        with db.session() as s:
            if db.dialect == "postgresql":
                s.execute(text(f"SET LOCAL lock_timeout = {_remaining_ms(deadline)}"))
            yield s
        return
    if not _thread_lock.acquire(timeout=budget):
        raise TurnTimeout(f"another turn of this process held the database for {budget:g} s")
    try:
        with open(db.engine.url.database + ".ivr-lock", "a") as handle:
            _flock(handle, deadline)  # released when the file is closed
            with db.session() as s, _sqlite_busy_timeout(s, _remaining_ms(deadline)):
                yield s
    finally:
        _thread_lock.release()


def _remaining_ms(deadline: float) -> int:
    return max(1, int((deadline - time.monotonic()) * 1000))


def _flock(handle, deadline: float) -> None:
    """Lock the file before the deadline (another process's turn holds it meanwhile)."""
    pause, longest = _FLOCK_PAUSES
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() + pause > deadline:
                raise TurnTimeout(
                    "another process held the database past the turn budget"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, longest)


@contextlib.contextmanager
def _sqlite_busy_timeout(s: Session, ms: int):
    """SQLite's busy handler waits at most `ms` in this transaction, then the pool's default."""
    raw = s.connection().connection.dbapi_connection
    raw.execute(f"PRAGMA busy_timeout={ms}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


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
    """Record that a call was handed to the operator after an error.

    A caller who left a voice message may not have heard its number: a return call."""
    call = get_call(s, call_sid)
    return_call = call is not None and call.ticket_number is not None
    if call is not None:
        call.outcome = "error_transfer"
        call.needs_return_call = return_call
    cs = s.get(CallSession, call_sid)
    if cs is not None:
        cs.data = {
            **cs.data,
            "ended": True,
            "wait": None,
            "outcome": "error_transfer",
            "needs_return_call": return_call,
        }
        flag_modified(cs, "data")
