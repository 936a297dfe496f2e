"""Departments act on voice tickets: the 诉求摘要 agents write, recordings for departments
behind DEPARTMENT_RECORDINGS with every play audited, readable history, and times on the
pages and in the CSV in the hotline's time zone (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from accounts_support import csrf_token, login
from pages_support import populate
from sqlalchemy import select

from core.db import get_db
from tickets.models import Ticket, TicketEvent
from tickets.service import find_by_number

pytestmark = pytest.mark.store
SUMMARY = "东营区某小区暖气不热，室温15度，请住建部门派人检修。"


@pytest.fixture
def site(store_app):
    numbers = populate(store_app, recordings_dir=Path(store_app.config["RECORDINGS_DIR"]))
    return store_app, numbers


def client_as(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def post(client, path, **data):
    data["csrf_token"] = csrf_token(client, "/account")
    return client.post(path, data=data)


def plays(app, number: str) -> list[str]:
    with app.app_context(), get_db(app).session() as s:
        ticket = find_by_number(s, number)
        return list(
            s.scalars(
                select(TicketEvent.actor).where(
                    TicketEvent.ticket_id == ticket.id, TicketEvent.action == "recording_played"
                )
            )
        )


def test_agent_writes_the_summary_the_department_works_from(site):
    app, n = site
    agent, housing = client_as(app, "agent1"), client_as(app, "housing1")
    assert agent.post(f"/tickets/{n['heat']}/summary", data={"summary": SUMMARY}).status_code == 400
    assert post(housing, f"/tickets/{n['heat']}/summary", summary="x").status_code == 403
    assert post(agent, f"/tickets/{n['heat']}/summary", summary=SUMMARY).status_code == 302
    page = housing.get(f"/tickets/{n['heat']}").get_data(as_text=True)
    assert "诉求摘要 <small>Summary" in page and SUMMARY[:20] in page
    assert 'name="summary"' not in page  # departments read it, agents write it
    history = agent.get(f"/tickets/{n['heat']}").get_data(as_text=True)
    assert f"诉求摘要：— → {SUMMARY[:20]}" in history
    assert (
        client_as(app, "agent1").get("/api/tickets/" + n["heat"]).get_json()["summary"] == SUMMARY
    )


def test_history_reads_as_words_not_dictionaries(site):
    app, n = site
    boss = client_as(app, "boss")
    assert post(boss, f"/tickets/{n['fund']}/classify", demand_type="complaint").status_code == 302
    page = boss.get(f"/tickets/{n['fund']}").get_data(as_text=True)
    assert "类型：咨询求助 → 投诉举报" in page
    assert "{&#39;from&#39;" not in page and "{'from'" not in page
    assert "渠道：微信" in page  # the creation event's channel, by name


def test_department_recordings_behind_the_setting_and_every_play_audited(site):
    app, n = site
    housing, ecology = client_as(app, "housing1"), client_as(app, "ecology1")
    assert housing.get(f"/tickets/{n['heat']}/recording").status_code == 403
    app.config["DEPARTMENT_RECORDINGS"] = "yes"
    page = housing.get(f"/tickets/{n['heat']}").get_data(as_text=True)
    assert 'preload="none"' in page  # opening the page is not a play
    with housing.get(f"/tickets/{n['heat']}/recording") as played:
        assert played.status_code == 200 and played.data[:4] == b"RIFF"
    assert ecology.get(f"/tickets/{n['heat']}/recording").status_code == 404  # not theirs
    with housing.get(f"/tickets/{n['heat']}/recording", headers={"Range": "bytes=4000-"}) as more:
        assert more.status_code == 206  # the same play, seeking: not a new entry
    with client_as(app, "agent1").get(
        f"/tickets/{n['heat']}/recording", headers={"Range": "bytes=0-"}
    ) as again:
        assert again.status_code == 206
    assert plays(app, n["heat"]) == ["housing1", "agent1"]
    page = housing.get(f"/tickets/{n['heat']}").get_data(as_text=True)
    assert "播放录音 recording played" in page


def test_times_in_the_hotline_time_zone_on_pages_and_csv(site):
    app, n = site
    moment = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 01:30 on 1 December in Shanghai
    with app.app_context(), get_db(app).session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == n["heat"]))
        ticket.created_at = moment
    boss = client_as(app, "boss")
    assert "2026-12-01 01:30" in boss.get(f"/tickets/{n['heat']}").get_data(as_text=True)
    text = boss.get("/tickets/export.csv?topic=heating").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    row = next(r for r in rows if r["number"] == n["heat"])
    assert row["created_at"] == "2026-12-01 01:30:00"
    assert "summary" in rows[0]
