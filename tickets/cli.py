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
    click.echo(f"seeded {result.departments} departments, {result.topics} topics, "
               f"{result.articles} articles")


def init_app(app) -> None:
    app.cli.add_command(tickets_cli)
