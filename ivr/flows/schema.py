"""Shape of a flow file: which keys each part allows, and how each value is read.

Each reader takes (checker, value, path) and returns the parsed value or
INVALID after recording an issue; the builder decides what to do with the rest.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from ivr.flows.errors import FlowIssue
from ivr.flows.model import Prompt
from ivr.flows.patterns import SlowPattern, check_pattern
from ivr.flows.placeholders import problems as placeholder_problems
from ivr.flows.reader import Document, Path_, format_path

INVALID = object()
AUDIO_PATH_RE = re.compile(r"^/audio/[A-Za-z0-9_-]+\.wav$")
KEYPAD_KEYS = frozenset("0123456789*#")
NODE_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
YAML11_BOOL_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})
# Kinds of outgoing call a flow may offer an entry for (flow.entries).
ENTRY_NAMES = ("survey", "return_call")
# What a `result` node records: a survey answer, no usable answer, or a citizen reached.
RESULTS = ("satisfied", "basically_satisfied", "dissatisfied", "unanswered", "reached")
# Where a `record` node keeps the recording.
RECORD_INTO = ("ticket", "comment")


class Checker:
    """Collects issues with file, line and path while the builder reads a document."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.issues: list[FlowIssue] = []

    def error(self, path: Path_, message: str, code: str) -> object:
        self.issues.append(
            FlowIssue(self.doc.file, self.doc.line(path), format_path(path), message, code)
        )
        return INVALID

    def keys(
        self,
        value: dict,
        path: Path_,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
        what: str = "",
    ) -> None:
        """Reject unknown keys (listing the allowed ones) and report missing required ones."""
        for key in value:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                dym = f"did you mean '{hint[0]}'? " if hint else ""
                self.error(
                    (*path, str(key)),
                    f"unknown key '{key}' {what}({dym}allowed: {', '.join(allowed)})",
                    "unknown_key",
                )
        for key in required:
            if key not in value:
                self.error(path, f"missing required key '{key}'", "missing_key")


Reader = Callable[[Checker, object, Path_], object]


def mapping(c: Checker, value, path: Path_):
    if not isinstance(value, dict):
        return c.error(path, f"expected a mapping, got {_kind(value)}", "type")
    return value


def text(c: Checker, value, path: Path_):
    if not isinstance(value, str) or not value.strip():
        return c.error(path, f"expected text, got {_kind(value)}", "type")
    return value.strip()


def name(c: Checker, value, path: Path_):
    if not isinstance(value, str) or not NAME_RE.match(value):
        return c.error(
            path, f"expected a name of lowercase letters, digits and _, got {value!r}", "type"
        )
    return value


def audio_url(c: Checker, value, path: Path_):
    """A prompt file: one of ours (`/audio/NAME.wav`, served by this app) or an https URL
    with no user name; Twilio fetches it, the studio's web phone never does."""
    url = text(c, value, path)
    if url is INVALID:
        return url
    if AUDIO_PATH_RE.match(url):
        return url
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        return c.error(
            path,
            f"audio must be a file of ours (/audio/NAME.wav) or an https:// URL, got {url!r}",
            "audio_url",
        )
    return url


def target(c: Checker, value, path: Path_):
    if not isinstance(value, str):
        return c.error(path, f"expected a node id, got {_kind(value)}", "type")
    return value


def seconds(c: Checker, value, path: Path_):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3600:
        return c.error(path, f"expected a whole number of seconds 1-3600, got {value!r}", "type")
    return value


def count(c: Checker, value, path: Path_):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
        return c.error(path, f"expected a whole number 1-50, got {value!r}", "type")
    return value


def boolean(c: Checker, value, path: Path_):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in YAML11_BOOL_WORDS:
        return c.error(
            path,
            f"expected true or false, got '{value}' (YAML 1.1 yes/no/on/off are not booleans here)",
            "yaml11_bool",
        )
    return c.error(path, f"expected true or false, got {value!r}", "type")


def keypad_key(c: Checker, value, path: Path_):
    if not isinstance(value, str):
        return c.error(
            path,
            f'keypad key must be a quoted string, e.g. "1" (got {_kind(value)} {value!r})',
            "unquoted_key",
        )
    if value not in KEYPAD_KEYS:
        return c.error(path, f"keypad key must be one of 0-9, * or # (got {value!r})", "bad_key")
    return value


def words(c: Checker, value, path: Path_):
    if not isinstance(value, list) or not value:
        return c.error(path, f"expected a list of words, got {_kind(value)}", "type")
    out = [text(c, w, (*path, i)) for i, w in enumerate(value)]
    return INVALID if INVALID in out else tuple(out)


def one_of(choices: tuple[str, ...]) -> Reader:
    """A reader accepting exactly one of `choices` (with a did-you-mean)."""

    def read(c: Checker, value, path: Path_):
        if value not in choices:
            return c.error(
                path,
                f"unknown value {value!r}{did_you_mean(str(value), choices)} "
                f"(allowed: {', '.join(choices)})",
                "unknown_value",
            )
        return value

    return read


def names(c: Checker, value, path: Path_):
    """A list of variable names, e.g. [reported_on, topic]."""
    if not isinstance(value, list) or not value:
        return c.error(path, f"expected a list of names, got {_kind(value)}", "type")
    out = [name(c, v, (*path, i)) for i, v in enumerate(value)]
    return INVALID if INVALID in out else tuple(out)


def regex(c: Checker, value, path: Path_):
    if not isinstance(value, str):
        return c.error(path, f"expected a regular expression, got {_kind(value)}", "type")
    try:
        check_pattern(value)
    except re.error as exc:
        return c.error(path, f"bad pattern {value!r}: {exc}", "bad_pattern")
    except SlowPattern as exc:
        return c.error(
            path, f"pattern {value!r} could take seconds to match: {exc}", "slow_pattern"
        )
    return value


def prompt_reader(
    languages: tuple[str, ...], default_language: str, placeholders: tuple[str, ...] = ()
) -> Reader:
    """A reader for `say:` values: text, or a mapping of language -> text for every language,
    using no placeholders but the given ones."""

    def read(c: Checker, value, path: Path_):
        per_language = not isinstance(value, str)
        if isinstance(value, str):
            value = {default_language: value}
        if not isinstance(value, dict):
            return c.error(
                path, f"expected text or a mapping of language -> text, got {_kind(value)}", "type"
            )
        say = {}
        for lang, item in value.items():
            if lang not in languages:
                c.error(
                    (*path, str(lang)),
                    f"language '{lang}' is not declared in flow.languages ({', '.join(languages)})",
                    "undeclared_language",
                )
                continue
            parsed = text(c, item, (*path, lang))
            for problem in [] if parsed is INVALID else placeholder_problems(parsed, placeholders):
                parsed = c.error((*path, lang) if per_language else path, problem, "placeholder")
            if parsed is not INVALID:
                say[lang] = parsed
        missing = [lang for lang in languages if lang not in value]
        for lang in missing:
            c.error(
                path,
                f"no prompt for language '{lang}' (flow declares {', '.join(languages)})",
                "missing_language",
            )
        return Prompt(say=say) if not missing else INVALID

    return read


def did_you_mean(word: str, choices) -> str:
    hint = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{hint[0]}'?)" if hint else ""


def _kind(value) -> str:
    if value is None:
        return "nothing"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "text",
        list: "list",
        dict: "mapping",
    }.get(type(value), type(value).__name__)
