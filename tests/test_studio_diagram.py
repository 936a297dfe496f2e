"""The diagram: every node and every exit of the shipped flow is drawn, with its label."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from core.config import ROOT
from ivr.flows import load_flow
from studio.diagram import labelled_exits, render_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_every_node_and_exit_is_drawn():
    flow = load_flow(ROOT / "flows.yaml")
    root = ET.fromstring(render_svg(flow))
    nodes = {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}
    assert set(nodes) == set(flow.nodes)
    edges = {
        (g.get("data-from"), g.get("data-to")) for g in root.iter(f"{SVG}g") if g.get("data-from")
    }
    expected = {(nid, t) for nid, node in flow.nodes.items() for t, _ in labelled_exits(node)}
    assert edges == expected
    assert "start" in nodes[flow.start].get("class")
    assert nodes["greeting"].get("data-line") == str(flow.nodes["greeting"].line)
    assert nodes["goodbye"].get("data-say") == "感谢您的来电，再见。"


def test_exit_labels_name_keys_and_conditions():
    flow = load_flow(ROOT / "flows.yaml")
    labels = dict(labelled_exits(flow.nodes["self_service"]))
    assert labels["heating"] == "按3"
    branch = labelled_exits(flow.nodes["opening_hours"])
    assert branch == [
        ("after_hours", "节假日"),
        ("agent_queue", "08:00-20:00"),
        ("after_hours", "否则"),
    ]


def test_outgoing_call_entries_start_their_own_columns():
    flow = load_flow(ROOT / "flows.yaml")
    root = ET.fromstring(render_svg(flow))
    nodes = {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}
    assert nodes["survey"].get("data-entry") == "survey"
    assert nodes["return_call"].get("data-entry") == "return_call"
    assert "start" in nodes["survey"].get("class")
    x = {nid: float(g.find(f"{SVG}rect").get("x")) for nid, g in nodes.items()}
    assert x["survey"] == x["greeting"] == x["return_call"]  # the first column
    assert x["survey_question"] > x["survey_topic"] > x["survey"]
    assert dict(labelled_exits(flow.nodes["survey"]))["survey_topic"] == "有reported_on、topic"
