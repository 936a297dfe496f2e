"""Hostile conditions on live calls: a locked database, a supervisor's slow pattern.

Whatever another call, process or supervisor does, each webhook turn answers
within its time budget, well inside the 15 s Twilio waits: with what the flow
says, or with an apology and the operator.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import create_engine, text

from ivr.calls import TURN_BUDGET_SECONDS
from tests.ivr_support import WORKDAY_MORNING, Phone, set_clock

OPERATOR = "+8605468888888"
TWILIO_WEBHOOK_TIMEOUT = 15  # seconds Twilio waits for a webhook before its own error


def is_apology_and_transfer(root: ET.Element) -> bool:
    dial = root.find("Dial")
    return dial is not None and (dial.text or "").strip() == OPERATOR


class WriteLock:
    """Another process holding the database's write lock (SQLite) or the session table
    (PostgreSQL) until released."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(self.url)
            self.conn = self.engine.connect()
            self.tx = self.conn.begin()
            self.conn.execute(text("LOCK TABLE ivr_call_sessions IN EXCLUSIVE MODE"))
        return self

    def __exit__(self, *exc):
        if self.url.startswith("sqlite"):
            self.conn.execute("ROLLBACK")
            self.conn.close()
        else:
            self.tx.rollback()
            self.conn.close()
            self.engine.dispose()


def test_a_locked_database_delays_no_call_past_its_budget(store_app):
    """Two calls' turns while the database is write-locked for longer than Twilio waits:
    each apologises and transfers within its own budget (before: the second at 20 s)."""
    app = store_app
    set_clock(app, WORKDAY_MORNING)
    phones = [Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex) for _ in range(2)]
    for phone in phones:
        phone.dial()
    results = {}

    def turn(phone):
        start = time.monotonic()
        root = phone.press("1")
        results[phone.call_sid] = (time.monotonic() - start, root)

    with WriteLock(app.config["DATABASE_URL"]):
        threads = [threading.Thread(target=turn, args=(p,)) for p in phones]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=3 * TWILIO_WEBHOOK_TIMEOUT)
    assert len(results) == 2
    for elapsed, root in results.values():
        assert elapsed < TURN_BUDGET_SECONDS + 3 < TWILIO_WEBHOOK_TIMEOUT, elapsed
        assert is_apology_and_transfer(root), ET.tostring(root)
    # Lock gone: the next call is served normally.
    phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    root = phone.dial()
    assert root.find("Gather") is not None and not is_apology_and_transfer(root)


@pytest.mark.parametrize(
    "pattern", [r"(\d|\d)*#", r"(\d+)+0", r"(1*)*2", r"(\d?){20}\d{20}", r"(a|a?)+"]
)
def test_flows_check_refuses_patterns_that_backtrack(pattern, tmp_path):
    from ivr.flows import FlowError, load_text

    source = FLOW_WITH_PATTERN.replace("PATTERN", pattern.replace("\\", "\\\\"))
    with pytest.raises(FlowError) as err:
        load_text(source, "flows.yaml")
    (issue,) = err.value.errors
    assert issue.line == 14 and issue.code == "slow_pattern", issue
    assert "nodes.ask.pattern" in str(issue)


def test_flows_check_accepts_patterns_that_match_in_linear_time():
    from ivr.flows import load_text

    for pattern in (r"\d{6}", r"1[3-9]\d{9}", r"(010|021)\d{8}", r"\d+", r"(0\d{2,3})?\d{7,8}"):
        flow = load_text(FLOW_WITH_PATTERN.replace("PATTERN", pattern.replace("\\", "\\\\")), "f")
        assert flow.nodes["ask"].pattern == pattern


FLOW_WITH_PATTERN = """\
flow:
  name: t
  start: ask
  operator: agent
nodes:
  agent:
    kind: transfer
    queue: agents
  ask:
    kind: digits
    say: 请输入
    next: agent
    max_length: 50
    pattern: "PATTERN"
"""
