"""Shift planning: call-volume forecast, agents needed per half hour, and a rota.

Owns the imported history table (`planning_history`), the forecast (statsmodels), Erlang C
staffing, the shift plan (PuLP), `flask planning …` and the supervisor page `/planning/`.
Reads call records and phone tickets (read-only) and the hotline calendar; writes nothing
but its own table.
"""

from __future__ import annotations


def init_app(app) -> None:
    from planning import cli, pages

    app.register_blueprint(pages.bp)
    app.cli.add_command(cli.planning_cli)
