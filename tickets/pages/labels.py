"""Display names for codes (status, channel, topic…) and Jinja filters for the pages."""

from __future__ import annotations

from datetime import date

from flask import current_app, g
from sqlalchemy import select

from core.db import get_db
from core.privacy import mask_number
from tickets.disclosure import shown_number
from tickets.models import CHANNELS, DEMAND_TYPES, SATISFACTION_RESULTS, STATUSES, Department, Topic
from tickets.seed import districts as seeded

ACTIONS = {
    "created": "受理 created",
    "dispatched": "转办 dispatched",
    "started": "开始办理 started",
    "resolved": "办结 resolved",
    "closed": "关闭 closed",
    "reopened": "重新办理 reopened",
    "survey": "回访 survey",
    "survey_reopened": "回访不满意 survey: not satisfied",
    "updated": "修改 updated",
    "transcribed": "转写 transcribed",
    "classified": "自动分类 classified",
    "media_purged": "录音删除 media purged",
    "recording_played": "播放录音 recording played",
}


def topics() -> dict[str, str]:
    if "topic_names" not in g:
        with get_db().session() as s:
            g.topic_names = {
                t.code: t.name
                for t in s.scalars(
                    select(Topic).where(Topic.active.is_(True)).order_by(Topic.sort_order)
                )
            }
    return g.topic_names


def departments() -> dict[int, Department]:
    if "departments" not in g:
        with get_db().session() as s:
            g.departments = {
                d.id: d
                for d in s.scalars(
                    select(Department).where(Department.active.is_(True)).order_by(Department.id)
                )
            }
    return g.departments


def districts() -> list[str]:
    try:
        return seeded()
    except Exception:  # a broken taxonomy file must not take the pages down
        current_app.logger.exception("cannot read districts from the taxonomy")
        return []


def register_filters(app) -> None:
    app.jinja_env.filters.update(
        status_label=lambda c: STATUSES.get(c, c or ""),
        channel_label=lambda c: CHANNELS.get(c, c or ""),
        demand_label=lambda c: DEMAND_TYPES.get(c, c or "—") if c else "—",
        topic_label=lambda c: topics().get(c, c) if c else "—",
        satisfaction_label=lambda c: SATISFACTION_RESULTS.get(c, c) if c else "—",
        action_label=lambda c: ACTIONS.get(c, c),
        department_label=lambda i: departments()[i].name if i in departments() else "—",
        department_code_label=lambda code: next(
            (d.name for d in departments().values() if d.code == code), code or "—"
        ),
        masked=mask_number,
        shown_number=shown_number,
        # 20261126000123 -> "20261126 000123": the date, then the day's sequence.
        spaced=lambda n: f"{n[:8]} {n[8:]}" if n and len(n) > 8 else (n or ""),
        isodate=lambda d: d.isoformat() if isinstance(d, date) else "",
    )
