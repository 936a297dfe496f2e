"""The web phone: the simulator phone driven from the browser, one request per caller action.

The phone's JSON state is kept in `studio_phone_calls` between requests, so
any worker can serve the next key press. Calls go to the sandbox app of the
chosen flow version (studio.sandbox), or on the live line (mode `live`,
studio.line) to the app itself; the path through the flow comes from the call
record ivr keeps, or failing that from the prompts heard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from flask import Flask, url_for
from sqlalchemy import delete, select

from core.db import get_db, utcnow
from ivr.flows.model import Flow, Prompt
from ivr.models import Call, CallSession
from simulator.phone import Action, Phone
from simulator.prompts import PromptIndex
from simulator.recordings import AppRecordings
from simulator.transport import FlaskTransport
from studio.models import PhoneCall
from studio.sandbox import sandbox_for

WEB_CALLER = "+8613800138000"  # the web phone's own number, shown in the sandbox's call records
HOTLINE_NUMBER = "12345"
PHONE_CALL_RETENTION = timedelta(days=1)  # a supervisor's finished test calls are dropped after
MAX_VALUE_CHARS = 200  # a per-call value typed for a test call (a department's reply is long)


@dataclass(frozen=True)
class Ring:
    """A test of an outgoing call: the flow's entry and the call's values."""

    entry: str
    values: dict[str, str]


ACTION_KINDS = ("keys", "speech", "audio", "wait", "agent", "busy", "no-answer", "hangup")
# The live line's caller is a person: agents answer from their desks, never from the phone.
LIVE = "live"
LIVE_ACTION_KINDS = ("keys", "speech", "audio", "wait", "hangup")
# Simulator mode's stand-in for Twilio's queues (agents.simulated, registered by agents).
QUEUE_SWITCH = "simulator.queue_switch"


def _phone(
    sandbox: Flask,
    flow: Flow,
    state: dict | None,
    ring: Ring | None = None,
    *,
    live: bool = False,
    caller: str = WEB_CALLER,
) -> Phone:
    cfg = sandbox.config
    public = cfg["PUBLIC_BASE_URL"]
    transport = FlaskTransport(sandbox.test_client(), public, outside=False)
    kwargs = {
        "recordings": AppRecordings(
            transport, public, cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]
        ),
        "prompt_text": PromptIndex.for_app(sandbox, flow, _ring_values(state, ring)),
        "measure_audio": True,
    }
    if live:
        kwargs.update(switch=sandbox.extensions.get(QUEUE_SWITCH), talk_until_hangup=True)
    if state is not None:
        return Phone.resume_from(state, transport, cfg["TWILIO_AUTH_TOKEN"], **kwargs)
    if ring is not None:  # the hotline calls the web phone: an outgoing call's entry
        return Phone.outbound(
            transport,
            cfg["TWILIO_AUTH_TOKEN"],
            url=f"{public}/ivr/try/{ring.entry}"
            + (f"?{urlencode(ring.values)}" if ring.values else ""),
            from_=HOTLINE_NUMBER,
            to=WEB_CALLER,
            account_sid=cfg["TWILIO_ACCOUNT_SID"],
            status_callback=public + "/ivr/status",
            answered_by="human",
            **kwargs,
        )
    return Phone.inbound(
        transport,
        cfg["TWILIO_AUTH_TOKEN"],
        voice_url=public + "/ivr/voice",
        from_=caller,
        to=HOTLINE_NUMBER,
        account_sid=cfg["TWILIO_ACCOUNT_SID"],
        status_callback=public + "/ivr/status",
        **kwargs,
    )


def _ring_values(state: dict | None, ring: Ring | None) -> dict[str, str]:
    if ring is not None:
        return ring.values
    return ((state or {}).get("ring") or {}).get("values") or {}


def start(
    app: Flask, s, *, username: str, mode: str, text: str, flow: Flow, ring: Ring | None = None
) -> PhoneCall:
    """Ring the sandbox app running `text` (or be rung by one of its entries); returns the
    stored call."""
    sandbox = sandbox_for(app, text, flow.version)
    phone = _phone(sandbox, flow, None, ring)
    if ring is not None:  # kept with the call: the next requests caption its sentences
        phone.state["ring"] = {"entry": ring.entry, "values": ring.values}
    phone.start()
    return keep(s, username=username, mode=mode, version=flow.version, state=phone.state)


def keep(s, *, username: str, mode: str, version: str, state: dict) -> PhoneCall:
    """Store a new call's state (and drop the user's finished calls of yesterday)."""
    cutoff = utcnow() - PHONE_CALL_RETENTION
    s.execute(
        delete(PhoneCall).where(PhoneCall.username == username, PhoneCall.updated_at < cutoff)
    )
    row = PhoneCall(username=username, mode=mode, flow_version=version, state=state)
    s.add(row)
    s.flush()
    return row


# ---- the live line (simulator mode) ---------------------------------------------------------
# The app's own webhooks write the database the call is kept in: these run between our
# transactions, never inside one (SQLite would wait on our own write lock).


def call_live(app: Flask, flow: Flow, caller: str) -> dict:
    """Ring the app itself as `caller`; returns the phone's state to keep."""
    phone = _phone(app, flow, None, live=True, caller=caller)
    phone.state["live_started"] = time.time()
    phone.start()
    return phone.state


