"""`flask flows check [PATH]`: validate a flow file, print every error, exit non-zero."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ivr.flows import FlowError, load_flow

flows_cli = AppGroup("flows", help="Flow definitions (flows.yaml).")


@flows_cli.command("check")
@click.argument("path", required=False)
def check(path: str | None) -> None:
    """Validate PATH (default FLOWS_PATH); print each error as file:line path: message."""
    path = path or current_app.config["FLOWS_PATH"]
    try:
        flow = load_flow(path)
    except FlowError as exc:
        for issue in exc.errors:
            click.echo(str(issue), err=True)
        click.echo(f"{len(exc.errors)} error(s) in {path}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{path}: ok — flow '{flow.name}', {len(flow.nodes)} nodes, version {flow.version}")


def init_app(app) -> None:
    app.cli.add_command(flows_cli)
