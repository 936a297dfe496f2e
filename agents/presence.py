"""Agents' presence: who may take calls now, on which device, and the history of changes.

Every change goes through `change_status`, which writes the history row and
bumps the agent's version; the distributor's claim (`distribution.claim`) only
succeeds on the version it read, so a change made by the desk or the API while
the distributor decides is never overwritten.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents import models as m
from core.db import utcnow

SYSTEM = "system"
# Statuses an agent or supervisor may choose; the others follow the calls.
CHOOSABLE = (m.AVAILABLE, m.BREAK, m.OFFLINE)
BUSY = (m.OFFERED, m.ON_CALL)
NOT_RESPONDING = "not responding"
DEFAULT_QUEUE = "agents"

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SIP_URI = re.compile(r"^sips?:[^@\s]+@[A-Za-z0-9.\-]+(:\d+)?(;[^\s]*)?$")
CLIENT = re.compile(r"^client:[A-Za-z0-9_.\-]{1,64}$")
SIMULATED = re.compile(r"^sim:[A-Za-z0-9_.\-]{1,64}$")
QUEUE_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class PresenceError(ValueError):
    """A presence change was refused; `errors` maps a field to what is wrong with it."""

    def __init__(self, errors: dict[str, str], status: int = 400):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        self.status = status


def check_device(device: str, *, simulator: bool) -> str | None:
    """What is wrong with a device address, or None when it can be dialled."""
    if E164.match(device) or SIP_URI.match(device) or CLIENT.match(device):
        return None
    if SIMULATED.match(device):
        return None if simulator else "sim: devices exist only in simulator mode"
    return (
        "expected a phone number in E.164 (+8653112345678), a SIP URI (sip:1001@pbx.example.cn) "
        "or a softphone client:NAME"
    )


def get_agent(s: Session, username: str) -> m.Agent | None:
    return s.scalar(select(m.Agent).where(m.Agent.username == username))


def ensure_agent(
    s: Session, username: str, *, device: str | None = None, queues: list[str] | None = None
) -> m.Agent:
    """The agent row of a user, created offline in the default queue on first use."""
    agent = get_agent(s, username)
    if agent is None:
        agent = m.Agent(
            username=username,
            device=device,
            status=m.OFFLINE,
            status_since=utcnow(),
            version=0,
        )
        agent.queues = [m.AgentQueue(queue=q) for q in (queues or [DEFAULT_QUEUE])]
        s.add(agent)
        s.flush()
    else:
        if device is not None:
            agent.device = device
        if queues is not None:
            set_queues(agent, queues)
    return agent


def set_queues(agent: m.Agent, queues: list[str]) -> None:
    bad = [q for q in queues if not QUEUE_NAME.match(q)]
    if bad or not queues:
        raise PresenceError({"queues": "one or more queue names (letters, digits, '-', '_')"})
    keep = {q.queue for q in agent.queues if q.queue in queues}
    agent.queues = [q for q in agent.queues if q.queue in keep] + [
        m.AgentQueue(queue=q) for q in dict.fromkeys(queues) if q not in keep
    ]


def change_status(
    s: Session,
    agent: m.Agent,
    to: str,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
    wrap_up_seconds: int | None = None,
    expect: tuple[str, ...] | None = None,
) -> bool:
    """Move the agent to `to`, writing history; False if it was no longer in `expect`.

    A conditional UPDATE on the version read, so two processes changing one agent
    at once cannot both win (the loser re-reads and decides again)."""
    now = now or utcnow()
    if expect is not None and agent.status not in expect:
        return False
    before, version = agent.status, agent.version
    values = {
        "status": to,
        "reason": reason,
        "status_since": now,
        "version": version + 1,
        "wrap_up_until": None,
    }
    if to == m.AVAILABLE and before != m.AVAILABLE:
        values["idle_since"] = now
    if to == m.WRAP_UP:
        values["wrap_up_until"] = now + timedelta(seconds=wrap_up_seconds or 0)
    done = s.execute(
        update(m.Agent)
        .where(m.Agent.id == agent.id, m.Agent.version == version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        s.refresh(agent)
        return False
    for key, value in values.items():
        setattr(agent, key, value)
    s.add(
        m.PresenceChange(
            username=agent.username,
            at=now,
            from_status=before,
            to_status=to,
            actor=actor,
            reason=reason,
        )
    )
    return True


def choose(
    s: Session,
    agent: m.Agent,
    status: str | None,
    *,
    device: str | None,
    actor: str,
    simulator: bool,
    now: datetime | None = None,
) -> m.Agent:
    """An agent's (or supervisor's) request from the desk or the API; PresenceError if refused."""
    errors = {}
    if status is not None and status not in CHOOSABLE:
        if status in m.STATUSES:
            errors["status"] = f"'{status}' follows the calls; choose one of {', '.join(CHOOSABLE)}"
        else:
            errors["status"] = f"unknown status {status!r}; one of {', '.join(CHOOSABLE)}"
    if device is not None:
        problem = check_device(device, simulator=simulator)
        if problem:
            errors["device"] = problem
    if status is None and device is None:
        errors["status"] = "give a status, a device, or both"
    if not errors and status == m.AVAILABLE and not (device or agent.device):
        errors["device"] = "no device to ring: give a phone number, SIP URI or client:NAME"
    if errors:
        raise PresenceError(errors)
    if device is not None:
        agent.device = device
    if status is not None and status != agent.status:
        if agent.status in BUSY:
            raise PresenceError({"status": f"on a call ({agent.status}): change after it"}, 409)
        if not change_status(s, agent, status, actor=actor, now=now):
            raise PresenceError({"status": "changed meanwhile by another request; try again"}, 409)
    return agent


def history(s: Session, username: str, limit: int = 50) -> list[m.PresenceChange]:
    return list(
        s.scalars(
            select(m.PresenceChange)
            .where(m.PresenceChange.username == username)
            .order_by(m.PresenceChange.at.desc(), m.PresenceChange.id.desc())
            .limit(limit)
        )
    )
