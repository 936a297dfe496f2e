"""`flask planning …`: import history, forecast, Erlang C staffing and the rota."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from core.db import get_db
from planning import erlang, importer, service
from planning.forecast import ForecastError
from planning.staffing import PlanError
from tickets.service import local_today

planning_cli = AppGroup("planning", help="Call-volume forecast, agents needed and shift plans.")


def _settings() -> service.Settings:
    return service.Settings.from_config(current_app.config)


@planning_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some are bad.")
def import_history(path: str, skip_bad: bool) -> None:
    """Import half-hour call history from a CSV file (see planning/importer.py)."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        text = f.read()
    try:
        rows, errors = importer.parse(text, _settings().tz)
    except importer.ImportFileError as exc:
        click.echo(f"{path}:{exc}", err=True)
        sys.exit(1)
    for e in errors:
        click.echo(f"{path}:{e.line}: {e.message}", err=True)
    if errors and not skip_bad:
        click.echo(
            f"{len(errors)} bad row(s): nothing imported (use --skip-bad to import the rest)",
            err=True,
        )
        sys.exit(1)
    with get_db().session() as s:
        n = importer.save(s, rows)
    click.echo(
        f"imported {n} half hours" + (f", skipped {len(errors)} bad row(s)" if errors else "")
    )


@planning_cli.command("erlang")
@click.option("--calls", type=float, required=True, help="Calls offered in the interval.")
@click.option("--aht", type=float, required=True, help="Average handle time (seconds).")
@click.option("--interval", type=int, default=1800, show_default=True, help="Seconds.")
@click.option("--answer-within", type=float, default=15, show_default=True, help="Seconds.")
@click.option("--target", type=float, default=0.8, show_default=True, help="Share, e.g. 0.8.")
@click.option(
    "--shrinkage", type=float, default=0.0, show_default=True, help="Share off the phones."
)
@click.option(
    "--max-occupancy", type=float, default=erlang.DEFAULT_MAX_OCCUPANCY, show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def erlang_cmd(calls, aht, interval, answer_within, target, shrinkage, max_occupancy, as_json):
    """Agents needed for one interval (Erlang C)."""
    try:
        st = erlang.agents_needed(
            calls,
            aht,
            interval_seconds=interval,
            answer_within=answer_within,
            target=target,
            shrinkage=shrinkage,
            max_occupancy=max_occupancy,
        )
    except erlang.StaffingError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(st.as_dict(), ensure_ascii=False))
        return
    click.echo(
        f"{st.agents} agents on the phones ({st.scheduled} rostered with {shrinkage:.0%} shrinkage)\n"
        f"service level {st.service_level:.1%} within {answer_within:g} s "
        f"(target {target:.0%}), ASA {st.asa_seconds:.1f} s, occupancy {st.occupancy:.1%}, "
        f"traffic {st.traffic:.2f} Erlangs"
    )


def _plan(days: int) -> service.Plan:
    first = local_today() + timedelta(days=1)
    with get_db().session() as s:
        try:
            return service.build(s, _settings(), first, days)
        except (ForecastError, PlanError) as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)


@planning_cli.command("forecast")
@click.option("--days", type=click.IntRange(1, 62), default=14, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Days, half hours and agents as JSON.")
def forecast_cmd(days: int, as_json: bool) -> None:
    """Calls per day and per half hour from tomorrow on, with agents needed."""
    plan = _plan(days)
    fc = plan.forecast
    if as_json:
        click.echo(json.dumps(service.as_data(plan), ensure_ascii=False))
        return
    click.echo(
        f"trained on {fc.trained_days} days ({', '.join(fc.terms) or 'day kinds only'}); "
        f"left out {len(fc.excluded)} surge/outlier day(s); {fc.level:.0%} intervals; "
        f"handle time {plan.target.aht_seconds:.0f} s from {plan.aht_source}"
    )
    by_day = {}
    for need in plan.needs:
        by_day.setdefault(need.start.date(), []).append(need)
    for day in fc.days:
        peak = max(by_day[day.day], key=lambda n: n.calls)
        click.echo(
            f"{day.day} {day.kind:6} {day.calls:7.0f} calls ({day.low:.0f}–{day.high:.0f})  "
            f"peak {peak.start:%H:%M} {peak.calls:.0f} calls → {peak.staffing.agents} on phones, "
            f"{peak.staffing.scheduled} rostered"
        )


@planning_cli.command("rota")
@click.option("--days", type=click.IntRange(1, 62), default=14, show_default=True)
def rota_cmd(days: int) -> None:
    """The suggested shifts covering the agents needed."""
    plan = _plan(days)
    for shift in plan.rota.shifts:
        click.echo(
            f"{shift.start:%Y-%m-%d %H:%M} – {shift.end:%m-%d %H:%M}  {shift.agents:3d} agents"
        )
    click.echo(f"{plan.rota.agent_shifts} agent-shifts")
