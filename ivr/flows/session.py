"""A call's session: where it is in the flow, what it waits for, what it has collected.

The engine changes a `Session`; between webhooks it is stored as JSON
(`to_json` / `from_json`) so any worker process can continue the call. The JSON
carries a version number that is checked on load: a session written by an
unknown version raises `SessionVersionError` (the webhook then apologises and
transfers to the operator), and older known versions are upgraded.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ivr.flows.events import WaitKind

SESSION_VERSION = 2
# Version 1 stored the wait as the wait event's class name.
_V1_WAITS = {
    "GatherDigits": WaitKind.DIGITS.value,
    "RecordAudio": WaitKind.RECORDING.value,
    "Enqueue": WaitKind.QUEUE.value,
    "Dial": WaitKind.DIAL.value,
}


class SessionVersionError(ValueError):
    """A stored session this code cannot read (written by another version)."""

    def __init__(self, version):
        super().__init__(
            f"call session has version {version!r}; this release reads version {SESSION_VERSION}"
        )
        self.version = version


class Phase(enum.Enum):
    """Where a menu is in asking: keys first, then (menus with keywords) a spoken answer."""

    DTMF = "dtmf"
    LISTEN = "listen"


@dataclass
class CallInfo:
    sid: str
    caller: str | None = None
    called: str | None = None


@dataclass
class Listening:
    """A spoken answer being recognised: the speech job and how often it was polled."""

    job: int
    polls: int = 1


@dataclass
class Session:
    flow_version: str
    call: CallInfo
    language: str
    node: str | None = None
    wait: WaitKind | None = None
    phase: Phase | None = None
    tries: dict[str, int] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    outcome: str | None = None
    needs_return_call: bool = False
    overflowed: bool = False
    ended: bool = False
    turn: int = 0
    listening: Listening | None = None

    def to_json(self) -> dict:
        # Written out (not dataclasses.asdict, which deep-copies every value): this runs
        # on every turn of every call.
        listening = self.listening
        return {
            "v": SESSION_VERSION,
            "flow_version": self.flow_version,
            "call": {"sid": self.call.sid, "caller": self.call.caller, "called": self.call.called},
            "language": self.language,
            "node": self.node,
            "wait": self.wait.value if self.wait else None,
            "phase": self.phase.value if self.phase else None,
            "tries": dict(self.tries),
            "vars": dict(self.vars),
            "path": list(self.path),
            "outcome": self.outcome,
            "needs_return_call": self.needs_return_call,
            "overflowed": self.overflowed,
            "ended": self.ended,
            "turn": self.turn,
            "listening": {"job": listening.job, "polls": listening.polls} if listening else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> Session:
        data = dict(data)
        version = data.pop("v", None)
        if version == 1:
            data = _upgrade_v1(data)
        elif version != SESSION_VERSION:
            raise SessionVersionError(version)
        listening = data.pop("listening", None)
        return cls(
            **{
                **data,
                "call": CallInfo(**data["call"]),
                "wait": WaitKind(data["wait"]) if data.get("wait") else None,
                "phase": Phase(data["phase"]) if data.get("phase") else None,
                "listening": Listening(**listening) if listening else None,
            }
        )


def _upgrade_v1(data: dict) -> dict:
    wait = data.get("wait")
    listen = data.pop("listen", None)
    return {
        **data,
        "wait": _V1_WAITS.get(wait, wait),
        "listening": {"job": listen["job"], "polls": listen["polls"]} if listen else None,
    }
