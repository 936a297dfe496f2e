"""Tickets: citizens' requests from every channel, their life cycle and audit trail,
classification and routing, the knowledge base, the JSON API, reports, retention
and surge detection.

Owns the tables in tickets/models.py. Must not touch call records (ivr), speech
jobs or callback scheduling: those packages call tickets.service. Tickets import
none of them: a resolution is announced (tickets.signals.ticket_resolved, which
callbacks answers with the satisfaction survey) and transcripts arrive by speech's
signal.
"""

from __future__ import annotations


def init_app(app) -> None:
    """Register the /api/ blueprint and the `flask tickets` CLI."""
    from accounts import departments
    from core.health import register
    from tickets import api, cli, health, ruleset_source
    from tickets.departments import DepartmentDirectory

    ruleset_source.install(app)
    departments.install(app, DepartmentDirectory())
    cli.init_app(app)
    app.register_blueprint(api.bp)
    register(app, "tickets", health.check)
    from tickets import pages  # supervisor pages (HTML), tickets/pages/

    pages.init_app(app)
