"""Retention purge and surge detection over both backends, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.db import get_db
from tickets import retention, service, surges
from tickets.models import Ticket
from tickets.seed import seed

pytestmark = pytest.mark.store
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _ticket(s, created_at, **fields):
    t = service.create_ticket(s, channel="voice_message", caller_number=None, **fields)
    t.created_at = created_at
    return t


def test_purge_removes_media_keeps_ticket_and_audits(store_app, tmp_path):
    rec_dir = tmp_path / "recordings"
    rec_dir.mkdir()
    wav = rec_dir / "RE1.wav"
    wav.write_bytes(b"RIFF")
    outside = tmp_path / "keep.wav"
    outside.write_bytes(b"RIFF")
    with store_app.app_context(), get_db().session() as s:
        old = _ticket(
            s,
            NOW - timedelta(days=200),
            recording_sid="RE1",
            recording_url="https://api.twilio.com/RE1",
        )
        old.recording_path = str(wav)
        old.transcript = "我家暖气不热"
        sneaky = _ticket(s, NOW - timedelta(days=200), recording_sid="RE2")
        sneaky.recording_path = str(outside)
        recent = _ticket(s, NOW - timedelta(days=10), recording_sid="RE3")
        recent.transcript = "最近的留言"
        s.flush()
        result = retention.purge_expired(s, days=180, now=NOW, recordings_dir=str(rec_dir))
        assert result.tickets == 2 and result.files_deleted == 1
        again = retention.purge_expired(s, days=180, now=NOW, recordings_dir=str(rec_dir))
        assert again.tickets == 0
        ids = (old.id, recent.id)
    assert not wav.exists() and outside.exists()
    with store_app.app_context(), get_db().session() as s:
        old, recent = (s.get(Ticket, i) for i in ids)
        assert old.transcript is None and old.recording_url is None
        assert old.recording_path is None and old.media_purged_at is not None
        assert old.events[-1].action == "media_purged"
        assert set(old.events[-1].detail["fields"]) >= {"transcript", "recording_url"}
        assert recent.transcript == "最近的留言"


def test_surge_alert_with_its_tickets(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed(s)
        # Baseline: 2 odour tickets a week in 河口区 for four weeks.
        for day in range(2, 29, 4):
            _ticket(s, NOW - timedelta(days=day), topic="environment", district="河口区")
        # Today: 9 of them within hours, and 4 ordinary heating tickets elsewhere.
        burst = [
            _ticket(s, NOW - timedelta(hours=h), topic="environment", district="河口区")
            for h in range(1, 10)
        ]
        for h in range(1, 5):
            _ticket(s, NOW - timedelta(hours=h), topic="heating", district="东营区")
        s.flush()
        alerts = surges.detect(s, surges.Thresholds(window_hours=24, min_count=5, ratio=3), now=NOW)
        assert len(alerts) == 1
        alert = alerts[0]
        assert (alert.topic, alert.district, alert.count) == ("environment", "河口区", 9)
        assert sorted(alert.ticket_ids) == sorted(t.id for t in burst)
        assert alert.baseline == 0.25 and alert.ratio == 9.0
        assert "河口区环境污染" in alert.notice_text()
        assert surges.detect(s, surges.Thresholds(min_count=10), now=NOW) == []
        ids = s.scalars(select(Ticket.id)).all()
        assert len(ids) == 20


def test_cli_seed_report_purge_surges(store_app):
    runner = store_app.test_cli_runner()
    out = runner.invoke(args=["tickets", "seed"])
    assert out.exit_code == 0 and "21 topics" in out.output
    with store_app.app_context(), get_db().session() as s:
        number = service.create_ticket(
            s, channel="phone", caller_number=None, topic="heating"
        ).number
        today = service.local_today()
    out = runner.invoke(
        args=["tickets", "report", "--from", f"{today:%Y-%m-01}", "--to", f"{today:%Y-%m-%d}"]
    )
    assert out.exit_code == 0 and "1 tickets" in out.output and "供暖问题 1" in out.output
    out = runner.invoke(args=["tickets", "show", number])
    assert out.exit_code == 0 and "created" in out.output
    assert "purged media of 0 tickets" in runner.invoke(args=["tickets", "purge"]).output
    assert "no surges" in runner.invoke(args=["tickets", "surges"]).output


def test_scheduler_runs_the_purge(app):
    """The callbacks scheduler process carries the retention job."""
    from callbacks.scheduler import RETENTION_INTERVAL_HOURS, CallbackScheduler

    sched = CallbackScheduler(app).build_scheduler()
    job = sched.get_job("retention")
    assert job.func.__name__ == "purge_expired_media"
    assert job.trigger.interval == timedelta(hours=RETENTION_INTERVAL_HOURS)
