"""The compiled flow: immutable dataclasses the engine walks.

Built only by ivr.flows.builder after validation; YAML never reaches here.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field

# Node kinds that end the call's path through the flow.
TERMINAL_KINDS = frozenset({"hangup", "transfer"})


@dataclass(frozen=True)
class Prompt:
    """Something the caller hears: text per language, or a recorded audio file."""

    say: Mapping[str, str] = field(default_factory=dict)
    audio: str | None = None


@dataclass(frozen=True, kw_only=True)
class Node:
    id: str
    kind: str
    line: int | None = None
    prompt: Prompt | None = None
    next: str | None = None

    def exits(self) -> tuple[str, ...]:
        """Every node this one can lead to."""
        return (self.next,) if self.next else ()


@dataclass(frozen=True, kw_only=True)
class PromptNode(Node):
    barge_in: str | None = None
    barge_in_timeout: int = 1

    def exits(self):
        return tuple(t for t in (self.next, self.barge_in) if t)


@dataclass(frozen=True)
class Option:
    key: str | None
    next: str
    keywords: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True, kw_only=True)
class MenuNode(Node):
    options: tuple[Option, ...] = ()
    timeout: int = 5
    max_tries: int = 3
    fallback: str = ""
    repeat_key: bool = True
    operator_key: bool = True
    invalid: Prompt | None = None
    listen: Prompt | None = None
    no_input: Prompt | None = None
    # False: record a spoken choice right after a silence, without the "listen" hint
    # (when the question itself already says what can be said).
    listen_hint: bool = True

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(w for o in self.options for w in o.keywords)

    def exits(self):
        return (*(o.next for o in self.options), self.fallback)


@dataclass(frozen=True, kw_only=True)
class DigitsNode(Node):
    store: str = "digits"
    min_length: int = 1
    max_length: int = 20
    pattern: str | None = None
    finish_on_key: str = "#"
    timeout: int = 5
    max_tries: int = 3
    fallback: str = ""
    invalid: Prompt | None = None

    def exits(self):
        return (self.next, self.fallback)


@dataclass(frozen=True, kw_only=True)
class RecordNode(Node):
    max_length: int = 120
    silence: int = 5
    beep: bool = True
    max_tries: int = 3
    fallback: str = ""
    confirm: Prompt | None = None
    into: str = "ticket"  # ticket: a voice-message ticket; comment: a survey comment

    def exits(self):
        return (self.next, self.fallback)


@dataclass(frozen=True, kw_only=True)
class TransferNode(Node):
    queue: str | None = None
    dial: str | None = None
    hold: tuple[Prompt, ...] = ()
    position: Prompt | None = None
    overflow_after: int = 15
    overflow: str | None = None

    def exits(self):
        return (self.overflow,) if self.overflow else ()


@dataclass(frozen=True)
class Condition:
    """All given tests must hold. None means 'not tested'."""

    hours: str | None = None
    workday: bool | None = None
    holiday: bool | None = None
    known_caller: bool | None = None
    incident_mode: bool | None = None
    has: tuple[str, ...] | None = None  # these call variables are all set and not empty


@dataclass(frozen=True)
class Case:
    when: Condition
    next: str


@dataclass(frozen=True, kw_only=True)
class BranchNode(Node):
    cases: tuple[Case, ...] = ()
    default: str = ""

    def exits(self):
        return (*(c.next for c in self.cases), self.default)


@dataclass(frozen=True, kw_only=True)
class NoticesNode(Node):
    district: str | None = None
    topic: str | None = None


@dataclass(frozen=True, kw_only=True)
class KbNode(Node):
    article: str = ""
    missing: Prompt | None = None


@dataclass(frozen=True, kw_only=True)
class TicketStatusNode(Node):
    number_from: str = "ticket_number"
    not_found: Prompt | None = None


@dataclass(frozen=True, kw_only=True)
class GotoNode(Node):
    pass


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    pass


@dataclass(frozen=True, kw_only=True)
class ResultNode(Node):
    """Records what the call achieved (a survey answer, a citizen reached) and moves on."""

    result: str = ""


@dataclass(frozen=True, kw_only=True)
class OptOutNode(Node):
    """The citizen asks never to be called again: their number joins the do-not-call list."""


@dataclass(frozen=True)
class Flow:
    """A validated flow. `version` is the hash of the source text."""

    name: str
    version: str
    file: str
    start: str
    languages: tuple[str, ...]
    default_language: str
    operator: str
    messages: Mapping[str, Prompt]
    nodes: Mapping[str, Node]
    # Where outgoing calls start: entry name (e.g. survey) -> node id.
    entries: Mapping[str, str] = field(default_factory=dict)

    def entry(self, name: str) -> str:
        """The node an outgoing call of this kind starts on (KeyError: no such entry)."""
        return self.entries[name]

    def message(self, name: str) -> Prompt:
        return self.messages[name]

    def prompts(self) -> list[Prompt]:
        """Every prompt of the flow: messages, then each node's."""
        out = list(self.messages.values())
        for node in self.nodes.values():
            for value in vars(node).values():
                if isinstance(value, Prompt):
                    out.append(value)
                elif isinstance(value, tuple):
                    out.extend(v for v in value if isinstance(v, Prompt))
        return out

    def texts(self) -> list[tuple[str, str]]:
        """Every fixed (text, language) the flow can speak: for prompt presynthesis."""
        out: list[tuple[str, str]] = []
        for p in self.prompts():
            for lang, text in p.say.items():
                if "{" not in text and (text, lang) not in out:
                    out.append((text, lang))
        return out

    def texts_with(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """The prompts that say per-call values, filled with `values` (those it has all of).

        For presynthesizing an outgoing call's personal sentences before it is dialled."""
        out: list[tuple[str, str]] = []
        for p in self.prompts():
            for lang, text in p.say.items():
                fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
                if fields and fields <= values.keys():
                    filled = (text.format_map(values), lang)
                    if filled not in out:
                        out.append(filled)
        return out
