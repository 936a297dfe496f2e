"""The planning page and its CSV export: roles, an empty history, a filled one."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from accounts_support import login, make_user
from test_planning_cli import _csv

from tickets.service import local_today


def test_only_supervisors_see_planning(app, client):
    make_user(app, "agent1", "agent")
    assert "/login" in client.get("/planning/").headers["Location"]
    login(client, "agent1")
    assert client.get("/planning/").status_code == 403
    assert client.get("/planning/forecast.csv").status_code == 403


def test_empty_history_gives_a_clear_message(app, client):
    make_user(app, "boss", "supervisor")
    login(client, "boss")
    page = client.get("/planning/")
    assert page.status_code == 200
    assert "No call history yet" in page.get_data(as_text=True)
    assert client.get("/planning/forecast.csv").status_code == 409


def test_page_and_csv_with_history(app, client, tmp_path):
    make_user(app, "boss", "supervisor")
    assert (
        app.test_cli_runner().invoke(args=["planning", "import", str(_csv(tmp_path))]).exit_code
        == 0
    )
    login(client, "boss")
    day = (local_today() + timedelta(days=2)).isoformat()
    html = client.get(f"/planning/?days=7&day={day}").get_data(as_text=True)
    assert f"{day} 每半小时" in html
    assert html.count('<svg class="chart"') == 2
    assert "建议班次" in html and "计划与实际" in html
    export = client.get("/planning/forecast.csv?days=2")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 96
    assert int(rows[20]["rostered"]) >= int(rows[20]["scheduled"]) >= int(rows[20]["agents"])
