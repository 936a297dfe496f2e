"""`flask tickets ...`: look up tickets from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.db import get_db
from tickets import service

tickets_cli = AppGroup("tickets", help="Tickets, taxonomy and knowledge base.")


@tickets_cli.command("show")
@click.argument("number")
def show(number: str) -> None:
    """Print a ticket's status and history."""
    with get_db().session() as s:
        ticket = service.find_by_number(s, number)
        if ticket is None:
            raise click.ClickException(f"no ticket {number}")
        click.echo(f"{ticket.number} {ticket.status} {ticket.channel} due {ticket.due_date}")
        for event in ticket.events:
            change = f" {event.from_status or ''}->{event.to_status}" if event.to_status else ""
            click.echo(f"  {event.at:%Y-%m-%d %H:%M} {event.actor} {event.action}{change}")


@tickets_cli.command("seed")
def seed_command() -> None:
    """Load departments, topics and knowledge-base articles (safe to run again)."""
    from tickets.seed import seed

    with get_db().session() as s:
        result = seed(s)
    click.echo(
        f"seeded {result.departments} departments, {result.topics} topics, "
        f"{result.articles} articles"
    )


@tickets_cli.command("classify")
@click.argument("text")
@click.option("--district", default=None, help="District, for district-specific routing.")
def classify_command(text: str, district: str | None) -> None:
    """Show what rules.yaml and routing.yaml suggest for a request (to test rule edits)."""
    from tickets.classify import classify

    suggestion = classify(text, district)
    click.echo(
        f"demand type: {suggestion.demand_type}\ntopic: {suggestion.topic}\n"
        f"department: {suggestion.department}"
    )
    for field, scores in suggestion.scores.items():
        top = sorted(((v, k) for k, v in scores.items() if v), reverse=True)[:3]
        click.echo(f"  {field} scores: " + (", ".join(f"{k} {v:g}" for v, k in top) or "none"))


@tickets_cli.command("purge")
def purge_command() -> None:
    """Delete recordings and transcripts older than RETENTION_DAYS (tickets stay)."""
    from flask import current_app

    from tickets.retention import scheduled_purge

    result = scheduled_purge(current_app._get_current_object())
    click.echo(f"purged media of {result.tickets} tickets ({result.files_deleted} files)")


@tickets_cli.command("surges")
def surges_command() -> None:
    """Print current surges (topic and district well above their baseline)."""
    from flask import current_app

    from tickets import surges

    with get_db().session() as s:
        alerts = surges.detect(s, surges.Thresholds.from_config(current_app.config))
    for a in alerts:
        click.echo(
            f"{a.topic_name or a.topic} {a.district or '-'}: {a.count} "
            f"(baseline {a.baseline}/window, x{a.ratio}) {' '.join(a.ticket_numbers[:10])}"
        )
    if not alerts:
        click.echo("no surges")


@tickets_cli.command("report")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--csv", "as_csv", is_flag=True, help="Print the report as CSV.")
def report_command(start, end, as_csv: bool) -> None:
    """The period report (total, growth, channels, demand types, top topics)."""
    from tickets import reports

    with get_db().session() as s:
        r = reports.period_report(s, start.date(), end.date())
    if as_csv:
        click.echo(reports.report_csv(r).lstrip("\ufeff"), nl=False)
        return
    click.echo(
        f"{r.start} - {r.end}: {r.total} tickets (previous period {r.previous_total}, "
        f"growth {r.growth_pct}%)"
    )
    click.echo("channels: " + ", ".join(f"{k} {v}" for k, v in r.channels.items()))
    click.echo("demand types %: " + ", ".join(f"{k} {v}" for k, v in r.demand_type_pct.items()))
    click.echo("top topics: " + ", ".join(f"{name} {n}" for _, name, n in r.top_topics))
    click.echo(
        f"workday daily average: {r.workday_avg_start} at the start, {r.workday_avg_end} at the end"
    )


def init_app(app) -> None:
    app.cli.add_command(tickets_cli)
