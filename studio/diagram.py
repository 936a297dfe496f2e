"""The flow as a picture: server-side SVG of nodes and their exits.

Layout is layered by distance from the start node (columns left to right),
which keeps a dozen-node hotline flow readable without a layout engine or a
script from a CDN. Every node is `<g class="node" data-node="id">`, so the web
phone can light up the path a call takes.
"""

from __future__ import annotations

from collections import deque
from html import escape

from ivr.flows.model import Flow, Node, Prompt

NODE_W, NODE_H = 176, 58
COL_GAP, ROW_GAP, MARGIN = 74, 20, 16
CHAR_W = 12.5  # width of a CJK character at the node text size
STYLE = (
    ".node rect{fill:#fff;stroke:#8a97a6;stroke-width:1.2}"
    ".node.start rect{stroke:#1f5fae;stroke-width:2}"
    ".node.kind-transfer rect{fill:#eef6ee}.node.kind-hangup rect{fill:#f4f4f4}"
    ".node.kind-record rect{fill:#fff7e8}.node.kind-menu rect{fill:#eef3fb}"
    ".node.visited rect{fill:#fde9c8;stroke:#a86400;stroke-width:2}"
    ".node.current rect{fill:#ffd27a;stroke:#b3261e;stroke-width:3}"
    ".node.error rect{stroke:#b3261e;stroke-dasharray:4 3}"
    ".node text{font:12px sans-serif;fill:#1d2733}.node .node-id{font-weight:700}"
    ".node .node-kind{fill:#64707d;font-size:11px}.node .node-say{fill:#39495a}"
    ".edge path{fill:none;stroke:#9aa6b2;stroke-width:1.3}"
    ".edge.visited path{stroke:#a86400;stroke-width:2.5}"
    ".edge-label{font:11px sans-serif;fill:#4d5966;text-anchor:middle;paint-order:stroke;"
    "stroke:#fff;stroke-width:3px}"
    "marker path{fill:#9aa6b2}"
)
KIND_LABEL = {
    "prompt": "播报",
    "menu": "菜单",
    "digits": "按键输入",
    "record": "留言",
    "transfer": "转人工",
    "branch": "条件",
    "notices": "通知",
    "kb": "知识库",
    "ticket_status": "工单查询",
    "goto": "跳转",
    "hangup": "挂机",
    "result": "记录结果",
    "opt_out": "不再回访",
}
ENTRY_LABEL = {"survey": "回访入口", "return_call": "回拨入口"}


def labelled_exits(node: Node) -> list[tuple[str, str]]:
    """(target, label) for every exit of a node."""
    out: list[tuple[str, str]] = []
    for opt in getattr(node, "options", ()):
        label = f"按{opt.key}" if opt.key else "/".join(opt.keywords[:2])
        out.append((opt.next, label))
    for case in getattr(node, "cases", ()):
        when = case.when
        bits = [
            when.hours or "",
            "节假日" if when.holiday else "",
            "工作日" if when.workday else "",
            "应急" if when.incident_mode else "",
            "有" + "、".join(when.has) if when.has else "",
        ]
        out.append((case.next, " ".join(b for b in bits if b) or "条件"))
    if getattr(node, "barge_in", None):
        out.append((node.barge_in, "任意键"))
    if getattr(node, "overflow", None):
        out.append((node.overflow, f"等待>{node.overflow_after}s"))
    if getattr(node, "default", None):
        out.append((node.default, "否则"))
    if getattr(node, "fallback", None):
        out.append((node.fallback, "无输入"))
    if node.next:
        out.append((node.next, ""))
    return out


def _layers(flow: Flow) -> list[list[str]]:
    """Columns by distance from the start node and the outgoing calls' entries."""
    roots = list(dict.fromkeys([flow.start, *flow.entries.values()]))
    depth = dict.fromkeys(roots, 0)
    todo = deque(roots)
    while todo:
        nid = todo.popleft()
        for target, _ in labelled_exits(flow.nodes[nid]):
            if target in flow.nodes and target not in depth:
                depth[target] = depth[nid] + 1
                todo.append(target)
    last = max(depth.values(), default=0) + 1
    layers: dict[int, list[str]] = {}
    for nid in flow.nodes:  # file order within a column, as the supervisor wrote them
        layers.setdefault(depth.get(nid, last), []).append(nid)
    return [layers[k] for k in sorted(layers)]


