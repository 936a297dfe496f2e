"""Content: the supervisor editors of what callers hear and where tickets go.

Pages, API routes and CLI commands over the holiday calendar (core.calendar_store), the
knowledge base (tickets.kb) and the classification rules and routing table
(tickets.rulebook). The stores and their rules live in those packages; this package only
validates requests, checks roles and CSRF (accounts), and renders.
"""

from __future__ import annotations


def init_app(app) -> None:
    from content import calendar_cli, calendar_views, kb_api, kb_views, rules_views

    app.register_blueprint(kb_views.bp)
    app.register_blueprint(rules_views.bp)
    app.register_blueprint(kb_api.api)
    app.register_blueprint(calendar_views.bp)
    app.register_blueprint(calendar_views.api)
    app.cli.add_command(calendar_cli.calendar_cli)
