"""Dashboard and period report figures over a known set of tickets, both backends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.db import get_db
from tickets import reports
from tickets.models import Ticket
from tickets.seed import seed

pytestmark = pytest.mark.store


def _add(
    s,
    n,
    opened_on,
    *,
    channel="phone",
    demand="consultation",
    topic="heating",
    due=None,
    resolved_on=None,
    satisfaction=None,
    status="new",
):
    for _ in range(n):
        _add.seq += 1
        s.add(
            Ticket(
                number=f"{opened_on:%Y%m%d}{_add.seq:06d}",
                opened_on=opened_on,
                channel=channel,
                demand_type=demand,
                topic=topic,
                status=status,
                due_date=due,
                resolved_on=resolved_on,
                satisfaction=satisfaction,
                resolution_count=0,
            )
        )


_add.seq = 0


def test_period_report_in_the_seeds_shape(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed(s)
        # previous year: 10 tickets; this year: 20 (+100%)
        _add(s, 10, date(2025, 6, 2))
        _add(s, 2, date(2026, 1, 5))  # Monday, first month
        _add(s, 3, date(2026, 1, 6))
        _add(s, 1, date(2026, 1, 10), channel="web")  # Saturday: not a workday
        _add(s, 8, date(2026, 12, 29), topic="noise", demand="complaint")
        _add(s, 4, date(2026, 12, 30), channel="wechat", topic="housing_fund", demand="suggestion")
        _add(s, 2, date(2026, 12, 31), topic="rural_affairs", demand="other")
        r = reports.period_report(s, date(2026, 1, 1), date(2026, 12, 31))
    assert (r.total, r.previous_total, r.growth_pct) == (20, 10, 100.0)
    assert r.channels == {"phone": 15, "wechat": 4, "web": 1}
    assert r.demand_type_pct == {
        "complaint": 40.0,
        "consultation": 30.0,
        "suggestion": 20.0,
        "other": 10.0,
    }
    assert [(code, n) for code, _, n in r.top_topics] == [
        ("noise", 8),
        ("heating", 6),
        ("housing_fund", 4),
        ("rural_affairs", 2),
    ]
    assert r.top_topics[0][1] == "噪声污染"
    # January 2026 has 19 working days after the New Year holiday (1-3 Jan off, 4 Jan worked).
    jan = [date(2026, 1, 1) + timedelta(d) for d in range(30)]
    from core.calendar import is_workday

    workdays = sum(is_workday(d) for d in jan)
    assert r.workday_avg_start == round(5 / workdays, 1)
    csv_text = reports.report_csv(r)
    assert "growth %,100.0" in csv_text and "1. 噪声污染,8" in csv_text


def test_dashboard_figures(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed(s)
        d = date(2026, 3, 2)
        _add(
            s,
            3,
            d,
            due=d + timedelta(3),
            resolved_on=d + timedelta(1),
            satisfaction="satisfied",
            status="callback_done",
        )
        _add(
            s,
            1,
            d,
            due=d + timedelta(3),
            resolved_on=d + timedelta(5),
            satisfaction="dissatisfied",
            status="callback_done",
        )
        _add(s, 1, d + timedelta(1), channel="web", due=d + timedelta(3))  # open, late
        figures = reports.dashboard(s, d, d + timedelta(6), today=d + timedelta(10))
    assert figures["total"] == 5
    assert figures["volume_per_day"][:3] == [
        ("2026-03-02", 4),
        ("2026-03-03", 1),
        ("2026-03-04", 0),
    ]
    assert figures["channel_shares"] == {"phone": 80.0, "web": 20.0}
    assert figures["satisfaction"] == {
        "counts": {"satisfied": 3, "dissatisfied": 1},
        "rated": 4,
        "rate": 75.0,
    }
    assert figures["on_time"] == {"due": 5, "on_time": 3, "rate": 60.0}
    assert figures["top_topics"][0] == {"topic": "heating", "name": "供暖问题", "count": 5}
