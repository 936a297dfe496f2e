"""Which nodes of the published flow read a knowledge-base article."""

from __future__ import annotations

from flask import current_app

from ivr.registry import FlowUnavailable


def nodes_using(key: str, s=None) -> list[str]:
    """Names of the `kb` nodes of the flow new calls start on that read article `key`
    (with a session: the version published in the database, as every process serves)."""
    registry = current_app.extensions.get("ivr.flows")
    if registry is None:
        return []
    try:
        flow = registry.latest(s)
    except FlowUnavailable:
        return []
    return sorted(
        name
        for name, node in flow.nodes.items()
        if node.kind == "kb" and getattr(node, "article", "") == key
    )


def in_use_message(key: str, nodes: list[str]) -> str:
    names = ", ".join(f"'{n}'" for n in nodes)
    return (
        f"知识 {key} 正被已发布流程的节点 {names} 使用，不能停用 "
        f"(article {key} is used by node {names} of the published flow: "
        f"point the node at another article in the flow studio first)"
    )
