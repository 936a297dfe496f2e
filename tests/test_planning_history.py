"""Half-hour history from every source, on SQLite and PostgreSQL; CSV import; surge days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from agents.models import QueueCall
from core.db import get_db
from ivr.models import Call
from planning import history, importer
from planning.models import HistorySlot
from tickets import seed, service, surges
from tickets.models import Ticket

TZ = ZoneInfo("Asia/Shanghai")


def _utc(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=TZ).astimezone(UTC)


def _call(s, sid: str, local: str, outcome: str, direction: str = "inbound") -> None:
    s.add(
        Call(
            call_sid=sid,
            caller="+8613800000000",
            direction=direction,
            started_at=_utc(local),
            outcome=outcome,
        )
    )


@pytest.mark.store
def test_each_half_hour_comes_from_its_best_source(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed.seed(s)
        # Call records on 12-01 between 09:00 and 09:30 local (01:00 UTC), one answered.
        _call(s, "CA1", "2026-12-01 09:05", "agent")
        _call(s, "CA2", "2026-12-01 09:29:59", "abandoned_queue")
        _call(s, "CA3", "2026-12-01 09:30", "voice_message")
        _call(s, "CA4", "2026-12-01 09:10", "agent", direction="outbound")  # not offered
        # The agents' side: CA1 answered after 10 s and talked 200 s; CA2 gave up.
        s.add(
            QueueCall(
                call_sid="CA1",
                queue="agents",
                entered_at=_utc("2026-12-01 09:05:10"),
                answered_at=_utc("2026-12-01 09:05:20"),
                talk_seconds=200,
                state="answered",
            )
        )
        s.add(
            QueueCall(
                call_sid="CA2",
                queue="agents",
                entered_at=_utc("2026-12-01 09:29:30"),
                left_at=_utc("2026-12-01 09:29:59"),
                state="abandoned",
            )
        )
        # Phone tickets the day before, when there were no call records.
        for minute in (0, 10, 20):
            t = service.create_ticket(s, channel="phone", caller_number="+8613800000001")
            t.created_at = _utc(f"2026-11-30 23:{minute:02d}")
        web = service.create_ticket(s, channel="web", caller_number=None)
        web.created_at = _utc("2026-11-30 23:05")
        # An import for the same 09:30 half hour wins over the call record.
        rows, errors = importer.parse("start,offered,answered\n2026-12-01 09:30,7,6\n", TZ)
        assert errors == []
        importer.save(s, rows)
    with store_app.app_context(), get_db().session() as s:
        slots = history.load(s, date(2026, 11, 30), date(2026, 12, 2), TZ, wrap_up_seconds=30)
        assert history.first_day(s, TZ) == date(2026, 11, 30)
    nine = slots[datetime(2026, 12, 1, 9, 0)]
    assert (nine.offered, nine.answered, nine.abandoned, nine.source) == (2, 1, 1, "calls")
    assert (nine.within_target, nine.handle_seconds) == (1, 230)
    assert history.achieved_service_level([nine]) == 0.5
    half = slots[datetime(2026, 12, 1, 9, 30)]
    assert (half.offered, half.answered, half.source) == (7, 6, "import")
    night = slots[datetime(2026, 11, 30, 23, 0)]
    assert (night.offered, night.source) == (3, "tickets")
    assert history.daily_totals(slots) == {date(2026, 11, 30): 3, date(2026, 12, 1): 9}


@pytest.mark.store
def test_reimport_replaces_the_same_half_hours(store_app):
    text = "start,offered\n2026-11-01 08:00,5\n2026-11-01 08:30,6\n"
    with store_app.app_context(), get_db().session() as s:
        importer.save(s, importer.parse(text, TZ)[0])
    with store_app.app_context(), get_db().session() as s:
        importer.save(s, importer.parse("start,offered\n2026-11-01 08:30,9\n", TZ)[0])
    with store_app.app_context(), get_db().session() as s:
        got = {
            r.slot_start.astimezone(UTC)
            if r.slot_start.tzinfo
            else r.slot_start.replace(tzinfo=UTC): r.offered
            for r in s.scalars(select(HistorySlot))
        }
    assert got == {_utc("2026-11-01 08:00"): 5, _utc("2026-11-01 08:30"): 9}


def test_csv_errors_name_the_line():
    text = (
        "start,offered,answered,handle_seconds,surge\n"
        "2026-11-01 08:00,5,4,200,0\n"
        "2026-11-01 08:15,5,,,\n"
        "yesterday,5,,,\n"
        "2026-11-01 09:00,abc,,,\n"
        "2026-11-01 09:30,3,4,,\n"
        "2026-11-01 10:00,3,,-5,\n"
        "2026-11-01 10:30,3,,,maybe\n"
        "2026-11-01 08:00,5,,,\n"
        "\n"
        "2026-11-01 11:00,,,,\n"
    )
    rows, errors = importer.parse(text, TZ)
    assert [r.offered for r in rows] == [5]
    assert [str(e) for e in errors] == [
        "line 3: start '2026-11-01 08:15' is not on the hour or the half hour",
        "line 4: start 'yesterday' is not a date and time like 2025-03-01 08:30",
        "line 5: offered 'abc' is not a whole number",
        "line 6: answered 4 is more than offered 3",
        "line 7: handle_seconds '-5' is not seconds > 0",
        "line 8: surge 'maybe' must be 0 or 1",
        "line 9: half hour 2026-11-01 08:00 already on line 2",
        "line 11: offered is empty",
    ]


def test_csv_without_the_required_columns_is_refused():
    with pytest.raises(importer.ImportFileError, match="line 1: missing column.*offered"):
        importer.parse("when,calls\n2026-11-01 08:00,5\n", TZ)


@pytest.mark.store
def test_surge_days_use_the_detectors_rule(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed.seed(s)
        day = datetime(2026, 11, 20, 3, tzinfo=UTC)
        for i in range(12):  # a chemical odour: twelve noise tickets in one district
            t = service.create_ticket(
                s, channel="phone", caller_number=None, topic="noise", district="垦利区"
            )
            t.created_at = day + timedelta(minutes=5 * i)
        for d in range(1, 20):  # the usual one a day elsewhere
            t = service.create_ticket(
                s, channel="phone", caller_number=None, topic="heating", district="东营区"
            )
            t.created_at = day - timedelta(days=d)
    with store_app.app_context(), get_db().session() as s:
        found = surges.surge_days(s, date(2026, 11, 1), date(2026, 11, 30))
        assert s.scalar(select(Ticket.id).limit(1)) is not None
    assert found == [date(2026, 11, 20)]
