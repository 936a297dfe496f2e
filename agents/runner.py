"""The distributor process: `flask agents run` (and `flask agents simulate N`).

Any number may run at once (claims are atomic, see agents.distribution); one is
enough. scripts/run starts one beside the web server: distribution needs a loop
that wakes every quarter second, which a web worker (serving requests, possibly
several per host) should not carry, and it shares nothing with the callback
scheduler's lease, so a scheduler failover never pauses answering.
"""

from __future__ import annotations

import logging

from agents import simulated
from agents.distribution import DISPATCH_INTERVAL_SECONDS, Distributor
from core.config import value
from core.db import get_db
from core.stopping import StopOnSignal
from simulator.port import SimulatorPort
from telephony.ports import make_port

log = logging.getLogger(__name__)


def build(app, *, handle_seconds: float | None = None, real_time_talk: bool = True) -> Distributor:
    """A distributor on the app's database and telephony port."""
    cfg = app.config
    db = get_db(app)
    if cfg.get("TELEPHONY") == "simulator":
        handle = handle_seconds if handle_seconds is not None else cfg["SIMULATED_HANDLE_SECONDS"]
        port = SimulatorPort.from_config(cfg)
        port.callee_for = simulated.callee_for(
            cfg.get("SIMULATOR_CALLEE") or "answer:1", float(handle)
        )
        port.switch = simulated.DbQueueSwitch(db, real_time_talk=real_time_talk)
    else:
        port = make_port(cfg)
    return Distributor(
        db,
        port,
        base_url=cfg["PUBLIC_BASE_URL"],
        ring_seconds=int(cfg["AGENT_RING_SECONDS"]),
        caller_id=cfg.get("TWILIO_CALLER_ID"),
    )


def run(app, *, simulated_agents: int = 0, handle_seconds: float | None = None) -> None:
    """Distribute until SIGTERM/SIGINT."""
    count = simulated_agents or value(app.config, "SIMULATED_AGENTS")
    if count and app.config.get("TELEPHONY") == "simulator":
        names = simulated.ensure_simulated_agents(get_db(app), count)
        log.info("%d simulated agents available: %s", len(names), ", ".join(names))
    distributor = build(app, handle_seconds=handle_seconds)
    stopper = StopOnSignal()
    log.info("agent distribution running (every %.2f s)", DISPATCH_INTERVAL_SECONDS)
    try:
        distributor.run_until(stopper.event)
    finally:
        distributor.port.close()
    stopper.exit_if_signalled()
