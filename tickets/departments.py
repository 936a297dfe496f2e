"""Tickets' departments as the accounts package sees them (accounts.departments)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets.models import Department


class DepartmentDirectory:
    def active(self, s: Session) -> list[tuple[int, str]]:
        rows = s.scalars(
            select(Department).where(Department.active.is_(True)).order_by(Department.id)
        )
        return [(d.id, d.name) for d in rows]

    def find(self, s: Session, ref: str) -> int | None:
        if ref.isdigit():
            dept = s.get(Department, int(ref))
        else:
            dept = s.scalar(
                select(Department).where((Department.code == ref) | (Department.name == ref))
            )
        return dept.id if dept is not None else None
