"""Ticket numbers: local date + 6-digit daily sequence, e.g. 20261126000123.

The sequence comes from one counter row per day, incremented with a single
upsert ... RETURNING statement, so two processes creating tickets at the same
moment can never draw the same number (MAX()+1 would). On SQLite the upsert
takes the write lock; on PostgreSQL the row lock serialises the increment.
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
    """Atomically take the next sequence value of `day` in the session's transaction."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketCounter.__table__
    stmt = (
        insert(table)
        .values(day=day, value=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"value": table.c.value + 1})
        .returning(table.c.value)
    )
    value = s.execute(stmt).scalar_one()
    if value > MAX_PER_DAY:
        raise NumberingError(f"ticket sequence for {day} exhausted")
    return value


def format_number(day: date, sequence: int) -> str:
    return f"{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def is_valid_number(text: str) -> bool:
    """Shape check before a database lookup (e.g. digits keyed on the phone)."""
    return len(text) == NUMBER_LENGTH and text.isdigit()


def spoken_digits(number: str) -> str:
    """'20261126000123' -> '2 0 2 6 1 1 2 6 0 0 0 1 2 3' so TTS reads digit by digit."""
    return " ".join(number)
