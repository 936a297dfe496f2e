"""Read a flow file into plain data plus a map of where each value was written.

ruamel.yaml's round-trip loader keeps line numbers. It speaks YAML 1.2, where
`yes/no/on/off` stay strings; a `%YAML 1.1` directive (which would turn them
back into booleans) is refused, and so are anchors, aliases, tags and oversized
files (core.safeyaml). Nothing YAML-specific leaves this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from core import safeyaml
from ivr.flows.errors import FlowIssue, FlowSyntaxError

Path_ = tuple[str | int, ...]
_DIRECTIVE_RE = re.compile(r"^%YAML\s+(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Document:
    """A flow file as plain dicts/lists/scalars, with line numbers by path."""

    file: str
    data: object
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """Line of the value at `path`, or of its nearest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def format_path(path: Path_) -> str:
    """('nodes', 'menu', 'options', 2) -> 'nodes.menu.options[2]'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _plain(node, path: Path_, lines: dict[Path_, int]):
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            child = (*path, str(key)) if not isinstance(key, str) else (*path, key)
            lines[child] = node.lc.key(key)[0] + 1
            out[key] = _plain(value, child, lines)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for i, value in enumerate(node):
            lines[(*path, i)] = node.lc.item(i)[0] + 1
            out_list.append(_plain(value, (*path, i), lines))
        return out_list
    if isinstance(node, bool):
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node if node is None else (str(node) if isinstance(node, str) else node)


def _syntax_issue(file: str, exc: YAMLError) -> FlowIssue:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, DuplicateKeyError):
        first = exc.context_mark.line + 1 if exc.context_mark else None
        key = re.search(r'duplicate key "([^"]*)"', str(exc.problem))
        name = key.group(1) if key else "?"
        return FlowIssue(
            file,
            line,
            "",
            f"duplicate key '{name}' (first defined at line {first})",
            "duplicate_key",
        )
    problem = exc.problem if isinstance(exc, MarkedYAMLError) and exc.problem else str(exc)
    return FlowIssue(file, line, "", f"YAML syntax error: {problem}", "yaml_syntax")


def read_text(text: str, file: str = "flows.yaml") -> Document:
    """Parse YAML text; raise FlowSyntaxError with file:line on any problem."""
    for match in _DIRECTIVE_RE.finditer(text):
        if match.group(1) != "1.2":
            line = text.count("\n", 0, match.start()) + 1
            raise FlowSyntaxError(
                [
                    FlowIssue(
                        file,
                        line,
                        "",
                        f"%YAML {match.group(1)} directive not allowed: flows are YAML 1.2 "
                        "(yes/no/on/off are plain words, not booleans)",
                        "yaml_version",
                    )
                ]
            )
    try:
        raw = safeyaml.load(text, file, round_trip=True)
    except safeyaml.YAMLRefused as exc:
        raise FlowSyntaxError([FlowIssue(file, exc.line, "", exc.message, exc.code)]) from None
    except YAMLError as exc:
        raise FlowSyntaxError([_syntax_issue(file, exc)]) from None
    lines: dict[Path_, int] = {(): 1}
    data = _plain(raw, (), lines)
    if not isinstance(data, dict):
        raise FlowSyntaxError(
            [
                FlowIssue(
                    file, 1, "", "the file must be a mapping with 'flow' and 'nodes'", "not_mapping"
                )
            ]
        )
    return Document(file, data, lines)


def read_file(path: str | Path) -> tuple[Document, str]:
    """Read and parse a flow file; returns the document and the raw text (for hashing)."""
    p = Path(path)
    try:
        text = safeyaml.read_text(p)
    except safeyaml.YAMLRefused as exc:
        raise FlowSyntaxError([FlowIssue(p.name, exc.line, "", exc.message, exc.code)]) from None
    return read_text(text, p.name), text
