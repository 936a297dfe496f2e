"""The departments a user can belong to, asked of the package that owns them.

Accounts sits below tickets, which owns the departments table, and never imports
it: tickets installs its directory (`install(app, directory)`) when it plugs in,
and the users page and `flask users create --department` ask that directory.
"""

from __future__ import annotations

from typing import Protocol

from flask import current_app
from sqlalchemy.orm import Session

EXTENSION = "accounts.departments"


class Directory(Protocol):
    def active(self, s: Session) -> list[tuple[int, str]]:
        """(id, name) of the departments users may be assigned to, in a stable order."""

    def find(self, s: Session, ref: str) -> int | None:
        """The id of the department with this id, code or name, or None."""


def install(app, directory: Directory) -> None:
    app.extensions[EXTENSION] = directory


def directory() -> Directory:
    return current_app.extensions[EXTENSION]
