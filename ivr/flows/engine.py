"""Run a call through a flow: start, then resume with typed inputs until it ends.

goflow style. The session (`ivr.flows.session.Session`) is stored as JSON
between webhooks, so any process can continue it. A turn runs nodes until one waits for the
caller (or the call ends) and returns the events of that turn. A hard cap on
nodes per turn turns an accidental loop into an apology and a transfer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ivr.flows import events as ev
from ivr.flows.messages import spell_digits
from ivr.flows.model import Flow, Node, Prompt
from ivr.flows.nodes import HANDLERS
from ivr.flows.placeholders import CALL_VARIABLES, fill
from ivr.flows.services import Services
from ivr.flows.session import CallInfo, Session

log = logging.getLogger(__name__)
MAX_STEPS_PER_TURN = 50
MAX_PATH_RECORDED = 200


@dataclass
class Turn:
    session: Session
    events: list

    @property
    def wait(self):
        """The wait this turn ended on, or None when the call ended."""
        return self.events[-1] if self.events and isinstance(self.events[-1], ev.WAITS) else None

    @property
    def ended(self) -> bool:
        return self.session.ended


class Run:
    """One turn's work: the flow, the session being changed and the events so far."""

    def __init__(self, flow: Flow, session: Session, services: Services):
        self.flow, self.session, self.services = flow, session, services
        self.events: list = []
        self.steps = 0

    # -- helpers used by node handlers --
    @property
    def language(self) -> str:
        return self.session.language

    def say(self, prompt: Prompt | None, *, fallback: str | None = None, **fmt) -> None:
        """Say a prompt with its placeholders filled; one that cannot be filled (a flow
        stored before placeholders were checked) is logged and `fallback` said instead."""
        if prompt is None:
            return
        if prompt.audio:
            self.events.append(ev.Play(prompt.audio))
            return
        lang = self.language if self.language in prompt.say else self.flow.default_language
        text = prompt.say.get(lang)
        if not text:
            return
        # An outgoing call's values that this call lacks say nothing ({topic} of no topic).
        filled = fill(text, {**dict.fromkeys(CALL_VARIABLES, ""), **self.session.vars, **fmt})
        if filled is None:
            log.error("flow %s: cannot fill prompt %r", self.flow.version, text)
            if fallback is not None and self.flow.message(fallback) is not prompt:
                self.message(fallback, **fmt)
            return
        self.events.append(ev.Say(filled, lang))

    def say_text(self, text: str) -> None:
        self.events.append(ev.Say(text, self.language))

    def message(self, name: str, **fmt) -> None:
        self.say(self.flow.message(name), **fmt)

    def readback(self, number: str) -> None:
        self.message("ticket_readback", digits=spell_digits(number, self.language))

    def tries(self, kind: str) -> int:
        """Count a failed try of this kind ('invalid' or 'timeout') and return the total."""
        t = self.session.tries
        t[kind] = t.get(kind, 0) + 1
        return t[kind]

    def set_outcome(self, outcome: str, *, override: bool = True) -> None:
        if override or not self.session.outcome:
            self.session.outcome = outcome

    def end(self, event) -> None:
        self.events.append(event)
        self.session.ended = True
        self.session.wait = None

    def wait(self, event) -> None:
        self.events.append(event)
        self.session.wait = event.kind

    # -- the loop --
    def go(self, node_id: str | None) -> None:
        """Enter nodes until one waits or the call ends."""
        while node_id is not None and not self.session.ended:
            self.steps += 1
            if self.steps > MAX_STEPS_PER_TURN:
                self.fail("step cap reached")
                return
            node = self.flow.nodes[node_id]
            self.session.node = node_id
            self.session.tries = {}
            self.session.phase = None
            path = self.session.path
            if len(path) < MAX_PATH_RECORDED:
                path.append(node_id)
            node_id = HANDLERS[node.kind].enter(self, node)

    def fail(self, reason: str) -> None:
        self.message("apology")
        self.set_outcome("error_transfer")
        self.end(ev.TransferToOperator(reason))

    def node(self) -> Node:
        return self.flow.nodes[self.session.node]


def new_session(
    flow: Flow,
    *,
    call_sid: str,
    caller: str | None = None,
    called: str | None = None,
    language: str | None = None,
    variables: dict[str, str] | None = None,
) -> Session:
    """A fresh session for a call.

    `variables` are an outgoing call's per-call values (reported date, topic, the
    department's reply, ticket number): prompts say them as {topic}. `caller` is
    always the citizen's number, whichever side dialled.
    """
    return Session(
        flow_version=flow.version,
        call=CallInfo(sid=call_sid, caller=caller, called=called),
        language=language or flow.default_language,
        vars={k: str(v) for k, v in (variables or {}).items() if v is not None},
    )


def start(flow: Flow, session: Session, services: Services, entry: str | None = None) -> Turn:
    """Run the first turn of a call: from the start node, or an outgoing call's entry."""
    run = Run(flow, session, services)
    run.go(flow.entry(entry) if entry else flow.start)
    session.turn += 1
    return Turn(session, run.events)


def resume(flow: Flow, session: Session, value, services: Services) -> Turn:
    """Continue a waiting session with a typed input (ivr.flows.events)."""
    if session.flow_version != flow.version:
        raise ValueError(f"session is on flow {session.flow_version}, not {flow.version}")
    run = Run(flow, session, services)
    if session.ended:
        # The queue/dial result may arrive after the status callback ended the call.
        if _answered(value):
            session.outcome, session.needs_return_call = "agent", False
        return Turn(session, [])
    if isinstance(value, ev.CallerHangup):
        _caller_hung_up(session)
        return Turn(session, [])
    node = run.node()
    try:
        run.go(HANDLERS[node.kind].resume(run, node, value))
    except Exception:
        if not any(isinstance(e, ev.TicketCreated) for e in run.events):
            raise
        _failed_after_ticket(run)
    session.turn += 1
    return Turn(session, run.events)


def _failed_after_ticket(run: Run) -> None:
    """A voice message is saved, then something fails: keep the ticket, apologise and
    transfer, and flag a return call (the caller may not have heard their number)."""
    created = max(i for i, e in enumerate(run.events) if isinstance(e, ev.TicketCreated))
    log.exception(
        "flow %s failed after ticket %s was created; transferring",
        run.flow.version,
        run.events[created].number,
    )
    del run.events[created + 1 :]
    run.session.ended = False
    run.fail("error after the voice message was saved")
    run.session.needs_return_call = True


def _caller_hung_up(session: Session) -> None:
    """Close the session and decide the outcome of a call the caller ended."""
    in_queue = session.wait in (ev.WaitKind.QUEUE, ev.WaitKind.DIAL)
    if not session.outcome or session.outcome == "self_service" and in_queue:
        if in_queue or session.overflowed:
            session.outcome = "abandoned_queue"
            session.needs_return_call = True
        else:
            session.outcome = "abandoned_menu"
    session.ended = True
    session.wait = None


def _answered(value) -> bool:
    return isinstance(value, ev.QueueResult | ev.DialResult) and value.outcome in (
        ev.QueueOutcome.ANSWERED,
        ev.DialOutcome.ANSWERED,
    )
