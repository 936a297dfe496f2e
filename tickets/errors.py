"""Exceptions of the tickets package; the API turns them into 400/404/409 answers."""

from __future__ import annotations


class TicketError(Exception):
    """Base of every tickets error."""


class TicketNotFound(TicketError, LookupError):
    def __init__(self, number: str):
        super().__init__(f"no ticket {number}")
        self.number = number


class ValidationError(TicketError, ValueError):
    """Bad input, with a message per field: {"channel": "must be one of ..."}."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class TransitionError(TicketError):
    """A life-cycle step not allowed from the ticket's status (e.g. resolve a closed ticket)."""

    def __init__(self, number: str, from_status: str, to_status: str):
        super().__init__(f"ticket {number}: cannot go from {from_status} to {to_status}")
        self.from_status = from_status
        self.to_status = to_status
