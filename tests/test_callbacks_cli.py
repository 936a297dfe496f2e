"""`flask callbacks pause|resume|dnc-import|status`."""

from conftest import TEST_API_TOKEN

from callbacks import models as m
from callbacks import service
from core.db import get_db

HEALTH_DETAIL = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz detail


def test_pause_resume_import_and_status(app, runner, tmp_path):
    assert "paused" in runner.invoke(args=["callbacks", "pause"]).output
    with app.app_context(), get_db().session() as s:
        assert service.is_paused(s)
    runner.invoke(args=["callbacks", "resume"])
    path = tmp_path / "dnc.txt"
    path.write_text(
        "# opted out by letter\n13800000001\n+86 138 0000 0002\nxyz\n", encoding="utf-8"
    )
    result = runner.invoke(args=["callbacks", "dnc-import", str(path)])
    assert "2 numbers added; 1 lines not understood" in result.output
    with app.app_context(), get_db().session() as s:
        assert not service.is_paused(s)
        assert {d.number for d in s.query(m.DoNotCall)} == {"+8613800000001", "+8613800000002"}
    assert "paused: no" in runner.invoke(args=["callbacks", "status"]).output


def test_health_reports_no_active_scheduler(client):
    check = client.get("/healthz", headers=HEALTH_DETAIL).get_json()["checks"]["callbacks"]
    assert check["scheduler"] is None and check["paused"] is False
    assert check["ok"] is True  # nothing due: no scheduler is not a failure


def test_health_degraded_when_calls_are_due_and_no_scheduler_runs(app, client):
    from datetime import timedelta

    from core.db import utcnow

    with app.app_context(), get_db().session() as s:
        req = m.CallbackRequest(
            kind=m.SATISFACTION, ticket_id=1, resolution_no=1, number="+8613800000003", script={}
        )
        s.add_all(
            [
                req,
                m.CallbackAttempt(
                    request=req,
                    attempt_no=1,
                    number=req.number,
                    due_at=utcnow() - timedelta(minutes=5),
                    state=m.DUE,
                ),
            ]
        )
    r = client.get("/healthz", headers=HEALTH_DETAIL)
    check = r.get_json()["checks"]["callbacks"]
    assert (r.status_code, check["ok"], check["due"]) == (503, False, 1)
