"""The supervisor's planning page and its CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, current_app, render_template, request

from accounts import role_required
from core.db import get_db
from planning import service
from planning.chart import Point, forecast_chart
from planning.forecast import ForecastError
from planning.staffing import PlanError
from tickets.service import local_today

bp = Blueprint("planning", __name__, url_prefix="/planning")
SUPERVISE = ("supervisor",)
ACTUAL_DAYS = 28  # days of actual calls drawn before the forecast


def _days_arg() -> int:
    try:
        return min(max(int(request.args.get("days", 14)), 1), 62)
    except ValueError:
        return 14


def _build(days: int):
    settings = service.Settings.from_config(current_app.config)
    first = local_today() + timedelta(days=1)
    with get_db().session() as s:
        try:
            plan = service.build(s, settings, first, days)
        except (ForecastError, PlanError) as exc:
            return None, str(exc), settings
    return (plan, plan.actual_daily), None, settings


@bp.get("/")
@role_required(*SUPERVISE)
def index():
    days = _days_arg()
    built, error, settings = _build(days)
    if error:
        return render_template("planning/index.html", error=error, days=days)
    plan, actual = built
    first = plan.first
    # Today is still under way: its calls so far are no day's total, so it is left blank.
    today = first - timedelta(days=1)
    points = [
        Point(d.strftime("%m-%d"), actual=actual.get(d, 0) if d < today else None)
        for d in (first - timedelta(days=ACTUAL_DAYS - i) for i in range(ACTUAL_DAYS))
    ]
    review = {r.day: r for r in plan.review}
    for i, p in enumerate(points):
        d = first - timedelta(days=ACTUAL_DAYS - i)
        if d in review:
            points[i] = Point(p.label, actual=p.actual, forecast=review[d].forecast)
    points += [
        Point(d.day.strftime("%m-%d"), forecast=d.calls, low=d.low, high=d.high)
        for d in plan.forecast.days
    ]
    try:
        chosen = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        chosen = first
    if not first <= chosen < first + timedelta(days=days):
        chosen = first
    day_needs = [
        (n, s)
        for n, s in zip(plan.needs, plan.forecast.slots, strict=True)
        if n.start.date() == chosen
    ]
    day_points = [
        Point(n.start.strftime("%H:%M"), forecast=s.calls, low=s.low, high=s.high)
        for n, s in day_needs
    ]
    per_day = {}
    for n in plan.needs:
        row = per_day.setdefault(
            n.start.date(), {"peak": 0, "needed_hours": 0.0, "rostered_hours": 0.0}
        )
        row["peak"] = max(row["peak"], n.staffing.scheduled)
        row["needed_hours"] += n.staffing.scheduled / 2
        row["rostered_hours"] += plan.rota.coverage.get(n.start, 0) / 2
    return render_template(
        "planning/index.html",
        error=None,
        per_day=per_day,
        days=days,
        plan=plan,
        chosen=chosen,
        day_needs=day_needs,
        rostered=plan.rota.coverage,
        chart=forecast_chart(points, title="来电量：实际与预测 Calls: actual and forecast"),
        day_chart=forecast_chart(day_points, title=f"{chosen} 每半小时预测 Forecast per half hour"),
        # The shifts working on the chosen day, including the night shift from the evening before.
        shifts=[
            s
            for s in plan.rota.shifts
            if s.start < datetime.combine(chosen + timedelta(days=1), time())
            and s.end > datetime.combine(chosen, time())
        ],
        settings=settings,
    )


@bp.get("/forecast.csv")
@role_required(*SUPERVISE)
def export_csv():
    built, error, _ = _build(_days_arg())
    if error:
        return Response(error + "\n", status=409, mimetype="text/plain")
    data = service.as_data(built[0])
    out = io.StringIO()
    fields = [
        "start",
        "calls",
        "low",
        "high",
        "agents",
        "scheduled",
        "rostered",
        "service_level",
        "asa_seconds",
        "occupancy",
    ]
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    writer.writerows(data["slots"])
    return Response(
        "\ufeff" + out.getvalue(),  # BOM: spreadsheet programs then read the Chinese right
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=forecast-{data['first_day']}.csv"},
    )
