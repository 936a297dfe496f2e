"""The agents' figures in the period report (tickets' seed-shaped report page)."""

from __future__ import annotations

from datetime import date

from flask import current_app

from agents import stats
from core.db import get_db


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def section(start: date, end: date) -> dict:
    with get_db().session() as s:
        fig = stats.period_figures(s, start, end, current_app.config["HOTLINE_TIMEZONE"])
    d = fig.as_dict()
    asa = "—" if d["asa_seconds"] is None else f"{d['asa_seconds']} 秒 s"
    return {
        "title": "人工接听 Calls answered by agents",
        "rows": [
            ("进入人工队列 Calls to agents", d["offered"]),
            ("接通 Answered", d["answered"]),
            ("接通率 Connection rate", _pct(d["connection_rate"])),
            ("15秒内接通 Answered within 15 s", _pct(d["answered_within_15s_rate"])),
            ("平均应答时长 Average speed of answer", asa),
            ("放弃率 Abandonment", _pct(d["abandonment_rate"])),
        ],
        "note": "GB/T 33358-2016: answer within 15 s, 24-hour connection rate at least 95 %. "
        "Per day and per agent: 话务报表 Call report.",
    }


def init_app(app) -> None:
    app.extensions.setdefault("report_sections", []).append(section)
