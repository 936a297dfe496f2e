"""Placeholders in prompt text: which prompt may use which, checked once and filled safely.

`{digits}` in a voice message's confirmation is filled by the engine; `{ticket}`
there is a supervisor's typo that used to pass validation and then fail every
call at the worst moment. The builder checks each prompt against the names its
place is filled with; the engine's `fill` never raises (an unfillable prompt is
logged and replaced by the caller's fallback).
"""

from __future__ import annotations

import string

# Per-call values an outgoing call starts with (ivr.outbound): every node's prompts may say
# them, e.g. {reported_on}; a call without one says nothing in its place.
CALL_VARIABLES = ("reported_on", "topic", "reply", "ticket_number")
# Prompt keys of a node, and flow.messages entries, that the engine fills: name -> allowed.
NODE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "confirm": ("digits", "number"),  # record: the new ticket's number, spelt and plain
    "position": ("position",),  # transfer: callers ahead in the queue
}
MESSAGE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "position": ("position",),
    "ticket_readback": ("digits",),
}
_FORMATTER = string.Formatter()


def problems(text: str, allowed: tuple[str, ...]) -> list[str]:
    """What is wrong with the placeholders of `text` where only `allowed` are filled."""
    names = ", ".join(f"{{{a}}}" for a in allowed)
    where = f"allowed here: {names}" if allowed else "this prompt takes none"
    try:
        fields = [(f, conv, spec) for _, f, spec, conv in _FORMATTER.parse(text) if f is not None]
    except ValueError as exc:
        return [f"braces must enclose a placeholder name ({exc}); write {{{{ or }}}} for a brace"]
    out = []
    for name, conversion, spec in fields:
        written = (
            "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
        )
        written += "}"
        if not name:
            out.append(f"placeholder {written} has no name ({where})")
        elif conversion or spec or not name.isidentifier():
            base = name.split(".")[0].split("[")[0]
            out.append(f"placeholder {written}: write just {{{base}}} ({where})")
        elif name not in allowed:
            out.append(f"unknown placeholder {written} ({where})")
    return out


def fill(text: str, values: dict) -> str | None:
    """`text` with its placeholders filled, or None when it cannot be."""
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError, AttributeError, TypeError):
        return None
