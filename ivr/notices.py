"""Incident notices: supervisors switch them on for a surge; callers hear them after the greeting.

A small function API (for the supervisor pages) and `flask notices add|list|expire`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.db import get_db, utcnow
from ivr.models import Notice

# A notice is read aloud to every caller: keep it short, and never on forever.
NOTICE_MAX_CHARS = 300
NOTICE_MAX_DURATION = timedelta(days=30)
NOTICE_DEFAULT_DURATION = timedelta(hours=24)


class NoticeError(ValueError):
    """A notice that cannot be saved as given."""


def add_notice(
    s: Session,
    *,
    text: str,
    expires_at: datetime | None = None,
    district: str | None = None,
    topic: str | None = None,
    language: str = "zh-CN",
    created_by: str | None = None,
    now: datetime | None = None,
) -> Notice:
    """Switch on a notice until `expires_at` (default: 24 hours from now)."""
    now = now or utcnow()
    text = (text or "").strip()
    if not text:
        raise NoticeError("a notice needs text")
    if len(text) > NOTICE_MAX_CHARS:
        raise NoticeError(
            f"a notice is read to every caller: at most {NOTICE_MAX_CHARS} "
            f"characters (got {len(text)})"
        )
    expires_at = expires_at or now + NOTICE_DEFAULT_DURATION
    if expires_at.tzinfo is None:
        raise NoticeError("expires_at must be timezone-aware")
    if expires_at <= now:
        raise NoticeError("expires_at is in the past")
    if expires_at - now > NOTICE_MAX_DURATION:
        raise NoticeError(f"a notice may run at most {NOTICE_MAX_DURATION.days} days")
    notice = Notice(
        text=text,
        expires_at=expires_at,
        district=district or None,
        topic=topic or None,
        language=language,
        created_by=created_by,
        active=True,
        created_at=now,
    )
    s.add(notice)
    s.flush()
    return notice


def active_notices(
    s: Session,
    *,
    now: datetime | None = None,
    district: str | None = None,
    topic: str | None = None,
    language: str | None = None,
) -> list[Notice]:
    """Notices switched on and not expired; a district/topic filter keeps general ones too."""
    q = select(Notice).where(Notice.active.is_(True), Notice.expires_at > (now or utcnow()))
    if district:
        q = q.where(or_(Notice.district.is_(None), Notice.district == district))
    if topic:
        q = q.where(or_(Notice.topic.is_(None), Notice.topic == topic))
    if language:
        q = q.where(Notice.language == language)
    return list(s.scalars(q.order_by(Notice.created_at, Notice.id)))


def list_notices(
    s: Session, *, include_expired: bool = False, now: datetime | None = None
) -> list[Notice]:
    if not include_expired:
        return active_notices(s, now=now)
    return list(s.scalars(select(Notice).order_by(Notice.created_at.desc(), Notice.id.desc())))


def expire_notice(s: Session, notice_id: int, *, now: datetime | None = None) -> Notice:
    """Switch a notice off now."""
    notice = s.get(Notice, notice_id)
    if notice is None:
        raise NoticeError(f"no notice {notice_id}")
    now = now or utcnow()
    notice.active = False
    if _aware(notice.expires_at) > now:
        notice.expires_at = now
    return notice


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone=True columns; they are UTC.
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


notices_cli = AppGroup("notices", help="Incident notices played after the greeting.")


@notices_cli.command("add")
@click.argument("text")
@click.option(
    "--hours",
    type=float,
    default=NOTICE_DEFAULT_DURATION.total_seconds() / 3600,
    show_default=True,
    help="How long the notice stays on.",
)
@click.option("--district", default=None)
@click.option("--topic", default=None)
@click.option("--language", default="zh-CN", show_default=True)
def add_cmd(text, hours, district, topic, language):
    """Switch on a notice."""
    with get_db(current_app).session() as s:
        try:
            n = add_notice(
                s,
                text=text,
                expires_at=utcnow() + timedelta(hours=hours),
                district=district,
                topic=topic,
                language=language,
                created_by="cli",
            )
        except NoticeError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"notice {n.id} on until {n.expires_at.isoformat(timespec='minutes')}")


@notices_cli.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include expired notices.")
def list_cmd(show_all):
    """List notices (active ones unless --all)."""
    with get_db(current_app).session() as s:
        for n in list_notices(s, include_expired=show_all):
            scope = "/".join(x for x in (n.district, n.topic) if x) or "all"
            state = "on" if n.active and _aware(n.expires_at) > utcnow() else "off"
            click.echo(
                f"{n.id}\t{state}\t{_aware(n.expires_at).isoformat(timespec='minutes')}"
                f"\t{scope}\t{n.text}"
            )


@notices_cli.command("expire")
@click.argument("notice_id", type=int)
def expire_cmd(notice_id):
    """Switch a notice off now."""
    with get_db(current_app).session() as s:
        try:
            expire_notice(s, notice_id)
        except NoticeError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"notice {notice_id} off")
