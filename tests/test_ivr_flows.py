"""Flow reader/validator: the shipped flows load; each broken fixture gives its exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.flows import FlowError, FlowGraphError, FlowShapeError, FlowSyntaxError, load_flow
from ivr.flows.model import MenuNode, TransferNode

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path(__file__).resolve().parent / "flows_broken"

EXPECTED = {
    "bad_id": (
        FlowShapeError,
        [
            "bad_id.yaml:5 nodes.Greeting: node id 'Greeting' must be lowercase letters, digits and _ "
            "starting with a letter"
        ],
    ),
    "bad_key": (
        FlowShapeError,
        [
            "bad_key.yaml:10 nodes.menu.options[0].key: keypad key must be one of 0-9, * or # "
            "(got '12')"
        ],
    ),
    "bad_pattern": (
        FlowShapeError,
        [
            "bad_pattern.yaml:8 nodes.number.pattern: bad pattern '2026[0-9': unterminated character "
            "set at position 4"
        ],
    ),
    "bad_window": (
        FlowShapeError,
        [
            "bad_window.yaml:8 nodes.hours.cases[0].when.hours: bad time window '20:00-08:00': start "
            "must be before end"
        ],
    ),
    "duplicate_menu_key": (
        FlowShapeError,
        [
            "duplicate_menu_key.yaml:14 nodes.menu.options[2].key: duplicate key '1' (already used by "
            "options[0])"
        ],
    ),
    "duplicate_node_id": (
        FlowSyntaxError,
        ["duplicate_node_id.yaml:11: duplicate key 'greeting' (first defined at line 5)"],
    ),
    "missing_key": (
        FlowShapeError,
        ["missing_key.yaml:5 nodes.greeting: missing required key 'next'"],
    ),
    "missing_language": (
        FlowShapeError,
        [
            "missing_language.yaml:8 nodes.greeting.say: no prompt for language 'en-US' (flow declares "
            "zh-CN, en-US)"
        ],
    ),
    "missing_operator": (
        FlowGraphError,
        [
            "missing_operator.yaml:1 flow.operator: operator node 'operator' is not a node (menus use "
            "it for key 0 and as the default fallback)"
        ],
    ),
    "missing_start": (
        FlowGraphError,
        [
            "missing_start.yaml:3 flow.start: start node 'welcom' is not a node (did you mean "
            "'welcome'?)"
        ],
    ),
    "missing_target": (
        FlowGraphError,
        [
            "missing_target.yaml:14 nodes.main_menu.options[2]: target 'heatng' is not a node (did you "
            "mean 'heating'?)"
        ],
    ),
    "not_a_number": (
        FlowShapeError,
        [
            "not_a_number.yaml:8 nodes.agents.overflow_after: expected a whole number of seconds "
            "1-3600, got 'fifteen'"
        ],
    ),
    "reserved_key": (
        FlowShapeError,
        [
            "reserved_key.yaml:10 nodes.menu.options[0].key: key '0' reaches the operator in every "
            "menu (set operator_key: false to use it)"
        ],
    ),
    "transfer_target": (
        FlowShapeError,
        ["transfer_target.yaml:5 nodes.agents: a transfer needs exactly one of 'queue' or 'dial'"],
    ),
    "trap": (
        FlowGraphError,
        [
            "trap.yaml:10 nodes.loop_a: trap: no path from here ends in a hangup or transfer",
            "trap.yaml:13 nodes.loop_b: trap: no path from here ends in a hangup or transfer",
        ],
    ),
    "unknown_key": (
        FlowShapeError,
        [
            "unknown_key.yaml:7 nodes.greeting.sya: unknown key 'sya' for a prompt node (did you mean "
            "'say'? allowed: kind, say, audio, next, barge_in, barge_in_timeout)"
        ],
    ),
    "unknown_kind": (
        FlowShapeError,
        [
            "unknown_kind.yaml:6 nodes.greeting.kind: unknown node kind 'promt' (did you mean "
            "'prompt'?) (allowed: prompt, menu, digits, record, transfer, branch, notices, kb, "
            "ticket_status, goto, hangup, result, opt_out)"
        ],
    ),
    "unquoted_key": (
        FlowShapeError,
        [
            "unquoted_key.yaml:10 nodes.menu.options[0].key: keypad key must be a quoted string, "
            'e.g. "1" (got integer 1)'
        ],
    ),
    "unreachable": (
        FlowGraphError,
        [
            "unreachable.yaml:9 nodes.orphan: unreachable: no path from start node 'greeting' leads "
            "here"
        ],
    ),
    "yaml11_bool": (
        FlowShapeError,
        [
            "yaml11_bool.yaml:9 nodes.menu.operator_key: expected true or false, got 'no' (YAML 1.1 "
            "yes/no/on/off are not booleans here)"
        ],
    ),
    "yaml11_directive": (
        FlowSyntaxError,
        [
            "yaml11_directive.yaml:1: %YAML 1.1 directive not allowed: flows are YAML 1.2 "
            "(yes/no/on/off are plain words, not booleans)"
        ],
    ),
    "unknown_entry": (
        FlowShapeError,
        [
            "unknown_entry.yaml:5 flow.entries.surveys: unknown entry 'surveys' "
            "(did you mean 'survey'?) (allowed: survey, return_call)"
        ],
    ),
    "unknown_value": (
        FlowShapeError,
        [
            "unknown_value.yaml:7 nodes.greeting.result: unknown value 'satisfed' "
            "(did you mean 'satisfied'?) (allowed: satisfied, basically_satisfied, "
            "dissatisfied, unanswered, reached)"
        ],
    ),
    "missing_entry_target": (
        FlowGraphError,
        [
            "missing_entry_target.yaml:5 flow.entries.survey: entry 'survey' starts on "
            "'survay', which is not a node (did you mean 'survey'?)"
        ],
    ),
    "yaml_syntax": (
        FlowSyntaxError,
        ["yaml_syntax.yaml:8: YAML syntax error: found unexpected end of stream"],
    ),
}


def test_every_fixture_has_an_expectation():
    assert sorted(p.stem for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_flow_message(name):
    cls, messages = EXPECTED[name]
    with pytest.raises(FlowError) as info:
        load_flow(BROKEN / f"{name}.yaml")
    assert type(info.value) is cls
    assert [str(e) for e in info.value.errors] == messages
    assert all(e.file == f"{name}.yaml" and e.line for e in info.value.errors)


def test_all_errors_reported_at_once(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_text(
        (BROKEN / "unknown_key.yaml").read_text()
        + "  menu:\n    kind: menu\n    say: x\n    options:\n      - key: 1\n"
        "        next: bye\n",
        encoding="utf-8",
    )
    with pytest.raises(FlowShapeError) as info:
        load_flow(path)
    assert [e.code for e in info.value.errors] == ["unknown_key", "unquoted_key"]


@pytest.mark.parametrize("path", ["flows.yaml", "examples/classic_menu.yaml"])
def test_shipped_flows_load(path):
    flow = load_flow(ROOT / path)
    assert flow.start in flow.nodes
    assert len(flow.version) == 12
    assert all(lang in p.say for p in flow.messages.values() for lang in flow.languages)


def test_shipped_flow_follows_gbt_33358():
    flow = load_flow(ROOT / "flows.yaml")
    queue = flow.nodes["agent_queue"]
    assert isinstance(queue, TransferNode) and queue.overflow_after == 15
    # No menu between greeting and agent: the first menu is only reached by a key press.
    assert flow.nodes["greeting"].next == "notices"
    assert not isinstance(flow.nodes[flow.start], MenuNode)


def test_yaml11_words_stay_strings(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_text(
        "flow:\n  name: t\n  start: bye\nnodes:\n  bye:\n    kind: hangup\n    say: no\n",
        encoding="utf-8",
    )
    assert load_flow(path).nodes["bye"].prompt.say == {"zh-CN": "no"}


def test_cli_check_ok_and_errors(runner):
    ok = runner.invoke(args=["flows", "check", str(ROOT / "examples" / "classic_menu.yaml")])
    assert ok.exit_code == 0 and "ok" in ok.output
    bad = runner.invoke(args=["flows", "check", str(BROKEN / "trap.yaml")])
    assert bad.exit_code == 1
    assert "trap.yaml:10 nodes.loop_a: trap" in bad.output
    assert "2 error(s)" in bad.output
