"""Foundation: config, calendar, masking, health and migrations on every backend."""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from core import calendar, migrate
from core.config import load_config
from core.privacy import MaskingFilter, mask_number, mask_text


def test_defaults_are_embedded():
    cfg = load_config({})
    assert cfg["DATABASE_URL"].startswith("sqlite:///")
    assert cfg["TELEPHONY"] == "simulator"
    assert cfg["HOTLINE_TIMEZONE"] == "Asia/Shanghai"
    assert cfg["TWILIO_API_BASE"] == "http://127.0.0.1:8000/simulator/twilio"
    assert cfg["HOST"] == "127.0.0.1" and cfg["PORT"] == 8000


def test_auth_token_switches_to_twilio():
    cfg = load_config({"TWILIO_AUTH_TOKEN": "x", "PUBLIC_BASE_URL": "https://h.example/"})
    assert cfg["TELEPHONY"] == "twilio"
    assert cfg["PUBLIC_BASE_URL"] == "https://h.example"
    assert cfg["TWILIO_API_BASE"] == "https://api.twilio.com"


def test_mask_number():
    assert mask_number("+8613812345678") == "+86138****5678"
    assert mask_number("13812345678") == "138****5678"
    assert mask_number("123") == "***"
    assert mask_number(None) == "-"
    assert mask_text("来电 13812345678 反映") == "来电 138****5678 反映"
    assert mask_text("from=+8613812345678&x") == "from=+86138****5678&x"
    assert mask_text("座机 0546-8888888") == "座机 054****8888"
    assert mask_text("From=%2B8613812345678") == "From=+86138****5678"  # URL-encoded form
    # Dates and ticket numbers are not personal data and stay readable.
    assert mask_text("GET /report/?from=20260101 ticket 20261126000123") == (
        "GET /report/?from=20260101 ticket 20261126000123"
    )


def test_log_lines_are_masked(caplog):
    logger = logging.getLogger("test.mask")
    handler_filter = MaskingFilter()
    record = logger.makeRecord(
        "t", logging.INFO, __file__, 1, "caller %s", ("+8613812345678",), None
    )
    handler_filter.filter(record)
    assert record.getMessage() == "caller +86138****5678"


def test_holidays_and_adjusted_workdays():
    assert calendar.is_holiday(date(2026, 10, 1))  # National Day
    assert calendar.is_workday(date(2026, 2, 14))  # Saturday made a workday (调休)
    assert calendar.holiday_name(date(2026, 2, 17)) == "Spring Festival"
    # 2026-09-30 (Wed) + 1 working day skips the National Day week (Oct 1-7).
    assert calendar.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert calendar.working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_year_beyond_calendar_falls_back_to_weekdays(caplog):
    assert not calendar.calendar_covers(2099)
    with caplog.at_level(logging.WARNING):
        assert calendar.is_workday(date(2099, 1, 5))  # a Monday
        assert not calendar.is_workday(date(2099, 1, 3))  # a Saturday
    assert "no data for 2099" in caplog.text


def test_window():
    tz = ZoneInfo("Asia/Shanghai")
    assert calendar.in_window(datetime(2026, 11, 26, 9, 0, tzinfo=tz), "09:00-20:00")
    assert not calendar.in_window(datetime(2026, 11, 26, 20, 0, tzinfo=tz), "09:00-20:00")
    with pytest.raises(ValueError, match="bad time window"):
        calendar.parse_window("20:00-09:00")


def test_healthz_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200, r.json
    assert r.json["checks"]["database"]["ok"] is True


def test_healthz_degraded_when_database_unreachable(make_app, tmp_path):
    app = make_app(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    r = app.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json["checks"]["database"]["ok"] is False


@pytest.mark.store
def test_migrations_reach_latest_heads(database_url):
    assert migrate.current_heads(database_url) == migrate.latest_heads()
    migrate.upgrade(database_url)  # idempotent
    from core.db import Database

    db = Database(database_url)
    with db.session() as s:
        assert s.execute(text("SELECT 1")).scalar() == 1
    db.dispose()


@pytest.mark.store
def test_migrations_match_models(database_url):
    """Every package's Alembic branch creates exactly what its models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from core.db import Base, import_all_models

    import_all_models()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [
            d
            for d in compare_metadata(ctx, Base.metadata)
            # APScheduler's job table is created by APScheduler itself, not by our models.
            if not (d[0] == "remove_table" and d[1].name == "apscheduler_jobs")
        ]
    engine.dispose()
    assert diff == []


def test_each_postgresql_test_gets_its_own_copy_of_the_schema_dropped_afterwards(
    pg_template_url,
):
    """What every PostgreSQL test runs on: a migrated copy whose rows are its own."""
    from conftest import PG_ADMIN_URL
    from sqlalchemy import create_engine, func, make_url, select

    from core.db import Database
    from core.scratch import scratch_database
    from tickets.models import Department

    def departments(url: str) -> int:
        db = Database(url)
        with db.session() as s:
            count = s.scalar(select(func.count()).select_from(Department))
        db.dispose()
        return count

    with (
        scratch_database(PG_ADMIN_URL, "hotline_copy", template=pg_template_url) as one,
        scratch_database(PG_ADMIN_URL, "hotline_copy", template=pg_template_url) as other,
    ):
        assert migrate.current_heads(one) == migrate.latest_heads()
        db = Database(one)
        with db.session() as s:
            s.add(Department(code="heat", name="热力公司"))
        # Left open on purpose: dropping the copy closes connections a test forgot.
        held = db.engine.connect()
        assert (departments(one), departments(other)) == (1, 0)
    names = {make_url(one).database, make_url(other).database}
    admin = create_engine(PG_ADMIN_URL)
    with admin.connect() as conn:
        left = conn.execute(
            text("SELECT datname FROM pg_database WHERE datname = ANY(:names)"),
            {"names": list(names)},
        ).all()
    admin.dispose()
    held.invalidate()
    db.dispose()
    assert left == []
