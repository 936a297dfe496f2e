"""Service report per day: 接通率 connection rate, ASA, abandonment, answered within 15 s,
and per agent: calls and handle time (talk + wrap-up). HTML and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, current_app, render_template, request

from accounts import role_required
from agents import stats
from agents.pages import bp
from core.calendar import local_now
from core.db import get_db

MAX_DAYS = 62
DEFAULT_DAYS = 7
DAY_COLUMNS = (
    "offered",
    "answered",
    "abandoned",
    "overflowed",
    "connection_rate",
    "answered_within_15s_rate",
    "abandonment_rate",
    "asa_seconds",
    "average_talk_seconds",
)
AGENT_COLUMNS = (
    "calls",
    "talk_seconds",
    "wrap_up_seconds",
    "handle_seconds",
    "average_handle_seconds",
)


def _period() -> tuple[date, date]:
    today = local_now(current_app.config["HOTLINE_TIMEZONE"]).date()

    def parse(name: str, default: date) -> date:
        try:
            return date.fromisoformat(request.args.get(name, ""))
        except ValueError:
            return default

    end = parse("to", today)
    start = parse("from", end - timedelta(days=DEFAULT_DAYS - 1))
    start = max(start, end - timedelta(days=MAX_DAYS - 1))
    return min(start, end), end


def rows(s, start: date, end: date, tz: str) -> tuple[list[dict], list[dict]]:
    days, agents = [], []
    day = start
    while day <= end:
        days.append({"date": day.isoformat(), **stats.day_figures(s, day, tz).as_dict()})
        agents += [{"date": day.isoformat(), **row} for row in stats.per_agent(s, day, tz)]
        day += timedelta(days=1)
    return days, agents


@bp.get("/agents/report/")
@role_required("supervisor")
def report():
    start, end = _period()
    with get_db().session() as s:
        days, agents = rows(s, start, end, current_app.config["HOTLINE_TIMEZONE"])
    return render_template(
        "agents/report.html",
        start=start,
        end=end,
        days=days,
        agents=agents,
        day_columns=DAY_COLUMNS,
        agent_columns=AGENT_COLUMNS,
    )


@bp.get("/agents/report.csv")
@role_required("supervisor")
def report_csv():
    start, end = _period()
    with get_db().session() as s:
        days, agents = rows(s, start, end, current_app.config["HOTLINE_TIMEZONE"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "date", "agent", *DAY_COLUMNS, *AGENT_COLUMNS])
    for d in days:
        writer.writerow(["day", d["date"], "", *(d[c] for c in DAY_COLUMNS), *[""] * 5])
    for a in agents:
        writer.writerow(
            [
                "agent",
                a["date"],
                a["agent"],
                *[""] * len(DAY_COLUMNS),
                *(a[c] for c in AGENT_COLUMNS),
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),  # BOM: Excel opens the Chinese headers as UTF-8
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename=agents-{start}-{end}.csv",
        },
    )
