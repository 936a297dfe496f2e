"""Validate a read document and compile it into an immutable Flow.

Shape first (keys, types, keypad keys, languages), then meaning (targets with a
did-you-mean, reachability, trap nodes, duplicate menu keys). Every issue is
collected before raising, so `flask flows check` shows them all at once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.calendar import parse_window
from ivr.flows import graph
from ivr.flows.errors import FlowError, FlowGraphError, FlowIssue, FlowShapeError
from ivr.flows.messages import DEFAULT_MESSAGES
from ivr.flows.model import (
    BranchNode,
    Case,
    Condition,
    DigitsNode,
    Flow,
    GotoNode,
    HangupNode,
    KbNode,
    MenuNode,
    NoticesNode,
    Option,
    OptOutNode,
    Prompt,
    PromptNode,
    RecordNode,
    ResultNode,
    TicketStatusNode,
    TransferNode,
)
from ivr.flows.placeholders import CALL_VARIABLES, MESSAGE_PLACEHOLDERS, NODE_PLACEHOLDERS
from ivr.flows.reader import Document, read_file, read_text
from ivr.flows.schema import (
    ENTRY_NAMES,
    INVALID,
    NODE_ID_RE,
    RECORD_INTO,
    RESULTS,
    Checker,
    audio_url,
    boolean,
    count,
    did_you_mean,
    keypad_key,
    mapping,
    name,
    names,
    one_of,
    prompt_reader,
    regex,
    seconds,
    target,
    text,
    words,
)

MAX_NODES = 500
LANGUAGE_DEFAULT = "zh-CN"
COMMON = ("kind", "say", "audio")
# kind -> (node class, readers by key, required keys)
KINDS = {
    "prompt": (
        PromptNode,
        {"next": target, "barge_in": target, "barge_in_timeout": seconds},
        ("next",),
    ),
    "menu": (
        MenuNode,
        {
            "options": None,
            "timeout": seconds,
            "max_tries": count,
            "fallback": target,
            "repeat_key": boolean,
            "operator_key": boolean,
            "invalid": "prompt",
            "listen": "prompt",
            "no_input": "prompt",
            "listen_hint": boolean,
        },
        ("options",),
    ),
    "digits": (
        DigitsNode,
        {
            "next": target,
            "store": name,
            "length": count,
            "min_length": count,
            "max_length": count,
            "pattern": regex,
            "finish_on_key": keypad_key,
            "timeout": seconds,
            "max_tries": count,
            "fallback": target,
            "invalid": "prompt",
        },
        ("next",),
    ),
    "record": (
        RecordNode,
        {
            "next": target,
            "max_length": seconds,
            "silence": seconds,
            "beep": boolean,
            "max_tries": count,
            "fallback": target,
            "confirm": "prompt",
            "into": one_of(RECORD_INTO),
        },
        ("next",),
    ),
    "transfer": (
        TransferNode,
        {
            "queue": name,
            "dial": text,
            "hold": None,
            "position": "prompt",
            "overflow_after": seconds,
            "overflow": target,
        },
        (),
    ),
    "branch": (BranchNode, {"cases": None, "default": target}, ("cases", "default")),
    "notices": (NoticesNode, {"next": target, "district": text, "topic": text}, ("next",)),
    "kb": (KbNode, {"next": target, "article": text, "missing": "prompt"}, ("next", "article")),
    "ticket_status": (
        TicketStatusNode,
        {"next": target, "number_from": name, "not_found": "prompt"},
        ("next",),
    ),
    "goto": (GotoNode, {"next": target}, ("next",)),
    "hangup": (HangupNode, {}, ()),
    "result": (ResultNode, {"next": target, "result": one_of(RESULTS)}, ("next", "result")),
    "opt_out": (OptOutNode, {"next": target}, ("next",)),
}
FLOW_KEYS = ("name", "start", "entries", "languages", "default_language", "operator", "messages")
OPTION_KEYS = ("key", "keywords", "next", "language")
CASE_KEYS = ("when", "next")
CONDITIONS = {
    "hours": text,
    "workday": boolean,
    "holiday": boolean,
    "known_caller": boolean,
    "incident_mode": boolean,
    "has": names,
}


class _Builder:
    def __init__(self, doc: Document, version: str):
        self.doc, self.version = doc, version
        self.c = Checker(doc)

    def build(self) -> Flow:
        c, data = self.c, self.doc.data
        c.keys(data, (), ("flow", "nodes"), ("flow", "nodes"))
        head = mapping(c, data.get("flow", {}), ("flow",))
        nodes_raw = mapping(c, data.get("nodes", {}), ("nodes",))
        if head is INVALID or nodes_raw is INVALID:
            raise FlowShapeError(c.issues)
        self._head(head)
        nodes = {}
        if len(nodes_raw) > MAX_NODES:
            c.error(("nodes",), f"too many nodes ({len(nodes_raw)} > {MAX_NODES})", "too_many")
        for node_id, raw in nodes_raw.items():
            node = self._node(str(node_id), raw)
            if node is not None:
                nodes[node.id] = node
        if c.issues:
            raise FlowShapeError(c.issues)
        flow = Flow(
            name=self.name,
            version=self.version,
            file=self.doc.file,
            start=self.start,
            languages=self.languages,
            default_language=self.default_language,
            operator=self.operator,
            messages=self.messages,
            nodes=nodes,
            entries=self.entries,
        )
        graph.check(flow, c)
        if c.issues:
            raise FlowGraphError(c.issues)
        return flow

    def _head(self, head: dict) -> None:
        c, p = self.c, ("flow",)
        c.keys(head, p, FLOW_KEYS, ("name", "start"))
        self.name = text(c, head.get("name", "flow"), (*p, "name"))
        self.start = target(c, head.get("start", ""), (*p, "start"))
        self.operator = target(c, head.get("operator", "operator"), (*p, "operator"))
        self.entries = self._entries(head.get("entries", {}), (*p, "entries"))
        langs = head.get("languages", [LANGUAGE_DEFAULT])
        if not isinstance(langs, list) or not langs or not all(isinstance(x, str) for x in langs):
            c.error((*p, "languages"), "expected a list of language tags, e.g. [zh-CN]", "type")
            langs = [LANGUAGE_DEFAULT]
        self.languages = tuple(langs)
        self.default_language = head.get("default_language", self.languages[0])
        if self.default_language not in self.languages:
            c.error(
                (*p, "default_language"),
                f"'{self.default_language}' is not in flow.languages"
                f"{did_you_mean(str(self.default_language), self.languages)}",
                "language",
            )
            self.default_language = self.languages[0]
        self.read_prompt = prompt_reader(self.languages, self.default_language, CALL_VARIABLES)
        overrides = mapping(c, head.get("messages", {}), (*p, "messages"))
        overrides = {} if overrides is INVALID else overrides
        c.keys(overrides, (*p, "messages"), tuple(DEFAULT_MESSAGES))
        self.messages = {}
        for key, builtin in DEFAULT_MESSAGES.items():
            path = (*p, "messages", key)
            raw = overrides.get(
                key, {lang: builtin[lang] for lang in self.languages if lang in builtin}
            )
            read = prompt_reader(
                self.languages, self.default_language, MESSAGE_PLACEHOLDERS.get(key, ())
            )
            parsed = read(c, raw, path if key in overrides else (*p, "messages"))
            self.messages[key] = parsed if parsed is not INVALID else Prompt()

    def _entries(self, value, path) -> dict[str, str]:
        """`entries: {survey: survey_intro}`: where each kind of outgoing call starts."""
        c = self.c
        if mapping(c, value, path) is INVALID:
            return {}
        out = {}
        for key, raw in value.items():
            if key not in ENTRY_NAMES:
                c.error(
                    (*path, str(key)),
                    f"unknown entry '{key}'{did_you_mean(str(key), ENTRY_NAMES)} "
                    f"(allowed: {', '.join(ENTRY_NAMES)})",
                    "unknown_entry",
                )
                continue
            node_id = target(c, raw, (*path, key))
            if node_id is not INVALID:
                out[key] = node_id
        return out

    def _node(self, node_id: str, raw) -> object | None:
        c, path = self.c, ("nodes", node_id)
        if not NODE_ID_RE.match(node_id):
            c.error(
                path,
                f"node id '{node_id}' must be lowercase letters, digits and _ "
                "starting with a letter",
                "bad_id",
            )
        if mapping(c, raw, path) is INVALID:
            return None
        kind = raw.get("kind")
        if kind not in KINDS:
            if kind is None:
                c.error(path, "missing required key 'kind'", "missing_key")
            else:
                c.error(
                    (*path, "kind"),
                    f"unknown node kind '{kind}'"
                    f"{did_you_mean(str(kind), KINDS)} (allowed: {', '.join(KINDS)})",
                    "unknown_kind",
                )
            return None
        cls, readers, required = KINDS[kind]
        c.keys(raw, path, (*COMMON, *readers), required, f"for a {kind} node ")
        fields: dict = {"id": node_id, "kind": kind, "line": self.doc.line(path)}
        if "say" in raw and "audio" in raw:
            c.error(path, "give either 'say' or 'audio', not both", "say_and_audio")
        if "say" in raw:
            fields["prompt"] = self.read_prompt(c, raw["say"], (*path, "say"))
        elif "audio" in raw:
            audio = audio_url(c, raw["audio"], (*path, "audio"))
            fields["prompt"] = Prompt(audio=audio) if audio is not INVALID else INVALID
        for key, reader in readers.items():
            if key not in raw:
                continue
            value, p = raw[key], (*path, key)
            if reader == "prompt":
                read = prompt_reader(
                    # A prompt the engine fills with its own values takes only those.
                    self.languages,
                    self.default_language,
                    NODE_PLACEHOLDERS.get(key, CALL_VARIABLES),
                )
                fields[key] = read(c, value, p)
            elif reader is None:
                fields[key] = getattr(self, f"_{key}")(value, p)
            else:
                fields[key] = reader(c, value, p)
        if any(v is INVALID for v in fields.values()):
            return None
        return self._finish(cls, kind, fields, path)

    def _finish(self, cls, kind, fields, path):
        c = self.c
        if kind in ("menu", "digits", "record"):
            fields.setdefault("fallback", self.operator)
        if kind == "digits" and "length" in fields:
            fields["min_length"] = fields["max_length"] = fields.pop("length")
        if kind == "transfer" and ("queue" in fields) == ("dial" in fields):
            c.error(path, "a transfer needs exactly one of 'queue' or 'dial'", "transfer_target")
            return None
        if kind == "menu":
            self._check_menu_keys(fields, path)
        return cls(**fields)

    def _options(self, value, path):
        c = self.c
        if not isinstance(value, list) or not value:
            return c.error(path, "expected a list of options", "type")
        out = []
        for i, raw in enumerate(value):
            p = (*path, i)
            if mapping(c, raw, p) is INVALID:
                return INVALID
            c.keys(raw, p, OPTION_KEYS, ("next",))
            if "key" not in raw and "keywords" not in raw:
                c.error(p, "an option needs a 'key' or 'keywords'", "option_empty")
            key = keypad_key(c, raw["key"], (*p, "key")) if "key" in raw else None
            kw = words(c, raw["keywords"], (*p, "keywords")) if "keywords" in raw else ()
            lang = raw.get("language")
            if lang is not None and lang not in self.languages:
                c.error(
                    (*p, "language"),
                    f"'{lang}' is not in flow.languages{did_you_mean(str(lang), self.languages)}",
                    "language",
                )
            nxt = target(c, raw.get("next", ""), (*p, "next"))
            if INVALID in (key, kw, nxt):
                return INVALID
            out.append(Option(key=key, next=nxt, keywords=kw, language=lang))
        return tuple(out)

    def _check_menu_keys(self, fields, path):
        c, seen = self.c, {}
        reserved = {
            "*": ("repeat_key", "repeats the menu"),
            "0": ("operator_key", "reaches the operator"),
        }
        for i, option in enumerate(fields["options"]):
            p = (*path, "options", i, "key")
            if option.key is None:
                continue
            if option.key in seen:
                c.error(
                    p,
                    f"duplicate key '{option.key}' (already used by options[{seen[option.key]}])",
                    "duplicate_menu_key",
                )
            seen.setdefault(option.key, i)
            flag = reserved.get(option.key)
            if flag and fields.get(flag[0], True):
                c.error(
                    p,
                    f"key '{option.key}' {flag[1]} in every menu (set {flag[0]}: false to use it)",
                    "reserved_key",
                )

    def _hold(self, value, path):
        items = value if isinstance(value, list) else [value]
        out = [
            self.read_prompt(self.c, v, (*path, i) if isinstance(value, list) else path)
            for i, v in enumerate(items)
        ]
        return INVALID if INVALID in out else tuple(out)

    def _cases(self, value, path):
        c = self.c
        if not isinstance(value, list) or not value:
            return c.error(path, "expected a list of cases", "type")
        out = []
        for i, raw in enumerate(value):
            p = (*path, i)
            if mapping(c, raw, p) is INVALID:
                return INVALID
            c.keys(raw, p, CASE_KEYS, CASE_KEYS)
            when = mapping(c, raw.get("when", {}), (*p, "when"))
            if when is INVALID:
                return INVALID
            c.keys(when, (*p, "when"), tuple(CONDITIONS))
            tests = {
                k: CONDITIONS[k](c, v, (*p, "when", k)) for k, v in when.items() if k in CONDITIONS
            }
            if "hours" in tests and tests["hours"] is not INVALID:
                tests["hours"] = _window(c, tests["hours"], (*p, "when", "hours"))
            if INVALID in tests.values():
                return INVALID
            out.append(
                Case(when=Condition(**tests), next=target(c, raw.get("next", ""), (*p, "next")))
            )
        return tuple(out)


def _window(c: Checker, spec: str, path):
    try:
        parse_window(spec)
    except ValueError as exc:
        return c.error(path, str(exc), "bad_window")
    return spec


def build(doc: Document, source_text: str) -> Flow:
    """Validate a document and compile it; raises FlowError listing every issue."""
    version = hashlib.sha256(source_text.encode("utf-8")).hexdigest()[:12]
    return _Builder(doc, version).build()


def load_text(text_: str, file: str = "flows.yaml") -> Flow:
    return build(read_text(text_, file), text_)


def load_flow(path: str | Path) -> Flow:
    """Read, validate and compile a flow file. Raises FlowError (every issue listed)."""
    try:
        doc, source = read_file(path)
    except OSError as exc:
        raise FlowError(
            [FlowIssue(Path(path).name, None, "", f"cannot read: {exc.strerror}", "unreadable")]
        ) from None
    return build(doc, source)
