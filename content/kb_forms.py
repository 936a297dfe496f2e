"""Validating an article's fields against the live taxonomy (topics, departments)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import kb_edit
from tickets.models import Department, Topic


def choices(s: Session) -> tuple[dict[str, str], dict[str, str]]:
    topics = {t.code: t.name for t in s.scalars(select(Topic).order_by(Topic.sort_order))}
    departments = {d.code: d.name for d in s.scalars(select(Department).order_by(Department.code))}
    return topics, departments


def parse(s: Session, payload: dict, *, partial: bool = False, new_key: str | None = None) -> dict:
    topics, departments = choices(s)
    return kb_edit.parse_fields(
        payload, topics=set(topics), departments=set(departments), partial=partial, new_key=new_key
    )
