"""The /api/ endpoints over real HTTP semantics (Flask test client) on both backends."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from core.db import get_db
from tests.conftest import TEST_API_TOKEN
from tickets.models import Ticket, TicketEvent
from tickets.seed import seed

pytestmark = pytest.mark.store
AUTH = {"Authorization": f"Bearer {TEST_API_TOKEN}"}


@pytest.fixture
def api(store_app):
    with store_app.app_context(), get_db().session() as s:
        seed(s)
    return store_app.test_client()


def _create(api, **fields):
    body = {
        "channel": "web",
        "description": "小区物业不给修电梯，老人上下楼很困难，要求处理",
        "caller_number": "13812345678",
        **fields,
    }
    return api.post("/api/tickets", json=body, headers=AUTH)


def test_every_route_requires_a_token(api):
    for method, path in [
        ("get", "/api/tickets"),
        ("post", "/api/tickets"),
        ("get", "/api/tickets/20260101000001"),
        ("get", "/api/kb?q=x"),
        ("get", "/api/openapi.json"),
        ("get", "/api/tickets.csv"),
        ("post", "/api/tickets/20260101000001/resolve"),
    ]:
        r = getattr(api, method)(path, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401, path


def test_create_classifies_and_get_shows_history(api):
    r = _create(api, district="东营区")
    assert r.status_code == 201
    t = r.get_json()
    assert t["caller_number"] == "+8613812345678"
    assert (t["demand_type"], t["topic"]) == ("complaint", "property_management")
    assert t["suggested"]["department"] == "housing"
    assert r.headers["Location"].endswith(f"/api/tickets/{t['number']}")
    got = api.get(f"/api/tickets/{t['number']}", headers=AUTH).get_json()
    assert [e["action"] for e in got["events"]] == ["created", "updated"]
    assert got["events"][0]["actor"] == "api"


def test_idempotent_create(api):
    first = _create(api, idempotency_key="wechat-msg-1")
    again = _create(api, idempotency_key="wechat-msg-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["number"] == again.get_json()["number"]


def test_bad_input_gets_field_errors_and_writes_nothing(api, store_app):
    r = api.post(
        "/api/tickets",
        headers=AUTH,
        json={
            "channel": "fax",
            "description": "",
            "topic": "unicorns",
            "caller_number": "abc",
            "colour": "red",
            "demand_type": 3,
        },
    )
    assert r.status_code == 400
    fields = r.get_json()["fields"]
    assert set(fields) >= {"channel", "description", "colour", "demand_type"}
    r = api.post(
        "/api/tickets",
        headers=AUTH,
        json={"channel": "fax", "description": "x", "topic": "unicorns", "caller_number": "abc"},
    )
    assert set(r.get_json()["fields"]) == {"channel", "topic", "caller_number"}
    r = api.post("/api/tickets", headers=AUTH, data="not json", content_type="application/json")
    assert r.status_code == 400 and "body" in r.get_json()["fields"]
    with store_app.app_context(), get_db().session() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0


def test_dispatch_resolve_and_callback_in_one_transaction(api, store_app):
    number = _create(api).get_json()["number"]
    r = api.post(f"/api/tickets/{number}/dispatch", json={}, headers=AUTH)
    assert r.status_code == 200 and r.get_json()["department"] == "housing"
    r = api.post(f"/api/tickets/{number}/resolve", json={"reply": ""}, headers=AUTH)
    assert r.status_code == 400 and "reply" in r.get_json()["fields"]
    r = api.post(
        f"/api/tickets/{number}/resolve", json={"reply": "已督促物业修复电梯。"}, headers=AUTH
    )
    assert r.status_code == 200 and r.get_json()["status"] == "resolved"
    from callbacks.models import CallbackRequest

    with store_app.app_context(), get_db().session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == number))
        requests = s.scalars(
            select(CallbackRequest).where(CallbackRequest.ticket_id == ticket.id)
        ).all()
        assert len(requests) == 1 and requests[0].number == "+8613812345678"
    r = api.post(f"/api/tickets/{number}/resolve", json={"reply": "again"}, headers=AUTH)
    assert r.status_code == 409
    r = api.post(f"/api/tickets/{number}/dispatch", json={"department": "nope"}, headers=AUTH)
    assert r.status_code == 400 and "department" in r.get_json()["fields"]
    assert (
        api.post(
            "/api/tickets/20200101000001/resolve", json={"reply": "x"}, headers=AUTH
        ).status_code
        == 404
    )


def test_list_filters_paging_and_csv(api, store_app):
    _create(api, description="暖气不热，室温只有十五度", district="河口区")
    _create(api, description="请问公积金怎么提取", channel="wechat")
    _create(api, description='=HYPERLINK("http://x") 楼上装修噪音', channel="wechat")
    r = api.get("/api/tickets?channel=wechat&per_page=1&page=2", headers=AUTH).get_json()
    assert (r["total"], r["pages"], len(r["items"])) == (2, 2, 1)
    assert r["items"][0]["description"] == "请问公积金怎么提取"
    r = api.get("/api/tickets?q=室温", headers=AUTH).get_json()
    assert [t["topic"] for t in r["items"]] == ["heating"]
    r = api.get("/api/tickets?topic=heating&district=河口区&status=new", headers=AUTH).get_json()
    assert r["total"] == 1
    assert api.get("/api/tickets?overdue=true", headers=AUTH).get_json()["total"] == 0
    r = api.get("/api/tickets?status=lost&date_from=yesterday&per_page=1000", headers=AUTH)
    assert r.status_code == 400
    assert set(r.get_json()["fields"]) == {"status", "date_from", "per_page"}
    text = api.get("/api/tickets.csv?channel=wechat", headers=AUTH).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[1]["description"].startswith("'=HYPERLINK")  # no formula injection


def test_kb_search_and_openapi(api):
    r = api.get("/api/kb?q=异地审车", headers=AUTH).get_json()
    assert r["items"][0]["key"] == "vehicle-inspection-elsewhere"
    assert api.get("/api/kb/reserve-pork", headers=AUTH).get_json()["topic"] == "commerce"
    assert api.get("/api/kb/none", headers=AUTH).status_code == 404
    doc = api.get("/api/openapi.json", headers=AUTH).get_json()
    assert doc["openapi"].startswith("3.")
    assert {
        "/api/tickets",
        "/api/tickets/{number}",
        "/api/tickets/{number}/resolve",
        "/api/tickets/{number}/dispatch",
        "/api/tickets.csv",
        "/api/kb",
    } <= set(doc["paths"])


def test_failed_resolve_leaves_no_audit(api, store_app):
    number = _create(api).get_json()["number"]
    r = api.post(f"/api/tickets/{number}/resolve", json={"reply": "x"}, headers=AUTH)
    assert r.status_code == 409, r.get_json()  # a new ticket cannot be resolved
    with store_app.app_context(), get_db().session() as s:
        actions = s.scalars(select(TicketEvent.action)).all()
        assert "resolved" not in actions


def test_department_token_sees_and_resolves_only_its_own(api, store_app):
    from accounts import service as accounts
    from tests.accounts_support import make_user
    from tickets.models import Department

    heating = _create(api, description="暖气不热，室温十五度").get_json()["number"]
    elevator = _create(api).get_json()["number"]
    for number in (heating, elevator):
        api.post(f"/api/tickets/{number}/dispatch", json={}, headers=AUTH)
    with store_app.app_context(), get_db().session() as s:
        dept_id = s.scalar(select(Department.id).where(Department.code == "urban_management"))
    make_user(store_app, "heating-desk", "department", department_id=dept_id)
    with store_app.app_context(), get_db().session() as s:
        token = accounts.issue_token(accounts.get_user(s, "heating-desk"))
    mine = {"Authorization": f"Bearer {token}"}
    listed = api.get("/api/tickets", headers=mine).get_json()
    assert [t["number"] for t in listed["items"]] == [heating]
    assert api.get(f"/api/tickets/{elevator}", headers=mine).status_code == 404
    assert (
        api.post(f"/api/tickets/{elevator}/resolve", json={"reply": "x"}, headers=mine).status_code
        == 404
    )
    assert api.post(f"/api/tickets/{heating}/dispatch", json={}, headers=mine).status_code == 403
    assert _create(api).status_code == 201  # the service token may create
    assert (
        api.post(
            "/api/tickets", json={"channel": "web", "description": "x"}, headers=mine
        ).status_code
        == 403
    )
    r = api.post(
        f"/api/tickets/{heating}/resolve", json={"reply": "已联系热力公司上门处理。"}, headers=mine
    )
    assert r.status_code == 200
    events = api.get(f"/api/tickets/{heating}", headers=mine).get_json()["events"]
    assert events[-1]["actor"] == "heating-desk" and events[-1]["action"] == "resolved"
