"""The one way YAML is read: plain data only, bounded in size, depth and time.

Every YAML file the service reads (flows, drafts, rules, routing, taxonomy, the
knowledge base, the lexicon) is edited by people and some of it arrives over the
web. YAML can do more than those files need, and the extras are the dangerous
part: an alias (`*a`) repeats a node without copying its text, so a 400-byte
"billion laughs" expands to gigabytes; a tag (`!!python/object/apply:…`,
`!!omap`, `!x`) asks the loader to build objects the rest of the code has never
seen (ruamel raises TypeError, not YAMLError, on some of them, and a worker that
loads such a file at boot never comes up).

So the event stream is checked before anything is composed: no anchor, no alias,
no explicit tag; at most `MAX_BYTES` of text, `MAX_DEPTH` levels of nesting and
`MAX_NODES` values, parsed within `MAX_PARSE_SECONDS`. A refusal names the file
and the line. Syntax errors are left to ruamel's own YAMLError (callers already
turn those into file:line messages).
"""

from __future__ import annotations

import time
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
)

MAX_BYTES = 256 * 1024  # the largest shipped file is about 20 kB; flows.yaml 4 kB
MAX_DEPTH = 32  # flows nest about 6 deep; ruamel's composer recurses per level
MAX_NODES = 100_000
MAX_PARSE_SECONDS = 2.0


class YAMLRefused(ValueError):
    """A YAML text that is not plain data within the limits; says where and why."""

    def __init__(self, file: str, line: int | None, message: str, code: str = "yaml_unsafe"):
        self.file, self.line, self.message, self.code = file, line, message, code
        where = file if line is None else f"{file}:{line}"
        super().__init__(f"{where}: {message}")


def check(text: str, file: str = "<yaml>") -> None:
    """Raise YAMLRefused if `text` uses aliases, anchors or tags or exceeds a limit.

    A syntax error is not reported here: loading the text raises ruamel's YAMLError.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YAMLRefused(
            file, None, f"the file is {size:,} bytes; at most {MAX_BYTES:,} are read", "yaml_size"
        )
    try:
        _check_events(YAML(typ="safe").parse(text), file)  # libyaml's parser: fast
    except YAMLError:
        # libyaml and ruamel's own parser disagree on a few corners of YAML 1.2; where
        # libyaml gives up, check with the parser the loaders use (its error, if any,
        # is left for the load to report).
        try:
            _check_events(YAML(typ="rt").parse(text), file)
        except YAMLError:
            return


def _check_events(events, file: str) -> None:
    deadline = time.monotonic() + MAX_PARSE_SECONDS
    depth = nodes = 0
    for event in events:
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, AliasEvent):
            raise YAMLRefused(
                file, line, f"alias '*{event.anchor}' not allowed: write the value out"
            )
        if isinstance(event, NodeEvent):
            if event.anchor is not None:
                raise YAMLRefused(
                    file, line, f"anchor '&{event.anchor}' not allowed: write the value out"
                )
            tag = getattr(event, "tag", None)
            if tag is not None:
                raise YAMLRefused(file, line, f"tag '{_short(tag)}' not allowed: plain values only")
            nodes += 1
            if nodes > MAX_NODES:
                raise YAMLRefused(file, line, f"more than {MAX_NODES:,} values", "yaml_size")
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YAMLRefused(
                    file, line, f"nested more than {MAX_DEPTH} levels deep", "yaml_depth"
                )
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
        if nodes % 1024 == 0 and time.monotonic() > deadline:
            raise YAMLRefused(
                file, line, f"took more than {MAX_PARSE_SECONDS:g} s to read", "yaml_time"
            )


def _short(tag) -> str:
    text = str(tag)
    return "!!" + text.removeprefix("tag:yaml.org,2002:") if text.startswith("tag:") else text


def load(text: str, file: str = "<yaml>", *, round_trip: bool = False):
    """Check, then load: plain dicts/lists/scalars (`round_trip`: ruamel's commented
    maps and sequences, which keep line numbers and comments)."""
    check(text, file)
    return YAML(typ="rt" if round_trip else "safe").load(text)


def read_text(path: str | Path) -> str:
    """A YAML file's text, refusing an oversized file before reading it whole."""
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise YAMLRefused(
            p.name, None, f"the file is {size:,} bytes; at most {MAX_BYTES:,} are read", "yaml_size"
        )
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YAMLRefused(
            p.name, None, f"not UTF-8 text (byte {exc.start})", "yaml_encoding"
        ) from None


def load_file(path: str | Path, *, round_trip: bool = False):
    """Read and load a YAML file (see `load`)."""
    return load(read_text(path), Path(path).name, round_trip=round_trip)
