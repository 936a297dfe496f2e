"""Agents answer the line: presence, queue distribution, the agent desk and the wallboard.

Owns the agent tables (Alembic branch "agents"): agents and their queues, the
presence history, every caller's stay in a queue and every offer to an agent.
Callers enter and leave queues through the front door's signals (ivr.signals),
inside the caller's webhook transaction; the distributor process (`flask agents
run`) offers each waiting caller to the longest-idle available agent by placing
the agent leg through the telephony port; the agent leg's webhooks (agents.legs)
bridge, time and wrap up the call.

Pages (agents.pages): the agent desk, the supervisors' wallboard and call report,
and a section of the period report; JSON: presence and queue figures (agents.api);
/metrics for operations (agents.metrics); a health check that notices callers
waiting while agents are free (agents.health); simulated agents for simulator mode
(agents.simulated). Must not write other packages' tables: tickets are created and
resolved through tickets.service, users read through accounts.service.
"""

from __future__ import annotations


def init_app(app) -> None:
    from agents import api, cli, health, legs, metrics, pages, queueing

    app.register_blueprint(legs.bp)
    app.register_blueprint(api.bp)
    pages.init_app(app)
    metrics.init_app(app)
    health.init_app(app)
    from accounts.csrf import csrf

    csrf.exempt(legs.bp)  # signed by Twilio instead
    queueing.connect(app)
    app.cli.add_command(cli.agents_cli)
    if app.config.get("TELEPHONY") == "simulator":
        from agents.simulated import DbQueueSwitch
        from core.db import get_db

        # Stands in for Twilio's queues: simulated callers learn an agent took them.
        app.extensions["simulator.queue_switch"] = DbQueueSwitch(get_db(app), app=app)
