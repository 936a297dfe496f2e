"""Classification rules (/content/rules/) and routing table (/content/routing/) editors.

A test box shows the suggestion and the scores for any text; each save is a new version
(tickets.rulebook) with its accuracy on the labelled request set shown beside the previous
version's, and a warning when it drops. Supervisors only; forms carry the CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from accounts import current_actor, role_required
from content import rules_forms
from core.db import get_db
from tickets import classify, rulebook
from tickets.errors import ValidationError
from tickets.models import DEMAND_TYPES, Department, Topic
from tickets.ruleset_source import ROUTING, RULES

bp = Blueprint("rules_editor", __name__, url_prefix="/content")
EDIT = ("supervisor",)
MAX_TEST_TEXT = 500
FIELD_LABELS = {"demand_type": "类型 type", "topic": "分类 topic", "department": "部门 department"}


def _names(s):
    topics = {t.code: t.name for t in s.scalars(select(Topic).order_by(Topic.sort_order))}
    departments = {d.code: d.name for d in s.scalars(select(Department).order_by(Department.code))}
    return topics, departments


def _versions(s, kind: str):
    rulebook.import_shipped(s)
    return rulebook.history(s, kind)


def _test_box():
    text = (request.args.get("text") or "").strip()[:MAX_TEST_TEXT]
    district = request.args.get("district") or None
    if not text:
        return text, district, None
    suggestion = classify.classify(text, district)
    scores = {
        field: sorted(((n, v) for n, v in table.items() if v > 0), key=lambda p: -p[1])
        for field, table in suggestion.scores.items()
    }
    return text, district, (suggestion, scores)


def _flash_saved(saved: rulebook.Saved) -> None:
    acc = saved.new.accuracy or {}
    before = (saved.previous.accuracy or {}) if saved.previous else {}
    parts = [
        f"{FIELD_LABELS[f]} {acc[f]:.1f}%"
        + (f"（之前 was {before[f]:.1f}%）" if f in before else "")
        for f in rulebook.FIELDS
        if f in acc
    ]
    flash(
        f"已保存 saved version {saved.new.version}. 准确率 accuracy: " + "；".join(parts), "success"
    )
    for field, (old, new) in saved.drops.items():
        flash(
            f"准确率下降 Accuracy dropped: {FIELD_LABELS[field]} {old:.1f}% → {new:.1f}% "
            f"on {acc.get('n')} labelled requests",
            "warning",
        )


def _with_changes(kind: str, versions: list) -> list[tuple]:
    """Each version with what it changed from the one before it."""
    out = []
    for i, version in enumerate(versions):
        before = versions[i + 1].data if i + 1 < len(versions) else None
        out.append((version, rulebook.changes(kind, before, version.data) if before else []))
    return out


def _render(template: str, kind: str, s, status: int = 200, errors=None, **extra):
    versions = _versions(s, kind)
    topics, departments = _names(s)
    text, district, tested = _test_box()
    html = render_template(
        template,
        current=versions[0],
        previous=versions[1] if len(versions) > 1 else None,
        versions=versions,
        history=_with_changes(kind, versions),
        kind=kind,
        topics=topics,
        departments=departments,
        demand_types=DEMAND_TYPES,
        text=text,
        district=district,
        tested=tested,
        errors=errors or {},
        fields=FIELD_LABELS,
        forms=rules_forms,
        **extra,
    )
    return html, status


@bp.get("/rules/")
@role_required(*EDIT)
def rules_page():
    with get_db().session() as s:
        return _render("content/rules.html", RULES, s)


@bp.post("/rules/")
@role_required(*EDIT)
def save_rules():
    with get_db().session() as s:
        current = rulebook.current(s, RULES) or _versions(s, RULES)[0]
        topics, _ = _names(s)
        topic_codes = list(dict.fromkeys([*current.data["topics"], *topics]))
        topic_codes.remove("default")
        try:
            data = rules_forms.rules_from_form(request.form, list(DEMAND_TYPES), topic_codes)
            saved = rulebook.save(s, RULES, data, author=current_actor())
        except ValidationError as exc:
            s.rollback()
            return _render("content/rules.html", RULES, s, 400, exc.errors)
        _flash_saved(saved)
    return redirect(url_for(".rules_page"))


@bp.get("/routing/")
@role_required(*EDIT)
def routing_page():
    with get_db().session() as s:
        return _render("content/routing.html", ROUTING, s)


@bp.post("/routing/")
@role_required(*EDIT)
def save_routing():
    with get_db().session() as s:
        topics, departments = _names(s)
        try:
            data = rules_forms.routing_from_form(request.form, list(topics), set(departments))
            saved = rulebook.save(s, ROUTING, data, author=current_actor())
        except ValidationError as exc:
            s.rollback()
            return _render("content/routing.html", ROUTING, s, 400, exc.errors)
        _flash_saved(saved)
    return redirect(url_for(".routing_page"))


def _restore(kind: str, version: int):
    with get_db().session() as s:
        try:
            saved = rulebook.restore(s, kind, version, author=current_actor())
        except ValidationError:
            abort(404)
        _flash_saved(saved)
    return redirect(url_for(".rules_page" if kind == RULES else ".routing_page"))


@bp.post("/rules/versions/<int:version>/restore")
@role_required(*EDIT)
def restore_rules(version: int):
    return _restore(RULES, version)


@bp.post("/routing/versions/<int:version>/restore")
@role_required(*EDIT)
def restore_routing(version: int):
    return _restore(ROUTING, version)
