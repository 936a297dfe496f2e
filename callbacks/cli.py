"""`flask callbacks ...`: the scheduler process, the pause switch, the do-not-call list."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from callbacks import models as m
from callbacks import service
from callbacks.dnc import import_numbers
from core.db import get_db

callbacks_cli = AppGroup("callbacks", help="Satisfaction surveys and return calls.")


@callbacks_cli.command("run")
@click.option("--holder", default=None, help="Name of this process in the lease (host:pid).")
def run(holder: str | None) -> None:
    """Run the scheduler process (one active per database; others stand by)."""
    from callbacks.scheduler import CallbackScheduler

    scheduler = CallbackScheduler(current_app._get_current_object(), holder=holder)
    scheduler.run()
    scheduler.stopper.exit_if_signalled()


@callbacks_cli.command("pause")
def pause() -> None:
    """Stop all outgoing calls at once."""
    with get_db().session() as s:
        service.set_paused(s, True, actor="cli")
    click.echo("outgoing calls paused")


@callbacks_cli.command("resume")
def resume() -> None:
    """Resume outgoing calls."""
    with get_db().session() as s:
        service.set_paused(s, False, actor="cli")
    click.echo("outgoing calls resumed")


@callbacks_cli.command("dnc-import")
@click.argument("path", type=click.File("r", encoding="utf-8-sig"))
def dnc_import(path) -> None:
    """Add the numbers in a text or CSV file (first column) to the do-not-call list."""
    with get_db().session() as s:
        added, bad = import_numbers(s, path.read(), actor="cli")
    click.echo(f"{added} numbers added; {len(bad)} lines not understood")
    for line in bad[:20]:
        click.echo(f"  not a number: {line!r}", err=True)


@callbacks_cli.command("status")
def status() -> None:
    """Counts of attempts by state, and the pause switch."""
    from sqlalchemy import func, select

    with get_db().session() as s:
        rows = s.execute(
            select(m.CallbackAttempt.state, func.count()).group_by(m.CallbackAttempt.state)
        ).all()
        paused = service.is_paused(s)
    for state, count in sorted(rows):
        click.echo(f"{state}: {count}")
    click.echo(f"paused: {'yes' if paused else 'no'}")