def act_live(app: Flask, flow: Flow, state: dict, action: Action) -> dict:
    """The live caller acts; waiting in the queue or talking runs at the pace of real time."""
    phone = _phone(app, flow, dict(state), live=True)
    need = phone.need
    if phone.ended:
        return phone.state
    if need is None:
        phone.hangup()
    elif action.kind == "wait" and need.kind in ("queue", "talk"):
        # The call clock follows the wall clock: the app hears the real time waited, so its
        # overflow offer comes when it would on a real line, not after a few polls.
        behind = time.time() - phone.state["live_started"] - phone.state["clock"]
        if need.kind == "queue" and phone.switch.agent(phone.state["call_sid"]) is not None:
            phone.resume(Action("agent"))  # an agent took the call from their desk
        elif need.kind == "talk" or behind >= 0:
            phone.resume(Action("wait", max(0.0, behind)))
        # else: the hold round the caller hears has not finished playing
    else:
        phone.resume(action)
    return phone.state


def act(app: Flask, s, row: PhoneCall, text: str, flow: Flow, action: Action) -> None:
    """The caller acts (a key, speech, audio, waiting, hanging up); the call runs on."""
    sandbox = sandbox_for(app, text, flow.version)
    phone = _phone(sandbox, flow, dict(row.state))
    if phone.ended:
        return
    if action.kind == "hangup" or phone.need is None:
        phone.hangup()
    else:
        phone.resume(action)
    row.state = phone.state  # a new dict: SQLAlchemy sees the JSON column change


def _target(app: Flask, row: PhoneCall, text: str, flow: Flow) -> Flask:
    """The app the call is on: the app itself on the live line, else its sandbox."""
    return app if row.mode == LIVE else sandbox_for(app, text, flow.version)


def prompt_index(flow: Flow) -> dict[str, str]:
    """Text of every fixed prompt -> the node that speaks it."""
    out: dict[str, str] = {}
    for nid, node in flow.nodes.items():
        for value in vars(node).values():
            prompts = value if isinstance(value, tuple) else (value,)
            for p in prompts:
                if isinstance(p, Prompt):
                    for text in p.say.values():
                        out.setdefault(text.strip(), nid)
    return out


def path_through(
    flow: Flow, events: list[dict], sandbox: Flask | None = None, call_sid: str | None = None
) -> list[str]:
    """Nodes the call went through, in order: ivr's call record, else the prompts heard."""
    recorded = _recorded_path(sandbox, call_sid) if sandbox is not None and call_sid else None
    if recorded:
        return [n for n in recorded if n in flow.nodes]
    index = prompt_index(flow)
    path: list[str] = []
    for e in events:
        text = (e.get("text") or "").strip() if e["kind"] in ("say", "play") else ""
        nid = index.get(text)
        if nid is None and text:
            nid = next((n for t, n in index.items() if "{" not in t and t and t in text), None)
        if nid and (not path or path[-1] != nid):
            path.append(nid)
    return path


def _recorded_path(sandbox: Flask, call_sid: str) -> list[str] | None:
    with get_db(sandbox).session() as s:
        call = s.scalars(select(Call).where(Call.call_sid == call_sid)).first()
        nodes = getattr(call, "nodes", None) if call is not None else None
        if call is None:  # an outgoing call keeps no call record: its session has the path
            session = s.get(CallSession, call_sid)
            nodes = (session.data or {}).get("path") if session is not None else None
    if isinstance(nodes, list):
        return [n if isinstance(n, str) else n.get("node") for n in nodes]
    return None


def view(app: Flask, row: PhoneCall, text: str, flow: Flow) -> dict:
    """What the browser shows: events (with audio links), the pending question, the path."""
    state = row.state
    sandbox = _target(app, row, text, flow)
    audio = "line.audio" if row.mode == LIVE else "studio.phone_audio"
    events = []
    for n, e in enumerate(state["events"]):
        if e["kind"] == "request":
            continue
        item = dict(e, n=n)
        if e["kind"] in ("say", "play"):
            item["audio"] = url_for(audio, call_id=row.id, n=n)
        events.append(item)
    path = path_through(flow, state["events"], sandbox, state["call_sid"])
    return {
        "id": row.id,
        "mode": row.mode,
        "version": row.flow_version,
        "call_sid": state["call_sid"],
        "ended": state["ended"],
        "status": state["status"],
        "need": state["need"],
        "clock": round(state["clock"], 1),
        "events": events,
        "path": path,
    }


def audio_for(app: Flask, row: PhoneCall, text: str, flow: Flow, n: int) -> tuple[bytes, str]:
    """The sound of event `n`: the <Play> file fetched from the sandbox, or <Say> spoken."""
    event = row.state["events"][n]
    sandbox = _target(app, row, text, flow)
    if event["kind"] == "play":
        # Only the sandbox's own files (outside=False): a URL a supervisor wrote in a
        # draft is never fetched from here (it could name any host in the city's network).
        base = sandbox.config["PUBLIC_BASE_URL"].rstrip("/")
        url = base + event["url"] if event["url"].startswith("/") else event["url"]
        transport = FlaskTransport(sandbox.test_client(), base, outside=False)
        reply = transport.request("GET", url)
        if reply.status == 200:
            return reply.body, reply.content_type or "audio/wav"
        raise LookupError(f"prompt audio answered HTTP {reply.status}")
    if event["kind"] == "say":
        return _spoken(sandbox, event["text"], event.get("language") or flow.default_language)
    raise LookupError("that event has no sound")


def _spoken(sandbox: Flask, text: str, language: str) -> tuple[bytes, str]:
    """A <Say> as sound: the app's own TTS when it has one, else the simulator's voice."""
    audio_url = sandbox.extensions.get("prompt_audio")
    if audio_url is not None:
        with sandbox.app_context():
            url = audio_url(text, language)
        if url:
            transport = FlaskTransport(
                sandbox.test_client(), sandbox.config["PUBLIC_BASE_URL"], outside=False
            )
            reply = transport.request("GET", url)
            if reply.status == 200:
                return reply.body, reply.content_type or "audio/wav"
    # Imported here: numpy and soxr load only when a prompt has no audio of ours.
    from simulator.voice import speak

    return speak(text, language), "audio/wav"
