"""`flask planning …` end to end on a real database."""

from __future__ import annotations

import json
from datetime import timedelta

from core import calendar as core_calendar
from planning import synthetic
from planning.forecast import Calendar
from tickets.service import local_today

CAL = Calendar(core_calendar.is_workday, core_calendar.holiday_name)


def _csv(tmp_path, days: int = 60):
    first = local_today() - timedelta(days=days)
    # The seed's 43 % a year, not its two-year 1,400 → 2,400 squeezed into a few weeks.
    shape = synthetic.Shape(surges=0, end_level=1400 * 1.43 ** (days / 365))
    slots, _ = synthetic.history(CAL, first, days, shape)
    path = tmp_path / "calls.csv"
    path.write_text(synthetic.to_csv(slots), encoding="utf-8")
    return path


def test_erlang_json_gives_the_staffing_figures(app):
    result = app.test_cli_runner().invoke(
        args=[
            "planning",
            "erlang",
            "--calls",
            "100",
            "--aht",
            "180",
            "--answer-within",
            "20",
            "--target",
            "0.8",
            "--shrinkage",
            "0.3",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["agents"], data["scheduled"]) == (14, 20)
    assert round(data["service_level"], 3) == 0.888
    assert round(data["asa_seconds"], 1) == 7.8
    assert round(data["occupancy"], 3) == 0.714


def test_erlang_text_and_bad_input(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["planning", "erlang", "--calls", "100", "--aht", "180"])
    assert ok.exit_code == 0 and "agents on the phones" in ok.output
    bad = runner.invoke(args=["planning", "erlang", "--calls", "100", "--aht", "0"])
    assert bad.exit_code == 2 and "handle time must be more than 0" in bad.output


def test_forecast_without_history_says_so(app):
    result = app.test_cli_runner().invoke(args=["planning", "forecast"])
    assert result.exit_code == 1
    assert "No call history yet" in result.output


def test_import_then_forecast_and_rota(app, tmp_path):
    runner = app.test_cli_runner()
    imported = runner.invoke(args=["planning", "import", str(_csv(tmp_path))])
    assert imported.exit_code == 0, imported.output
    assert "imported 2880 half hours" in imported.output
    result = runner.invoke(args=["planning", "forecast", "--days", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["date"] for d in data["days"]] == [
        (local_today() + timedelta(days=i)).isoformat() for i in range(1, 4)
    ]
    assert len(data["slots"]) == 3 * 48
    for slot in data["slots"]:
        assert slot["low"] <= slot["calls"] <= slot["high"]
        assert slot["rostered"] >= slot["scheduled"] >= slot["agents"] >= 0
    assert data["aht_seconds"] == 240 and data["aht_source"] == "records"
    text = runner.invoke(args=["planning", "forecast", "--days", "2"])
    assert text.exit_code == 0 and "trained on 60 days" in text.output
    rota = runner.invoke(args=["planning", "rota", "--days", "2"])
    assert rota.exit_code == 0 and "agent-shifts" in rota.output


def test_import_with_bad_rows_imports_nothing_unless_asked(app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("start,offered\n2026-11-01 08:00,5\n2026-11-01 08:30,x\n", encoding="utf-8")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["planning", "import", str(path)])
    assert refused.exit_code == 1
    assert f"{path}:3: offered 'x' is not a whole number" in refused.output
    assert "nothing imported" in refused.output
    partial = runner.invoke(args=["planning", "import", "--skip-bad", str(path)])
    assert (
        partial.exit_code == 0 and "imported 1 half hours, skipped 1 bad row(s)" in partial.output
    )
