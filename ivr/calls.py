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

from sqlalchemy import func, literal, select, text, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm.attributes import flag_modified

from core.db import SQLITE_BUSY_TIMEOUT_MS, utcnow
from ivr.flows.session import Session
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
def write_turn(db, budget: float = TURN_BUDGET_SECONDS, *, durable: bool = True):
    """A transaction for one webhook turn that waits for the database at most `budget` s.

    `durable=False` (PostgreSQL) commits without waiting for the WAL flush, for turns
    that only move the caller through the flow: a server crash in the next fraction
    of a second loses at most this step, and Twilio's next request then gets the
    previous answer again. A turn that turns out to create a ticket calls
    `keep_durable`. Without this, every menu key is one fsync and the line tops out
    at the disk's fsync rate.

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
                settings = {"lock_timeout": str(_remaining_ms(deadline))}
                if not durable:
                    settings["synchronous_commit"] = "off"
                _set_local(s, settings)
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
def _sqlite_busy_timeout(s: DbSession, ms: int):
    """SQLite's busy handler waits at most `ms` in this transaction, then the pool's default."""
    raw = s.connection().connection.dbapi_connection
    raw.execute(f"PRAGMA busy_timeout={ms}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _set_local(s: DbSession, settings: dict[str, str]) -> None:
    """PostgreSQL settings for this transaction only, in one statement (one round trip)."""
    calls = ", ".join(f"set_config(:k{i}, :v{i}, true)" for i in range(len(settings)))
    params = {}
    for i, (name, value) in enumerate(settings.items()):
        params[f"k{i}"], params[f"v{i}"] = name, value
    s.execute(text(f"SELECT {calls}"), params)


def keep_durable(s: DbSession) -> None:
    """This turn's commit waits for the WAL flush after all (it created a ticket or a job)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SET LOCAL synchronous_commit TO ON"))


def lock_session(s: DbSession, call_sid: str) -> CallSession | None:
    """The call's session row, locked for this transaction (None if the call is unknown)."""
    if s.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: an UPDATE takes the database write lock, and returns the row.
        return s.scalar(
            update(CallSession)
            .where(CallSession.call_sid == call_sid)
            .values(step=CallSession.step)
            .returning(CallSession)
            .execution_options(populate_existing=True, synchronize_session=False)
        )
    return s.scalar(
        select(CallSession)
        .where(CallSession.call_sid == call_sid)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def get_call(s: DbSession, call_sid: str) -> Call | None:
    return s.scalar(select(Call).where(Call.call_sid == call_sid))


def open_call(
    s: DbSession,
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


def load_session(cs: CallSession) -> Session:
    """The typed session stored in a row (SessionVersionError if another release wrote it)."""
    return Session.from_json(cs.data)


def mirrored(session: Session) -> tuple:
    """What the call record shows of a session: a turn that leaves it alone skips the update."""
    return (
        len(session.path),
        session.outcome,
        session.needs_return_call,
        session.vars.get("ticket_number"),
    )


def save_turn(
    s: DbSession,
    cs: CallSession,
    session: Session,
    response: str,
    now: datetime | None = None,
    before: tuple | None = None,
) -> None:
    """Store the session and the events answered for this step, and mirror the call record
    (only when the turn changed what the record shows, `before` being `mirrored()` of the
    session before the turn: most menu turns do not)."""
    cs.data = session.to_json()
    flag_modified(cs, "data")
    cs.last_response = response
    cs.updated_at = now or utcnow()
    if before is None or before != mirrored(session):
        sync_call(s, session, now=now)


def sync_call(
    s: DbSession,
    session: Session,
    *,
    status: str | None = None,
    ended: bool = False,
    now: datetime | None = None,
) -> None:
    """Copy what the session knows (path, outcome, return call) onto the call record.

    `status` is the provider's call status, `ended` whether it says the call is over.
    One UPDATE, no read first: it runs on most turns that move through the flow."""
    values: dict = {
        "nodes": list(session.path),
        "outcome": session.outcome,
        "needs_return_call": session.needs_return_call,
    }
    if session.vars.get("ticket_number"):
        values["ticket_number"] = session.vars["ticket_number"]
    if status:
        values["status"] = status
    if session.ended and ended:
        stamp = literal(now or utcnow(), type_=Call.ended_at.type)
        values["ended_at"] = func.coalesce(Call.ended_at, stamp)
    s.execute(
        update(Call)
        .where(Call.call_sid == session.call.sid)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_error(s: DbSession, call_sid: str) -> None:
    """Record that a call was handed to the operator after an error.

    A caller who left a voice message may not have heard its number: a return call.
    Works on the stored JSON as it is: the error may be that the session cannot be read."""
    call = get_call(s, call_sid)
    return_call = call is not None and call.ticket_number is not None
    if call is not None:
        call.outcome = "error_transfer"
        call.needs_return_call = return_call
    cs = s.get(CallSession, call_sid)
    if cs is not None and isinstance(cs.data, dict):
        cs.data = {
            **cs.data,
            "ended": True,
            "wait": None,
            "outcome": "error_transfer",
            "needs_return_call": return_call,
        }
        flag_modified(cs, "data")
