"""Simulated agents for the embedded default (TELEPHONY=simulator).

`SIMULATED_AGENTS=N` (or `flask agents simulate N`) creates agents sim-agent-1…N
with devices `sim:agent-1`…, available in the default queue. The simulator port
answers their agent legs (`agent:SECONDS` callee): the agent phone dials the
queue, `DbQueueSwitch` hands it the caller at the head of the queue (Twilio's
job on a real line), the agent talks in real time, hangs up and wraps up. The
caller's simulated phone asks the same switch whether an agent took it, and the
browser's live line (studio.line) also who is talking with it and when either side
hangs up.
"""

from __future__ import annotations

import secrets
import time

from sqlalchemy import select

from accounts.service import create_user, get_user
from agents import models as m
from agents.distribution import STATUS_PATH
from agents.presence import SYSTEM, change_status, ensure_agent
from core.db import Database
from telephony.signature import sign

PREFIX = "sim-agent-"
SIM_DEVICE_PREFIX = "sim:agent-"
DESK_DEVICE = "sim:desk"  # the agent's own desk page is the phone (agents.pages.softphone)
# A waiting simulated caller checks this long (real time) per hold round for an agent.
ANSWER_POLL_SECONDS = 1.0
POLL_STEP_SECONDS = 0.05


def ensure_simulated_agents(db: Database, count: int) -> list[str]:
    """Create (or bring back) `count` simulated agents, available now."""
    names = []
    with db.session() as s:
        for i in range(1, count + 1):
            name = f"{PREFIX}{i}"
            if get_user(s, name) is None:
                create_user(
                    s,
                    name,
                    secrets.token_urlsafe(24),
                    role="agent",
                    display_name=f"模拟话务员 {i}",
                )
            agent = ensure_agent(s, name, device=f"{SIM_DEVICE_PREFIX}{i}")
            if agent.status in (m.OFFLINE, m.BREAK):
                change_status(s, agent, m.AVAILABLE, actor=SYSTEM)
            names.append(name)
    return names


def callee_for(default: str, handle_seconds: float):
    """The simulator port's callee spec: simulated agents answer; others as configured."""

    def spec(number: str) -> str:
        if number == DESK_DEVICE:
            return "desk"
        return f"agent:{handle_seconds:g}" if number.startswith(SIM_DEVICE_PREFIX) else default

    return spec


def report_leg(app, offer_id: int, leg_sid: str, status: str) -> None:
    """The agent leg's status callback (`status`: completed, busy...), signed as Twilio
    would send it: the leg a page or the switch plays ends the way a real one does."""
    cfg = app.config
    path = f"{STATUS_PATH}?offer={offer_id}"
    form = {"CallSid": leg_sid, "AccountSid": cfg["TWILIO_ACCOUNT_SID"], "CallStatus": status}
    app.test_client().post(
        path,
        data=form,
        headers={
            "X-Twilio-Signature": sign(
                cfg["PUBLIC_BASE_URL"] + path, form, cfg["TWILIO_AUTH_TOKEN"]
            )
        },
    )


class DbQueueSwitch:
    """simulator.phone.QueueSwitch over the queue rows: the head of a queue is its oldest
    caller an agent is being offered to (else the oldest waiting). With the app, a caller
    hanging up on an agent ends the agent's leg through its status callback."""

    def __init__(
        self, db: Database, *, real_time_talk: bool = True, poll=ANSWER_POLL_SECONDS, app=None
    ):
        self.db, self.real_time_talk, self.poll, self.app = db, real_time_talk, poll, app

    def dequeue(self, queue: str, agent_sid: str) -> str | None:
        with self.db.session() as s:
            for states in ((m.OFFERING,), (m.WAITING,)):
                sid = s.scalar(
                    select(m.QueueCall.call_sid)
                    .where(m.QueueCall.queue == queue, m.QueueCall.state.in_(states))
                    .order_by(m.QueueCall.entered_at, m.QueueCall.id)
                    .limit(1)
                )
                if sid:
                    return sid
        return None

    def answered(self, call_sid: str) -> bool:
        deadline = time.monotonic() + self.poll
        while True:
            with self.db.session() as s:
                found = s.scalar(
                    select(m.QueueCall.id).where(
                        m.QueueCall.call_sid == call_sid, m.QueueCall.state == m.ANSWERED
                    )
                )
            if found is not None or time.monotonic() >= deadline:
                return found is not None
            time.sleep(POLL_STEP_SECONDS)

    def talk(self, seconds: float) -> None:
        if self.real_time_talk:
            time.sleep(seconds)

    def _bridge(self, s, call_sid: str) -> m.Offer | None:
        return s.scalar(
            select(m.Offer)
            .join(m.QueueCall, m.Offer.queue_call_id == m.QueueCall.id)
            .where(m.QueueCall.call_sid == call_sid, m.Offer.state == m.BRIDGED)
            .order_by(m.Offer.id.desc())
            .limit(1)
        )

    def agent(self, call_sid: str) -> str | None:
        """The agent talking with this caller now, as the caller may be told: name and 工号."""
        with self.db.session() as s:
            offer = self._bridge(s, call_sid)
            if offer is None:
                return None
            username = offer.agent.username
            user = get_user(s, username)
            name = user.display_name if user is not None else None
        return f"{name}（{username}）" if name and name != username else username

    def hang_up(self, call_sid: str) -> None:
        if self.app is None:
            raise RuntimeError("this queue switch cannot end agent legs (built without the app)")
        with self.db.session() as s:
            offer = self._bridge(s, call_sid)
            found = (offer.id, offer.leg_sid) if offer is not None and offer.leg_sid else None
        if found is not None:
            report_leg(self.app, *found, "completed")
