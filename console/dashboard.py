"""Supervisors' dashboard: charts of a period, surge alerts, and the phone-line notices.

Tickets' figures and surges beside ivr's incident notices: a page combining packages.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from accounts import current_actor, role_required
from core.db import get_db, utcnow
from ivr import notices
from tickets import queries, reports, surges
from tickets.models import CHANNELS, DEMAND_TYPES, SATISFACTION_RESULTS
from tickets.pages import access, charts, period
from tickets.service import local_today

bp = Blueprint("console", __name__)

NOTICE_HOURS = (2, 6, 12, 24, 72)
TICKETS_SHOWN_PER_ALERT = 12


def _labelled(counts: dict[str, int], names: dict[str, str]) -> list[tuple[str, int]]:
    return [
        (names.get(code, "未分类" if code == "unknown" else code), n) for code, n in counts.items()
    ]


@bp.get("/dashboard/")
@role_required(*access.SUPERVISE)
def dashboard():
    today = local_today()
    chosen = period.from_args(request.args, today, period.Period(today - timedelta(days=29), today))
    with get_db().session() as s:
        figures = reports.dashboard(s, chosen.start, chosen.end, today=today)
        overdue = queries.overdue(s, today=today, per_page=1).total
        alerts = surges.detect(s, surges.Thresholds.from_config(current_app.config))
        active = notices.active_notices(s)
    sat = figures["satisfaction"]
    graphs = {
        "volume": charts.columns(
            [(d[5:], n) for d, n in figures["volume_per_day"]], title="每日受理量 Volume per day"
        ),
        "channels": charts.share_bar(
            _labelled(figures["channels"], CHANNELS), title="渠道 Channels"
        ),
        "demand": charts.share_bar(
            _labelled(figures["demand_types"], DEMAND_TYPES), title="诉求类型 Demand types"
        ),
        "topics": charts.hbars(
            [
                ("未分类" if t["topic"] == "unknown" else t["name"], t["count"])
                for t in figures["top_topics"]
            ],
            title="热点问题 Top topics",
            percent_of=figures["total"] or None,
        ),
        "satisfaction": charts.hbars(
            _labelled(sat["counts"], SATISFACTION_RESULTS),
            title="满意度 Satisfaction",
            percent_of=sat["rated"] or None,
        ),
    }
    return render_template(
        "tickets/dashboard.html",
        p=chosen,
        figures=figures,
        graphs=graphs,
        overdue=overdue,
        alerts=alerts,
        notices=active,
        notice_hours=NOTICE_HOURS,
        presets=period.presets(today),
        shown=TICKETS_SHOWN_PER_ALERT,
        window_start=(today - timedelta(days=1)).isoformat(),
    )


@bp.post("/dashboard/notices")
@role_required(*access.SUPERVISE)
def publish_notice():
    form = request.form
    try:
        hours = int(form.get("hours", 24))
    except ValueError:
        hours = 24
    hours = hours if hours in NOTICE_HOURS else 24
    try:
        with get_db().session() as s:
            notices.add_notice(
                s,
                text=form.get("text", ""),
                expires_at=utcnow() + timedelta(hours=hours),
                district=form.get("district") or None,
                topic=form.get("topic") or None,
                created_by=current_actor(),
            )
    except notices.NoticeError as exc:
        flash(f"公告未发布 Notice not published: {exc}", "error")
    else:
        current_app.logger.info("notice published by %s for %sh", current_actor(), hours)
        flash(f"语音公告已发布，{hours} 小时后自动失效 Notice published for {hours} h", "success")
    return redirect(url_for("console.dashboard"))


@bp.post("/dashboard/notices/<int:notice_id>/expire")
@role_required(*access.SUPERVISE)
def expire_notice(notice_id: int):
    try:
        with get_db().session() as s:
            notices.expire_notice(s, notice_id)
    except notices.NoticeError as exc:
        flash(str(exc), "error")
    else:
        flash("公告已停止 Notice switched off", "success")
    return redirect(url_for("console.dashboard"))
