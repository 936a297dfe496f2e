"""Supervisor pages for tickets (blueprint "tickets_pages"): list (+CSV), new ticket,
ticket page (recording, transcript, history, dispatch/start/resolve/return/classify/
close/reopen), department inbox, KB search and the period report (+CSV, print). HTML
only; the JSON API is tickets.api. The dashboard, which adds the phone line's notices,
is a console page (console.dashboard).

Who may do what is in `access` (one tuple of roles per action).

Built on tickets.service/kb/routing (and reports/surges when present); reads no
other package's tables except through their functions. Every route is guarded by
accounts.role_required, and department users only ever see their own department's
tickets (`access.load_ticket`, `access.scope_filter`).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tickets_pages", __name__)


def init_app(app) -> None:
    from tickets.pages import (  # noqa: F401  (modules that add routes to bp)
        kb_views,
        new_ticket,
        report,
        ticket_views,
    )
    from tickets.pages.history import event_lines
    from tickets.pages.labels import register_filters

    register_filters(app)
    app.jinja_env.filters["event_lines"] = event_lines
    app.register_blueprint(bp)
