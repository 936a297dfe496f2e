"""Supervisor page: due, in-flight and finished callbacks, satisfaction figures,
the do-not-call list (import, add, remove) and the pause switch."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from accounts.auth import current_actor, role_required
from callbacks import models as m
from callbacks import service
from callbacks.dnc import import_numbers
from callbacks.models import aware
from core.db import get_db, utcnow
from core.limits import UPLOAD, body_limit
from core.privacy import mask_number
from tickets.service import normalize_number

bp = Blueprint("callbacks_pages", __name__, url_prefix="/callbacks", template_folder="templates")

ROWS_PER_LIST = 50
DNC_ROWS = 200
MAX_IMPORT_BYTES = 2 * 1024 * 1024
RESULT_LABELS = {m.SATISFIED: "满意", m.BASICALLY_SATISFIED: "基本满意", m.DISSATISFIED: "不满意"}


def _attempts(s, states, order, limit=ROWS_PER_LIST):
    return s.scalars(
        select(m.CallbackAttempt)
        .options(joinedload(m.CallbackAttempt.request))
        .where(m.CallbackAttempt.state.in_(states))
        .order_by(*order)
        .limit(limit)
    ).all()


def _figures(s) -> dict:
    counts = service.satisfaction_figures(s)
    rated = sum(counts.values())
    good = counts.get(m.SATISFIED, 0) + counts.get(m.BASICALLY_SATISFIED, 0)
    outcomes = dict(
        s.execute(
            select(m.CallbackAttempt.outcome, func.count())
            .where(m.CallbackAttempt.state == m.FINISHED)
            .group_by(m.CallbackAttempt.outcome)
        ).all()
    )
    return {
        "counts": [(RESULT_LABELS[k], counts.get(k, 0)) for k in m.RESULTS],
        "rated": rated,
        "rate": round(100 * good / rated, 1) if rated else None,
        "outcomes": sorted(outcomes.items(), key=lambda kv: -kv[1]),
    }


@bp.get("/")
@role_required("supervisor")
def index():
    with get_db().session() as s:
        context = {
            "paused": service.is_paused(s),
            "due": _attempts(
                s, (m.SCHEDULED, m.DUE), (m.CallbackAttempt.due_at, m.CallbackAttempt.id)
            ),
            "in_flight": _attempts(s, m.IN_FLIGHT_STATES, (m.CallbackAttempt.claimed_at,)),
            "finished": _attempts(s, (m.FINISHED,), (m.CallbackAttempt.ended_at.desc(),)),
            "flagged": s.scalars(
                select(m.CallbackRequest)
                .where(
                    m.CallbackRequest.result == m.DISSATISFIED, m.CallbackRequest.counts.is_(True)
                )
                .order_by(m.CallbackRequest.finished_at.desc())
                .limit(ROWS_PER_LIST)
            ).all(),
            "figures": _figures(s),
            "dnc": s.scalars(
                select(m.DoNotCall).order_by(m.DoNotCall.created_at.desc()).limit(DNC_ROWS)
            ).all(),
            "dnc_total": s.scalar(select(func.count()).select_from(m.DoNotCall)),
            "lease": s.get(m.CallbackControl, "scheduler"),
        }
    return render_template(
        "callbacks/index.html",
        mask=mask_number,
        aware=aware,
        results=RESULT_LABELS,
        zone=ZoneInfo(current_app.config["HOTLINE_TIMEZONE"]),
        now=utcnow(),
        **context,
    )


@bp.post("/pause")
@role_required("supervisor")
def pause():
    paused = request.form.get("paused") == "1"
    with get_db().session() as s:
        service.set_paused(s, paused, actor=current_actor())
    flash(
        "已暂停全部外呼 All outgoing calls paused"
        if paused
        else "已恢复外呼 Outgoing calls resumed",
        "warning" if paused else "success",
    )
    return redirect(url_for(".index"))


@bp.post("/dnc")
@role_required("supervisor")
def dnc_add():
    number = normalize_number(request.form.get("number"))
    if number is None:
        flash("号码无效 Not a valid number", "error")
        return redirect(url_for(".index") + "#dnc")
    with get_db().session() as s:
        added = service.add_do_not_call(
            s,
            number,
            source="manual",
            actor=current_actor(),
            note=(request.form.get("note") or "").strip()[:200] or None,
        )
    flash(
        "已加入免打扰名单 Added" if added else "号码已在名单中 Already listed",
        "success" if added else "warning",
    )
    return redirect(url_for(".index") + "#dnc")


@bp.post("/dnc/<int:entry_id>/delete")
@role_required("supervisor")
def dnc_remove(entry_id: int):
    with get_db().session() as s:
        entry = s.get(m.DoNotCall, entry_id)
        if entry is not None:
            service.remove_do_not_call(s, entry.number)
    flash("已移出免打扰名单 Removed", "success")
    return redirect(url_for(".index") + "#dnc")


@bp.post("/dnc/import")
@body_limit(UPLOAD)
@role_required("supervisor")
def dnc_import():
    upload = request.files.get("file")
    raw = upload.read(MAX_IMPORT_BYTES + 1) if upload and upload.filename else b""
    if len(raw) > MAX_IMPORT_BYTES:
        flash("文件过大 File too large (2 MB max)", "error")
        return redirect(url_for(".index") + "#dnc")
    text = raw.decode("utf-8-sig", "replace") + "\n" + request.form.get("numbers", "")
    with get_db().session() as s:
        added, bad = import_numbers(s, text, actor=current_actor())
    flash(
        f"导入 {added} 个号码 Imported {added}"
        + (f"；{len(bad)} 行无法识别 not understood: {', '.join(bad[:5])}" if bad else ""),
        "warning" if bad else "success",
    )
    return redirect(url_for(".index") + "#dnc")
