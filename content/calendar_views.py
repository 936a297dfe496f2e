"""The calendar page (/calendar/) and API (/api/calendar): holidays and 调休 workdays per date.

Supervisors write; every signed-in role may read. Entries win over the libraries' data
(core.calendar) and apply at once to opening hours, callbacks, due dates and reports.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from accounts import api_auth_required, current_actor, role_required
from core import calendar, calendar_store
from core.calendar_store import CalendarEntryError
from core.db import get_db

bp = Blueprint("calendar_pages", __name__, url_prefix="/calendar")
api = Blueprint("calendar_api", __name__, url_prefix="/api/calendar")
READ = ("supervisor", "agent", "department")
WRITE = ("supervisor",)
FIRST_YEAR, LAST_YEAR = 2000, 2100
SOURCES = {
    "chinese_calendar": "chinese-calendar 库",
    "holidays": "holidays 库（法定节假日）",
    "weekday": "周一至周五 weekdays",
}


def _year(raw: str | None, default: int) -> int:
    try:
        year = int(raw) if raw else default
    except ValueError:
        abort(400)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        abort(400)
    return year


def day_dict(info: calendar.DayInfo) -> dict:
    return {
        "date": info.day.isoformat(),
        "workday": info.workday,
        "name": info.name,
        "source": info.source,
        "adjusted": info.adjusted,
    }


def year_summary(year: int) -> dict:
    """The year as the API and the page show it."""
    return {
        "year": year,
        "arrangement_known": calendar.arrangement_known(year),
        "days": [day_dict(d) for d in calendar.year_days(year)],
    }


def _store(day: str, kind: str, name: str | None, until: str | None = None) -> list[date]:
    parsed, kind, name = calendar_store.parse_entry(day, kind, name)
    days = calendar_store.parse_range(parsed, until)
    with get_db().session() as s:
        for one in days:
            calendar_store.set_day(s, one, kind, name=name, actor=current_actor())
    calendar_store.source_of_current_app().invalidate()
    return days


def _clear(day: str) -> bool:
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        abort(404)
    with get_db().session() as s:
        removed = calendar_store.clear_day(s, parsed, actor=current_actor())
    calendar_store.source_of_current_app().invalidate()
    return removed


@bp.get("/")
@role_required(*READ)
def year_page():
    today = calendar_store.today()
    year = _year(request.args.get("year"), today.year)
    with get_db().session() as s:
        entries = {e.day: e for e in calendar_store.entries(s, year)}
    return render_template(
        "content/calendar.html",
        year=year,
        days=calendar.year_days(year),
        arrangement_known=calendar.arrangement_known(year),
        entries=entries,
        kinds=calendar.KINDS,
        sources=SOURCES,
    )


@bp.post("/")
@role_required(*WRITE)
def set_day_form():
    form = request.form
    try:
        days = _store(
            form.get("date", ""), form.get("kind", ""), form.get("name"), form.get("until")
        )
    except CalendarEntryError as exc:
        for field, message in exc.errors.items():
            flash(f"{field}: {message}", "error")
        return redirect(url_for(".year_page", year=request.args.get("year")))
    span = f"{days[0]} — {days[-1]}" if len(days) > 1 else f"{days[0]}"
    flash(f"{span} 已保存 saved", "success")
    return redirect(url_for(".year_page", year=days[0].year))


@bp.post("/<day>/delete")
@role_required(*WRITE)
def clear_day_form(day: str):
    removed = _clear(day)
    flash(
        f"{day} " + ("已恢复默认 back to the default" if removed else "没有录入 no entry"),
        "success",
    )
    return redirect(url_for(".year_page", year=day[:4]))


@api.get("/<year>")
@api_auth_required
def get_year(year: str):
    if not year.isdigit() or not FIRST_YEAR <= int(year) <= LAST_YEAR:
        return jsonify(error="invalid input", fields={"year": f"{FIRST_YEAR}-{LAST_YEAR}"}), 400
    return jsonify(year_summary(int(year)))


@api.put("/<day>")
@api_auth_required(roles=WRITE)
def put_day(day: str):
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="invalid input", fields={"body": "expected a JSON object"}), 400
    try:
        [parsed] = _store(day, payload.get("kind", ""), payload.get("name"))
    except CalendarEntryError as exc:
        return jsonify(error="invalid input", fields=exc.errors), 400
    return jsonify(day_dict(calendar.day_info(parsed)))


@api.delete("/<day>")
@api_auth_required(roles=WRITE)
def delete_day(day: str):
    if not _clear(day):
        return jsonify(error=f"no entry for {day}"), 404
    return "", 204
