"""Supervisor page: lists and figures, pause switch, do-not-call list import/add/remove."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select

from callbacks import models as m
from callbacks import service
from core.db import get_db, utcnow
from tests.accounts_support import csrf_from, login, make_user


def _signed_in(app, role="supervisor"):
    make_user(app, "sup", role)
    client = app.test_client()
    login(client, "sup")
    return client


def _seed(app):
    now = utcnow()
    with get_db(app).session() as s:
        for i, (state, outcome, result) in enumerate(
            [
                (m.SCHEDULED, None, None),
                (m.PLACED, None, None),
                (m.FINISHED, "answered", m.DISSATISFIED),
                (m.FINISHED, "busy", None),
            ]
        ):
            req = m.CallbackRequest(
                kind=m.SATISFACTION,
                ticket_id=i + 1,
                resolution_no=1,
                number=f"+8613900000{i:03d}",
                result=result,
                state=m.DONE if result else m.PENDING,
                script={"ticket_number": f"20261126{i:06d}", "topic": "供暖"},
            )
            s.add_all(
                [
                    req,
                    m.CallbackAttempt(
                        request=req,
                        attempt_no=1,
                        number=req.number,
                        due_at=now + timedelta(hours=1),
                        state=state,
                        outcome=outcome,
                        claimed_at=now,
                        ended_at=now,
                    ),
                ]
            )


def test_page_lists_callbacks_and_figures_for_supervisors_only(app):
    _seed(app)
    client = _signed_in(app)
    html = client.get("/callbacks/").get_data(as_text=True)
    assert "20261126000000" in html and "+86139****0000" in html  # due, number masked
    assert "+8613900000000" not in html
    assert "不满意，已重新办理" in html and "20261126000002" in html
    assert "未运行 not running" in html
    anonymous = app.test_client().get("/callbacks/")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    make_user(app, "agent1", "agent")
    other = app.test_client()
    login(other, "agent1")
    assert other.get("/callbacks/").status_code == 403


def test_pause_switch_from_the_page(app):
    client = _signed_in(app)
    token = csrf_from(client.get("/callbacks/").get_data(as_text=True))
    assert client.post("/callbacks/pause", data={"paused": "1"}).status_code == 400  # no CSRF
    client.post("/callbacks/pause", data={"paused": "1", "csrf_token": token})
    with app.app_context(), get_db().session() as s:
        assert service.is_paused(s)
    assert "已暂停 Paused" in client.get("/callbacks/").get_data(as_text=True)
    client.post("/callbacks/pause", data={"paused": "0", "csrf_token": token})
    with app.app_context(), get_db().session() as s:
        assert not service.is_paused(s)


def test_do_not_call_import_add_remove(app):
    client = _signed_in(app)
    token = csrf_from(client.get("/callbacks/").get_data(as_text=True))
    upload = "号码,备注\n138 0000 0001,投诉过多\n+8613800000002\nnot-a-number\n".encode()
    resp = client.post(
        "/callbacks/dnc/import",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(upload), "dnc.csv"),
            "numbers": "13800000003",
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert "导入 3 个号码" in html and "not-a-number" in html
    client.post(
        "/callbacks/dnc", data={"csrf_token": token, "number": "13800000004", "note": "本人要求"}
    )
    with app.app_context(), get_db().session() as s:
        rows = {d.number: d for d in s.scalars(select(m.DoNotCall))}
        assert set(rows) == {f"+861380000000{i}" for i in (1, 2, 3, 4)}
        assert rows["+8613800000001"].note == "投诉过多"
        assert rows["+8613800000001"].created_by == "sup"
        entry_id = rows["+8613800000002"].id
    client.post(f"/callbacks/dnc/{entry_id}/delete", data={"csrf_token": token})
    with app.app_context(), get_db().session() as s:
        assert not service.is_do_not_call(s, "+8613800000002")
        assert service.is_do_not_call(s, "+8613800000001")
