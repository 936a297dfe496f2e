"""Hostile conditions on live calls: a locked database, a supervisor's slow pattern.

Whatever another call, process or supervisor does, each webhook turn answers
within its time budget, well inside the 15 s Twilio waits: with what the flow
says, or with an apology and the operator.
"""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import create_engine, select, text

from core.db import get_db
from ivr.calls import ERROR_MARK_SECONDS, TURN_BUDGET_SECONDS
from ivr.flows.messages import spell_digits
from ivr.flows.model import Prompt
from ivr.models import Call, FlowPublication
from ivr.registry import FLOW_RELOAD_INTERVAL
from ivr.services import DbServices
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
        # The bound is Twilio's, not the budget plus a guess at this machine's speed.
        assert TURN_BUDGET_SECONDS <= elapsed < TWILIO_WEBHOOK_TIMEOUT, elapsed
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


# -- placeholders in prompts, and the ticket before the prompt --------------------------

MESSAGE_FLOW = """\
flow:
  name: t
  start: leave_message
  operator: agent
nodes:
  agent:
    kind: transfer
    queue: agents
  leave_message:
    kind: record
    say: 请在提示音后留言。
    confirm: 您的工单编号是{digits}，谢谢。
    next: news
  news:
    kind: notices
    next: bye
  bye:
    kind: hangup
    say: 再见。
"""


def test_flows_check_names_an_unknown_placeholder_and_the_allowed_ones():
    from ivr.flows import FlowError, load_text

    source = MESSAGE_FLOW.replace("{digits}", "{ticket}")
    with pytest.raises(FlowError) as err:
        load_text(source, "flows.yaml")
    assert [str(e) for e in err.value.errors] == [
        "flows.yaml:12 nodes.leave_message.confirm: unknown placeholder {ticket} "
        "(allowed here: {digits}, {number})"
    ]


@pytest.mark.parametrize(
    ("where", "text", "message"),
    [
        ("say", "请留言{digits}", "unknown placeholder {digits} (allowed here: {reported_on}, "),
        ("confirm", "编号{digits!r}", "placeholder {digits!r}: write just {digits}"),
        ("confirm", "编号{number.__class__}", "placeholder {number.__class__}: write just"),
        ("confirm", "编号{}", "placeholder {} has no name (allowed here: {digits}, {number})"),
        ("confirm", "编号{digits", "braces must enclose a placeholder name"),
    ],
)
def test_flows_check_refuses_placeholders_the_prompt_cannot_fill(where, text, message):
    from ivr.flows import FlowError, load_text

    line = {
        "say": "    say: 请在提示音后留言。",
        "confirm": "    confirm: 您的工单编号是{digits}，谢谢。",
    }
    source = MESSAGE_FLOW.replace(line[where], f"    {where}: {text}")
    with pytest.raises(FlowError) as err:
        load_text(source, "flows.yaml")
    assert len(err.value.errors) == 1 and message in str(err.value.errors[0]), err.value.errors


def message_line(make_app, tmp_path):
    flows = tmp_path / "flows.yaml"
    flows.write_text(MESSAGE_FLOW)
    app = make_app(FLOWS_PATH=str(flows))
    set_clock(app, WORKDAY_MORNING)
    return app


def install(app, flow) -> None:
    """Serve a flow that bypassed validation (as a version stored before a check existed)."""
    registry = app.extensions["ivr.flows"]
    registry._versions[flow.version] = flow
    registry.current = flow


def saved(app, call_sid: str) -> tuple:
    from ivr.models import Call
    from tickets.models import Ticket

    with app.app_context(), get_db(app).session() as s:
        call = s.scalar(select(Call).where(Call.call_sid == call_sid))
        tickets = s.scalars(select(Ticket).where(Ticket.call_sid == call_sid)).all()
        return call.outcome, call.needs_return_call, [t.number for t in tickets]


def test_a_prompt_that_cannot_be_filled_keeps_the_ticket_and_reads_the_number(make_app, tmp_path):
    app = message_line(make_app, tmp_path)
    flow = app.extensions["ivr.flows"].latest()
    node = flow.nodes["leave_message"]
    broken = Prompt(say={"zh-CN": "您的工单编号是{ticket}，谢谢。"})
    nodes = {**flow.nodes, "leave_message": dataclasses.replace(node, confirm=broken)}
    install(app, dataclasses.replace(flow, nodes=nodes))
    phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    phone.dial()
    root = phone.leave_recording()
    assert not is_apology_and_transfer(root), phone.raw
    outcome, return_call, tickets = saved(app, phone.call_sid)
    assert len(tickets) == 1 and outcome == "voice_message"
    said = " ".join(phone.said())
    assert "工单编号是" in said and "{" not in said  # the built-in readback of the number
    assert " ".join(spell_digits(tickets[0], "zh-CN").split()) in said


