"""Ticket numbers: local date + 6-digit daily sequence, e.g. 20261126000123.

The sequence comes from one counter row per day, incremented with a single
upsert ... RETURNING statement, so two processes creating tickets at the same
moment can never draw the same number (MAX()+1 would). On SQLite the upsert
takes the write lock, which the ticket's transaction holds anyway.

On PostgreSQL the increment commits on its own, in a transaction of one
statement, like a database sequence: the row lock of the day's counter is held
for that statement only. Inside the ticket's transaction, every other ticket
being created meanwhile (a surge of voice messages) would queue behind the whole
webhook turn and its commit. The price is that of sequences: a ticket whose
transaction rolls back leaves a gap in the day's numbers; a number is never
given twice. The increment commits without waiting for the WAL flush: the
ticket's own commit flushes the WAL up to and past it, and a crash before that
loses only a number nobody holds.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tickets.models import NUMBER_LENGTH, TicketCounter

SEQUENCE_DIGITS = 6
MAX_PER_DAY = 10**SEQUENCE_DIGITS - 1


class NumberingError(RuntimeError):
    """The day's sequence is exhausted (one million tickets in a day)."""


def next_sequence(s: Session, day: date) -> int:
    """Atomically take the next sequence value of `day`: in the session's transaction on
    SQLite, in a transaction of its own on PostgreSQL (see the module's notes)."""
    bind = s.get_bind()
    if bind.dialect.name != "postgresql":
        value = s.execute(_increment(sqlite.insert, day)).scalar_one()
    else:
        with bind.engine.connect() as conn:
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            value = conn.execute(_increment(postgresql.insert, day)).scalar_one()
            conn.commit()
    if value > MAX_PER_DAY:
        raise NumberingError(f"ticket sequence for {day} exhausted")
    return value


def _increment(insert, day: date):
    table = TicketCounter.__table__
    return (
        insert(table)
        .values(day=day, value=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"value": table.c.value + 1})
        .returning(table.c.value)
    )


def format_number(day: date, sequence: int) -> str:
    return f"{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def is_valid_number(text: str) -> bool:
    """Shape check before a database lookup (e.g. digits keyed on the phone)."""
    return len(text) == NUMBER_LENGTH and text.isdigit()


def spoken_digits(number: str) -> str:
    """'20261126000123' -> '2 0 2 6 1 1 2 6 0 0 0 1 2 3' so TTS reads digit by digit."""
    return " ".join(number)
