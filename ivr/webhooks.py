"""Twilio-facing routes of the voice front door (filled in below)."""

from __future__ import annotations


def init_app(app) -> None:
    from ivr import flows_cli

    flows_cli.init_app(app)
