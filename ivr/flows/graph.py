"""Graph checks on a compiled flow: targets, reachability, trap nodes."""

from __future__ import annotations

from ivr.flows.model import TERMINAL_KINDS, Flow, MenuNode
from ivr.flows.schema import Checker, did_you_mean

# Attributes of a node that name another node, in the order an issue is reported.
TARGET_FIELDS = ("next", "barge_in", "fallback", "overflow", "default")


def edges(flow: Flow, node) -> tuple[str, ...]:
    out = node.exits()
    if isinstance(node, MenuNode) and node.operator_key:
        out = (*out, flow.operator)
    return tuple(t for t in out if t)


def _targets(node):
    """(path suffix, target) for every reference a node makes."""
    for f in TARGET_FIELDS:
        value = getattr(node, f, None)
        if value:
            yield (f,), value
    for i, option in enumerate(getattr(node, "options", ())):
        yield ("options", i), option.next
    for i, case in enumerate(getattr(node, "cases", ())):
        yield ("cases", i), case.next


def check(flow: Flow, c: Checker) -> None:
    """Record an issue for every broken reference, unreachable node and trap node."""
    nodes = flow.nodes
    refs_ok = True
    if flow.start not in nodes:
        c.error(
            ("flow", "start"),
            f"start node '{flow.start}' is not a node{did_you_mean(flow.start, nodes)}",
            "missing_target",
        )
        return
    for name, tgt in flow.entries.items():
        if tgt not in nodes:
            refs_ok = False
            c.error(
                ("flow", "entries", name),
                f"entry '{name}' starts on '{tgt}', which is not a node{did_you_mean(tgt, nodes)}",
                "missing_target",
            )
    uses_operator = False
    for node in nodes.values():
        uses_operator |= flow.operator in edges(flow, node)
        for suffix, tgt in _targets(node):
            # A missing operator is reported once, below, not at every default fallback.
            if tgt not in nodes and tgt != flow.operator:
                refs_ok = False
                c.error(
                    ("nodes", node.id, *suffix),
                    f"target '{tgt}' is not a node{did_you_mean(tgt, nodes)}",
                    "missing_target",
                )
    if uses_operator and flow.operator not in nodes:
        c.error(
            ("flow", "operator"),
            f"operator node '{flow.operator}' is not a node"
            f"{did_you_mean(flow.operator, nodes)} (menus use it for key 0 and as the "
            "default fallback)",
            "missing_operator",
        )
        return
    if not refs_ok:
        return
    reachable = _walk([flow.start, *flow.entries.values()], lambda n: edges(flow, nodes[n]))
    incoming: dict[str, list[str]] = {n: [] for n in nodes}
    for node in nodes.values():
        for tgt in edges(flow, node):
            incoming[tgt].append(node.id)
    ends = [n.id for n in nodes.values() if n.kind in TERMINAL_KINDS]
    can_end = _walk(ends, lambda n: incoming[n])
    for node in nodes.values():
        if node.id not in reachable:
            entries = " or an entry" if flow.entries else ""
            c.error(
                ("nodes", node.id),
                f"unreachable: no path from start node '{flow.start}'{entries} leads here",
                "unreachable",
            )
        elif node.id not in can_end:
            c.error(
                ("nodes", node.id), "trap: no path from here ends in a hangup or transfer", "trap"
            )


def _walk(starts, step) -> set[str]:
    seen, todo = set(starts), list(starts)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