def test_a_failure_after_the_ticket_keeps_it_and_flags_a_return_call(
    make_app, tmp_path, monkeypatch
):
    app = message_line(make_app, tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("notices table unreadable")

    monkeypatch.setattr(DbServices, "active_notices", broken)
    phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    phone.dial()
    root = phone.leave_recording()
    assert is_apology_and_transfer(root), phone.raw
    outcome, return_call, tickets = saved(app, phone.call_sid)
    assert len(tickets) == 1, "the caller's message was rolled back"
    assert outcome == "error_transfer" and return_call is True


def test_a_rendering_failure_after_the_ticket_keeps_it_and_flags_a_return_call(
    make_app, tmp_path, monkeypatch
):
    from telephony import twiml

    app = message_line(make_app, tmp_path)
    phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    phone.dial()

    def broken(*args, **kwargs):
        raise UnicodeEncodeError("utf-8", "", 0, 1, "unrenderable prompt")

    monkeypatch.setattr(twiml, "render", broken)
    root = phone.leave_recording()
    assert is_apology_and_transfer(root), phone.raw
    monkeypatch.undo()
    phone.hang_up()
    outcome, return_call, tickets = saved(app, phone.call_sid)
    assert len(tickets) == 1 and outcome == "error_transfer" and return_call is True


# -- every worker serves the same flow ---------------------------------------------------


def write_flow(path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()  # seen as a change even within the file system's time granularity
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_workers_agree_on_the_flow_after_a_good_edit_then_a_broken_save(make_app, tmp_path):
    """Two workers on one database and file: worker A sees a good edit, then the file is saved
    broken before worker B looked; B must serve A's version, not its own last good one."""
    path = tmp_path / "flows.yaml"
    write_flow(path, MESSAGE_FLOW)
    workers = [make_app(FLOWS_PATH=str(path)) for _ in "AB"]
    for app in workers:
        set_clock(app, WORKDAY_MORNING)

    def new_call(app) -> str:
        phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
        phone.dial()
        with app.app_context(), get_db(app).session() as s:
            return s.scalar(select(Call.flow_version).where(Call.call_sid == phone.call_sid))

    first = {new_call(app) for app in workers}
    assert len(first) == 1
    time.sleep(FLOW_RELOAD_INTERVAL)
    write_flow(path, MESSAGE_FLOW.replace("请在提示音后留言。", "请留言。"))
    edited = new_call(workers[0])
    assert edited not in first
    write_flow(path, MESSAGE_FLOW.replace("next: news", "next: nowhere"))  # a broken save
    time.sleep(FLOW_RELOAD_INTERVAL)
    assert [new_call(app) for app in workers * 2] == [edited] * 4
    # A restarted worker with the broken file on disk serves the same version too.
    assert new_call(make_app(FLOWS_PATH=str(path))) == edited


def test_a_publication_rolled_back_with_its_turn_is_made_again(make_app, tmp_path, monkeypatch):
    from ivr.flows import engine

    path = tmp_path / "flows.yaml"
    write_flow(path, MESSAGE_FLOW)
    app = make_app(FLOWS_PATH=str(path))
    set_clock(app, WORKDAY_MORNING)
    real_start = engine.start

    def fails_once(*args, **kwargs):
        monkeypatch.setattr(engine, "start", real_start)
        raise RuntimeError("the first turn fails after the flow was published")

    monkeypatch.setattr(engine, "start", fails_once)
    first = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    assert is_apology_and_transfer(first.dial())  # its transaction, publication included, undone
    second = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    root = second.dial()
    assert not is_apology_and_transfer(root), second.raw
    with app.app_context(), get_db(app).session() as s:
        published = s.scalars(select(FlowPublication.version)).all()
        version = s.scalar(select(Call.flow_version).where(Call.call_sid == second.call_sid))
    assert published == [version]


def test_the_fallback_url_apologises_at_once_with_the_database_locked(make_app):
    app = make_app(OPERATOR_NUMBER=OPERATOR)
    set_clock(app, WORKDAY_MORNING)
    phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    phone.dial()
    with WriteLock(app.config["DATABASE_URL"]):
        start = time.monotonic()
        resp = phone.post("/ivr/fallback", ErrorCode="11200")
        elapsed = time.monotonic() - start
    assert resp.status_code == 200 and is_apology_and_transfer(ET.fromstring(resp.data))
    # Its own short wait, not a turn's budget nor SQLite's 10 s busy wait (the bound sits
    # halfway, so the machine's load does not decide).
    assert ERROR_MARK_SECONDS <= elapsed < (ERROR_MARK_SECONDS + TURN_BUDGET_SECONDS) / 2, elapsed
