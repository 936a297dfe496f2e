"""`flask calendar show YEAR | set DATE holiday|workday [--name 元旦] | clear DATE`."""

from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup

from core import calendar, calendar_store
from core.calendar_store import CalendarEntryError
from core.db import get_db

calendar_cli = AppGroup("calendar", help="Holidays and adjusted workdays (调休) of the hotline.")
WEEKDAYS = "一二三四五六日"
CLI_ACTOR = "cli"


@calendar_cli.command("show")
@click.argument("year", type=int, required=False)
def show(year: int | None) -> None:
    """Print the year's holidays, adjusted workdays and the office's entries."""
    year = year or calendar_store.today(current_app).year
    known = calendar.arrangement_known(year)
    click.echo(
        f"{year}: " + ("调休安排已知 arrangement known" if known else "调休安排未录入 NOT ENTERED")
    )
    for info in calendar.year_days(year):
        mark = "*" if info.source == "override" else " "
        click.echo(
            f"{mark} {info.day.isoformat()} 周{WEEKDAYS[info.day.weekday()]} "
            f"{'上班 workday' if info.workday else '休息 holiday'}"
            f"{' ' + info.name if info.name else ''}  ({info.source})"
        )
    click.echo("* entered by the office")


@calendar_cli.command("set")
@click.argument("day")
@click.argument("kind", type=click.Choice(calendar.KINDS))
@click.option("--name", default=None, help="Name of the holiday, e.g. 元旦")
@click.option("--until", default=None, help="Last day (YYYY-MM-DD) of a period, e.g. 春节")
def set_day(day: str, kind: str, name: str | None, until: str | None) -> None:
    """Declare DATE (YYYY-MM-DD), or DATE to --until, a holiday or a workday; it wins over the
    libraries."""
    try:
        parsed, kind, name = calendar_store.parse_entry(day, kind, name)
        days = calendar_store.parse_range(parsed, until)
    except CalendarEntryError as exc:
        raise click.UsageError(str(exc)) from exc
    with get_db().session() as s:
        for one in days:
            calendar_store.set_day(s, one, kind, name=name, actor=CLI_ACTOR)
    calendar_store.source(current_app).invalidate()
    for one in days:
        click.echo(f"{one}: {kind}{' ' + name if name else ''}")


@calendar_cli.command("clear")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def clear(day) -> None:
    """Remove the office's entry for DATE (the libraries decide again)."""
    parsed: date = day.date()
    with get_db().session() as s:
        removed = calendar_store.clear_day(s, parsed, actor=CLI_ACTOR)
    calendar_store.source(current_app).invalidate()
    click.echo(f"{parsed}: " + ("entry removed" if removed else "no entry"))