def _caption(prompt: Prompt | None, language: str) -> str:
    if prompt is None:
        return ""
    text = prompt.say.get(language) or next(iter(prompt.say.values()), "") or prompt.audio or ""
    room = int((NODE_W - 16) / CHAR_W)
    return text if len(text) <= room else text[: room - 1] + "…"


def render_svg(flow: Flow) -> str:
    """An SVG document (string) of the flow."""
    layers = _layers(flow)
    pos: dict[str, tuple[float, float]] = {}
    for col, ids in enumerate(layers):
        for row, nid in enumerate(ids):
            pos[nid] = (MARGIN + col * (NODE_W + COL_GAP), MARGIN + row * (NODE_H + ROW_GAP))
    width = MARGIN * 2 + len(layers) * (NODE_W + COL_GAP) - COL_GAP / 2  # room for arcs
    height = MARGIN * 2 + max(len(ids) for ids in layers) * (NODE_H + ROW_GAP) - ROW_GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-label="{escape(flow.name)}">',
        f"<style>{STYLE}</style>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/>'
        "</marker></defs>",
    ]
    for nid, node in flow.nodes.items():
        for target, label in labelled_exits(node):
            if target in pos:
                parts.append(_edge(pos[nid], pos[target], nid, target, label))
    entries = {nid: name for name, nid in flow.entries.items()}
    for nid, node in flow.nodes.items():
        parts.append(
            _node(nid, node, pos[nid], nid == flow.start, flow.default_language, entries.get(nid))
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _edge(a, b, src: str, dst: str, label: str) -> str:
    (ax, ay), (bx, by) = a, b
    if bx > ax:  # forward: right side to left side
        x1, y1, x2, y2 = ax + NODE_W, ay + NODE_H / 2, bx, by + NODE_H / 2
        mid = (x1 + x2) / 2
        d = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = mid, (y1 + y2) / 2 - 4
    elif bx == ax:  # same column: an arc out to the right, back into the target's side
        x1, y1, x2, y2 = ax + NODE_W, ay + NODE_H * 0.7, bx + NODE_W, by + NODE_H * 0.3
        out = x1 + COL_GAP * 0.45
        d = f"M{x1:.0f},{y1:.0f} C{out:.0f},{y1:.0f} {out:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = out - 6, (y1 + y2) / 2 + 4
    else:  # back to an earlier column: under the row of both boxes
        x1, y1, x2, y2 = ax + NODE_W / 2, ay + NODE_H, bx + NODE_W / 2, by + NODE_H
        drop = max(y1, y2) + ROW_GAP * 0.9
        d = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{drop:.0f} {x2:.0f},{drop:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = (x1 + x2) / 2, drop - 2
    text = (
        f'<text x="{lx:.0f}" y="{ly:.0f}" class="edge-label">{escape(label)}</text>'
        if label
        else ""
    )
    return (
        f'<g class="edge" data-from="{escape(src)}" data-to="{escape(dst)}">'
        f'<path d="{d}" marker-end="url(#arrow)"/>{text}</g>'
    )


def _node(nid: str, node: Node, at, start: bool, language: str, entry: str | None) -> str:
    x, y = at
    kind = KIND_LABEL.get(node.kind, node.kind)
    if entry:  # the kind shows in the node's colour; the entry matters more here
        kind = ENTRY_LABEL.get(entry, entry)
    cls = f"node kind-{escape(node.kind)}" + (" start" if start or entry else "")
    line = f' data-line="{node.line}"' if node.line else ""
    line += f' data-entry="{escape(entry)}"' if entry else ""
    if node.prompt is not None and node.prompt.say:  # full text, for the prompt editor
        text = node.prompt.say.get(language) or next(iter(node.prompt.say.values()))
        line += f' data-say="{escape(text)}"'
    return (
        f'<g class="{cls}" data-node="{escape(nid)}"{line}>'
        f"<title>{escape(nid)} ({escape(node.kind)})</title>"
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="7"/>'
        f'<text x="{x + 8:.0f}" y="{y + 18:.0f}" class="node-id">{escape(nid)}</text>'
        f'<text x="{x + NODE_W - 8:.0f}" y="{y + 18:.0f}" class="node-kind" '
        f'text-anchor="end">{escape(kind)}</text>'
        f'<text x="{x + 8:.0f}" y="{y + 42:.0f}" class="node-say">'
        f"{escape(_caption(node.prompt, language))}</text></g>"
    )
