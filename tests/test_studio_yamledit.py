"""Studio edits keep the supervisor's file: comments, key order, quoting, flow lists."""

from __future__ import annotations

import difflib

import pytest

from core.config import ROOT
from ivr.flows import load_text
from studio.revisions import StudioError
from studio.yamledit import round_trip, set_prompt


@pytest.mark.parametrize("name", ["flows.yaml", "examples/classic_menu.yaml"])
def test_round_trip_is_byte_for_byte(name):
    text = (ROOT / name).read_text(encoding="utf-8")
    assert round_trip(text) == text


def test_set_prompt_changes_one_line_only():
    text = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    new = set_prompt(text, "goodbye", "感谢来电，祝您生活愉快。")
    changed = [
        line
        for line in difflib.ndiff(text.splitlines(), new.splitlines())
        if line.startswith(("+ ", "- "))
    ]
    assert changed == ["-     say: 感谢您的来电，再见。", "+     say: 感谢来电，祝您生活愉快。"]
    assert load_text(new).nodes["goodbye"].prompt.say["zh-CN"] == "感谢来电，祝您生活愉快。"


def test_set_prompt_in_a_language_mapping():
    text = (
        "flow:\n  name: t\n  start: hi\n  languages: [zh-CN, en]\n  operator: bye\n"
        "nodes:\n  hi:  # greeting\n    kind: prompt\n    say:\n      zh-CN: 你好\n"
        "      en: Hello\n    next: bye\n  bye:\n    kind: hangup\n    say: 再见\n"
    )
    new = set_prompt(text, "hi", "Good morning", "en")
    assert "      en: Good morning\n" in new and "      zh-CN: 你好\n" in new
    assert "  hi:  # greeting\n" in new


def test_set_prompt_errors():
    text = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    with pytest.raises(StudioError, match="no node 'nope'"):
        set_prompt(text, "nope", "x")
    with pytest.raises(StudioError, match="empty"):
        set_prompt(text, "goodbye", "  ")
    with pytest.raises(StudioError, match="not readable YAML"):
        set_prompt("nodes: [", "goodbye", "x")
