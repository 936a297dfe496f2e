"""Per-day figures count the hotline's local day on both databases (SQLite keeps datetimes
as UTC text: a local-midnight bound must be compared in UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from agents import stats
from agents.queueing import caller_joined
from core.db import get_db

SHANGHAI = "Asia/Shanghai"


def test_a_call_after_local_midnight_counts_for_the_new_day(store_app):
    with get_db(store_app).session() as s:
        # 00:30 on 2 December in Shanghai is 16:30 on 1 December in UTC.
        caller_joined(
            s,
            call_sid="CA" + "1" * 32,
            queue="agents",
            caller=None,
            now=datetime(2026, 12, 1, 16, 30, tzinfo=UTC),
        )
        # 23:50 on 1 December in Shanghai.
        caller_joined(
            s,
            call_sid="CA" + "2" * 32,
            queue="agents",
            caller=None,
            now=datetime(2026, 12, 1, 15, 50, tzinfo=UTC),
        )
    with get_db(store_app).session() as s:
        assert stats.day_figures(s, date(2026, 12, 2), SHANGHAI).offered == 1
        assert stats.day_figures(s, date(2026, 12, 1), SHANGHAI).offered == 1
        assert stats.period_figures(s, date(2026, 12, 1), date(2026, 12, 2), SHANGHAI).offered == 2
