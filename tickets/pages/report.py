"""Period report page in the shape of the seed's annual report, with CSV and print export."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, render_template, request

from accounts import role_required
from core.db import get_db
from tickets import reports
from tickets.models import CHANNELS, DEMAND_TYPES
from tickets.pages import access, bp, charts, period
from tickets.service import local_today


def _report() -> tuple[period.Period, reports.PeriodReport]:
    """The requested period (default: this year to date) and its report."""
    today = local_today()
    chosen = period.from_args(request.args, today, period.Period(date(today.year, 1, 1), today))
    with get_db().session() as s:
        return chosen, reports.period_report(s, chosen.start, chosen.end)


@bp.get("/report/")
@role_required(*access.SUPERVISE)
def report():
    chosen, rep = _report()
    channels = [(CHANNELS.get(c, c), n) for c, n in rep.channels.items()]
    # (label, percentage, the seed's "…类" suffix): "咨询求助类占 91.85%", "未分类占 1.09%".
    demand = [
        (DEMAND_TYPES.get(d, "未分类" if d == "unknown" else d), pct, d in DEMAND_TYPES)
        for d, pct in rep.demand_type_pct.items()
    ]
    graphs = {
        "channels": charts.hbars(channels, title="渠道 Channels", percent_of=rep.total or None),
        "topics": charts.hbars(
            [(name, n) for _, name, n in rep.top_topics],
            title="前六位问题 Top six topics",
            percent_of=rep.total or None,
        ),
        "demand": charts.share_bar(
            [(name, pct) for name, pct, _ in demand],
            title="诉求类型 Demand types",
            show_values=False,
        ),
    }
    # Other parts of the service add their figures for the period (e.g. calls answered by
    # agents): app.extensions["report_sections"], each fn(start, end) -> {title, rows}.
    sections = [
        fn(chosen.start, chosen.end) for fn in current_app.extensions.get("report_sections", ())
    ]
    # The same edge windows reports.period_report averages over.
    edge_days = max(1, min(reports.EDGE_WINDOW_DAYS, chosen.days // 2 or 1))
    return render_template(
        "tickets/report.html",
        p=chosen,
        rep=rep,
        channels=channels,
        demand=demand,
        graphs=graphs,
        edge_days=edge_days,
        presets=period.presets(local_today()),
        sections=sections,
    )


@bp.get("/report/report.csv")
@role_required(*access.SUPERVISE)
def report_csv():
    chosen, rep = _report()
    name = f"report-{chosen.start.isoformat()}-{chosen.end.isoformat()}.csv"
    return Response(
        reports.report_csv(rep),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
