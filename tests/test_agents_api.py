"""Presence and queue API: who may change whose presence, per-field errors, history kept."""

from __future__ import annotations

import pytest
from agents_support import add_agent, join_queue

from accounts.service import create_user, issue_token
from agents import models as m
from core.db import get_db
from tests.conftest import TEST_API_TOKEN


@pytest.fixture
def tokens(app):
    wang = add_agent(app, "wang", "+8613900000001", status=m.OFFLINE)
    li = add_agent(app, "li", "+8613900000002", status=m.OFFLINE)
    with get_db(app).session() as s:
        boss = issue_token(create_user(s, "boss", "supervisor-pw-1", role="supervisor"))
    return {"wang": wang, "li": li, "boss": boss}


def put(client, token, username, body):
    return client.put(
        f"/api/agents/{username}/presence",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_agent_goes_available_and_history_is_kept(client, tokens):
    resp = put(client, tokens["wang"], "wang", {"status": "available"})
    assert resp.status_code == 200, resp.json
    assert (resp.json["status"], resp.json["queues"]) == ("available", ["agents"])
    resp = put(client, tokens["wang"], "wang", {"status": "break", "device": "sip:1001@pbx.hz.cn"})
    assert (resp.json["status"], resp.json["device"]) == ("break", "sip:1001@pbx.hz.cn")
    history = [(h["from"], h["to"], h["by"]) for h in resp.json["history"]]
    assert history == [("available", "break", "wang"), ("offline", "available", "wang")]


def test_supervisor_may_change_any_agent(client, tokens):
    resp = put(client, tokens["boss"], "li", {"status": "available"})
    assert resp.status_code == 200
    assert resp.json["history"][0]["by"] == "boss"
    assert put(client, TEST_API_TOKEN, "li", {"status": "offline"}).status_code == 200


def test_someone_elses_agent_is_forbidden(client, tokens):
    resp = put(client, tokens["wang"], "li", {"status": "break"})
    assert resp.status_code == 403
    assert "li" in resp.json["error"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({"status": "napping"}, "status", "unknown status 'napping'"),
        ({"status": "on_call"}, "status", "follows the calls"),
        ({"device": "12345"}, "device", "E.164"),
        ({"device": "sim:agent-1"}, None, None),  # simulator mode (the test app) allows it
        ({}, "status", "give a status, a device, or both"),
        ({"status": 3}, "status", "expected a string"),
        ({"status": "available", "colour": "red"}, "colour", "unknown field"),
    ],
)
def test_bad_presence_gets_per_field_errors(client, tokens, body, field, fragment):
    resp = put(client, tokens["wang"], "wang", body)
    if field is None:
        assert resp.status_code == 200
        return
    assert resp.status_code == 400, resp.json
    assert fragment in resp.json["fields"][field]


def test_available_needs_a_device(app, client):
    with get_db(app).session() as s:
        token = issue_token(create_user(s, "zhou", "agent-password-1", role="agent"))
    resp = put(client, token, "zhou", {"status": "available"})
    assert resp.status_code == 400
    assert "no device" in resp.json["fields"]["device"]


def test_busy_agent_cannot_leave_mid_call(app, client, tokens):
    add_agent(app, "sun", "+8613900000003", status=m.ON_CALL)
    resp = put(client, TEST_API_TOKEN, "sun", {"status": "break"})
    assert resp.status_code == 409


def test_unknown_user_and_missing_token(client, tokens):
    assert put(client, tokens["boss"], "nobody", {"status": "available"}).status_code == 404
    assert client.put("/api/agents/wang/presence", json={"status": "break"}).status_code == 401


def test_queue_figures(app, client, tokens):
    put(client, tokens["wang"], "wang", {"status": "available"})
    join_queue(app, "CA" + "1" * 32, ago=7)
    resp = client.get("/api/queues/agents", headers={"Authorization": f"Bearer {tokens['boss']}"})
    assert resp.status_code == 200
    body = resp.json
    assert (body["waiting"], body["agents"]["available"], body["agents"]["offline"]) == (1, 1, 1)
    assert body["longest_wait_seconds"] >= 7
    today = body["today"]
    assert (today["offered"], today["answered"], today["abandoned"]) == (1, 0, 0)
    assert today["connection_rate"] is None  # nobody's wait has ended yet
    assert {"answered_within_15s_rate", "asa_seconds"} <= set(today)
