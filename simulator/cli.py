"""`flask ivr call`: the terminal phone (filled in below)."""

from __future__ import annotations

from flask.cli import AppGroup

ivr_cli = AppGroup("ivr", help="Call simulator.")


def init_app(app) -> None:
    app.cli.add_command(ivr_cli)
