"""`flask agents ...`: the distributor process, simulated agents, and agent setup."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from accounts.service import get_user
from agents import presence, runner, stats
from agents.presence import PresenceError
from core.db import get_db

agents_cli = AppGroup("agents", help="Agents, presence and queue distribution.")


@agents_cli.command("run")
def run() -> None:
    """Offer queued callers to agents (the distributor process; more than one is safe)."""
    runner.run(current_app._get_current_object())


@agents_cli.command("simulate")
@click.argument("count", type=click.IntRange(1, 500))
@click.option("--handle-time", type=click.FloatRange(0), default=None, help="Talk seconds.")
def simulate(count: int, handle_time: float | None) -> None:
    """Simulator mode: COUNT simulated agents answer queued callers (runs the distributor)."""
    if current_app.config.get("TELEPHONY") != "simulator":
        raise click.UsageError("simulated agents need TELEPHONY=simulator")
    runner.run(
        current_app._get_current_object(), simulated_agents=count, handle_seconds=handle_time
    )


@agents_cli.command("set")
@click.argument("username")
@click.option("--device", help="+E.164 number, sip:user@host or client:NAME.")
@click.option("--queues", help="Comma-separated queues the agent answers (default: agents).")
@click.option("--status", type=click.Choice(presence.CHOOSABLE))
def set_agent(username: str, device, queues, status) -> None:
    """Give a user with the agent role a device, queues and a status."""
    with get_db().session() as s:
        user = get_user(s, username)
        if user is None or user.role not in ("agent", "supervisor"):
            raise click.UsageError(f"no agent or supervisor user {username!r}")
        agent = presence.ensure_agent(s, user.username)
        try:
            if queues:
                presence.set_queues(agent, [q.strip() for q in queues.split(",") if q.strip()])
            if device or status:
                presence.choose(
                    s,
                    agent,
                    status,
                    device=device,
                    actor="cli",
                    simulator=current_app.config.get("TELEPHONY") == "simulator",
                )
        except PresenceError as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(
            f"{agent.username}: {agent.status}, {agent.device}, {','.join(agent.queue_names)}"
        )


@agents_cli.command("list")
def list_agents() -> None:
    """Every agent: status, how long, queues."""
    with get_db().session() as s:
        for row in stats.agents_board(s):
            reason = f" ({row['reason']})" if row["reason"] else ""
            click.echo(
                f"{row['username']:<20} {row['status']:<10}{reason} "
                f"{row['seconds_in_status']:>6} s  {','.join(row['queues'])}"
            )
