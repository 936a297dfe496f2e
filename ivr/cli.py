"""App-wide CLI: `flask db upgrade|current` and `flask config show`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from core import migrate
from core.config import ROOT, SETTINGS

db_cli = AppGroup("db", help="Database schema (Alembic).")
config_cli = AppGroup("config", help="Configuration.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the latest schema (every package's migrations)."""
    url = current_app.config["DATABASE_URL"]
    migrate.upgrade(url)
    click.echo(f"database at {', '.join(sorted(migrate.current_heads(url)))}")


@db_cli.command("current")
def db_current() -> None:
    """Show the schema revisions the database is at."""
    url = current_app.config["DATABASE_URL"]
    heads = migrate.current_heads(url)
    pending = migrate.latest_heads() - heads
    click.echo(f"current: {', '.join(sorted(heads)) or '(empty)'}")
    click.echo(f"pending: {', '.join(sorted(pending)) or 'none'}")


@config_cli.command("show")
@click.option("--markdown", is_flag=True, help="Print the README table of settings.")
def config_show(markdown: bool) -> None:
    """Print every setting with its value (secrets hidden) or as a Markdown table."""
    if markdown:
        click.echo("| Variable | Default | Meaning |\n|---|---|---|")
        for s in SETTINGS:
            default = (
                "(random, kept in `var/`)"
                if s.secret and s.default is None
                else (f"`{s.default.replace(str(ROOT), '<repo>')}`" if s.default else "(unset)")
            )
            click.echo(f"| `{s.name}` | {default} | {s.help} |")
        return
    for s in SETTINGS:
        value = current_app.config.get(s.name)
        click.echo(f"{s.name}={'***' if s.secret and value else value}")


def init_app(app) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(config_cli)
