"""Helpers for the agent tests: agents on a fresh database, callers in the queue, the
distributor on the local Twilio fake, and the agent leg's webhooks played like Twilio."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import urlsplit

from ivr_support import Phone
from sqlalchemy import select

from accounts.service import create_user, issue_token
from agents import models as m
from agents.distribution import Distributor
from agents.presence import SYSTEM, change_status, ensure_agent
from agents.queueing import caller_joined
from core.db import get_db, utcnow
from telephony.twilio_port import TwilioPort

PASSWORD = "agent-password-1"


def add_agent(app, name, device, *, idle_for=0, queues=("agents",), status=m.AVAILABLE):
    """An agent user, available (idle for `idle_for` seconds), with a device; returns a token."""
    with get_db(app).session() as s:
        user = create_user(s, name, PASSWORD, role="agent")
        token = issue_token(user)
        agent = ensure_agent(s, name, device=device, queues=list(queues))
        if status != m.OFFLINE:
            change_status(
                s, agent, status, actor=SYSTEM, now=utcnow() - timedelta(seconds=idle_for)
            )
    return token


def desk_agent_with_a_returning_caller(app, name, display_name, caller) -> None:
    """The seeded line, one earlier ticket from `caller` (the screen pop shows it) and an
    available agent `name` whose desk page is the phone (simulator mode)."""
    from accounts.service import get_user
    from agents.simulated import DESK_DEVICE
    from tickets import service
    from tickets.seed import seed

    with get_db(app).session() as s:
        seed(s)
        service.create_ticket(
            s, channel="phone", caller_number=caller, description="上月反映暖气不热", actor="t"
        )
    add_agent(app, name, DESK_DEVICE)
    with get_db(app).session() as s:
        get_user(s, name).display_name = display_name


def agent(app, name) -> m.Agent:
    with get_db(app).session() as s:
        return s.scalar(select(m.Agent).where(m.Agent.username == name))


def status_of(app, name) -> tuple[str, str | None]:
    row = agent(app, name)
    return row.status, row.reason


def stays(app) -> list[m.QueueCall]:
    with get_db(app).session() as s:
        return list(s.scalars(select(m.QueueCall).order_by(m.QueueCall.id)))


def offers(app) -> list[m.Offer]:
    with get_db(app).session() as s:
        return list(s.scalars(select(m.Offer).order_by(m.Offer.id)))


def join_queue(app, call_sid, queue="agents", caller="+8613812345678", ago=0.0):
    with get_db(app).session() as s:
        caller_joined(
            s, call_sid=call_sid, queue=queue, caller=caller, now=utcnow() - timedelta(seconds=ago)
        )


def distributor(app, fake, **kwargs) -> Distributor:
    cfg = app.config
    port = TwilioPort(
        cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"], "+8605460012345", fake.base_url
    )
    return Distributor(
        get_db(app), port, base_url=cfg["PUBLIC_BASE_URL"], ring_seconds=20, **kwargs
    )


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class AgentLeg:
    """The call Twilio placed to an agent's device: what Twilio posts to our webhooks."""

    def __init__(self, client, app, fake_call):
        self.call = fake_call
        self.phone = Phone(client, app, call_sid=fake_call.sid, caller=fake_call.from_)
        self.phone_to = fake_call.to

    def answer(self) -> ET.Element:
        resp = self.phone.post(self.call.url, CallStatus="in-progress", Direction="outbound-api")
        assert resp.status_code == 200 and resp.mimetype == "text/xml", resp.data
        self.raw = resp.get_data(as_text=True)
        return ET.fromstring(self.raw)

    def dequeue(self, twiml: ET.Element, caller_sid: str) -> ET.Element:
        """Twilio bridges the head of the queue: it fetches <Queue url> for that caller."""
        queue = twiml.find("Dial/Queue")
        resp = self.phone.post(
            queue.get("url"),
            CallSid=caller_sid,
            DequeingCallSid=self.call.sid,
            QueueSid="QU" + "9" * 32,
            QueueTime="4",
        )
        assert resp.status_code == 200, resp.data
        return ET.fromstring(resp.get_data(as_text=True))

    def status(self, status: str, duration: int = 0):
        resp = self.phone.post(
            self.call.status_callback, CallStatus=status, CallDuration=str(duration)
        )
        assert resp.status_code == 200, resp.data
        return resp
