"""Survey requests from real ticket resolutions; attempt outcomes and retries; DNC; pause."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callbacks import models as m
from callbacks import service
from callbacks.policy import Policy
from core.db import get_db
from tickets import service as tickets
from tickets.models import Department, Topic

SH = ZoneInfo("Asia/Shanghai")
NUMBER = "+8613812345678"


def resolved_ticket(s, reply="已安排维修，供暖已恢复。", caller=NUMBER):
    dept = s.scalar(select(Department).where(Department.code == "heat")) or Department(
        code="heat", name="热力公司"
    )
    if s.scalar(select(Topic).where(Topic.code == "heating")) is None:
        s.add(Topic(code="heating", name="供暖"))
    s.add(dept)
    s.flush()
    ticket = tickets.create_ticket(
        s, channel="phone", caller_number=caller, topic="heating", description="暖气不热"
    )
    tickets.dispatch(s, ticket, dept, actor="agent")
    tickets.resolve(s, ticket, reply=reply, actor="dept")
    return ticket


@pytest.mark.store
def test_resolving_a_ticket_requests_a_survey_on_the_next_working_day(store_app):
    with store_app.app_context(), get_db().session() as s:
        ticket = resolved_ticket(s)
        req = s.scalar(select(m.CallbackRequest).where(m.CallbackRequest.ticket_id == ticket.id))
        assert req.kind == m.SATISFACTION and req.number == NUMBER and req.resolution_no == 1
        assert req.script["topic"] == "供暖" and req.script["reply"] == "已安排维修，供暖已恢复。"
        [attempt] = req.attempts
        due = m.aware(attempt.due_at).astimezone(SH)
        assert due.time().hour == 9 and due.date() > datetime.now(SH).date()
        assert attempt.state == m.SCHEDULED


@pytest.mark.store
def test_second_resolution_supersedes_the_first_survey(store_app):
    with store_app.app_context(), get_db().session() as s:
        ticket = resolved_ticket(s)
        tickets.record_satisfaction(s, ticket.id, result="dissatisfied", comment=None)
        assert ticket.status == "reopened"
        tickets.dispatch(s, ticket, ticket.department, actor="agent")
        tickets.resolve(s, ticket, reply="已更换阀门。", actor="dept")
        reqs = s.scalars(select(m.CallbackRequest).order_by(m.CallbackRequest.id)).all()
        assert [(r.resolution_no, r.counts, r.state) for r in reqs] == [
            (1, False, m.CANCELLED),
            (2, True, m.PENDING),
        ]
        assert reqs[0].attempts[0].state == m.FINISHED


@pytest.mark.store
def test_do_not_call_number_gets_no_survey_and_cancels_pending(store_app):
    with store_app.app_context(), get_db().session() as s:
        first = resolved_ticket(s)
        assert service.add_do_not_call(s, NUMBER, source="manual", actor="sup")
        assert not service.add_do_not_call(s, NUMBER, source="manual", actor="sup")
        req1 = s.scalar(select(m.CallbackRequest).where(m.CallbackRequest.ticket_id == first.id))
        assert req1.state == m.SKIPPED
        second = resolved_ticket(s)
        req2 = s.scalar(select(m.CallbackRequest).where(m.CallbackRequest.ticket_id == second.id))
        assert req2.state == m.SKIPPED and req2.attempts == []


def _attempt(s, policy, status, answered_by=None, outcome=None):
    now = datetime(2026, 11, 26, 10, 0, tzinfo=SH)
    req = m.CallbackRequest(
        kind=m.SATISFACTION, ticket_id=1, resolution_no=1, number=NUMBER, script={}
    )
    att = m.CallbackAttempt(
        request=req,
        attempt_no=1,
        number=NUMBER,
        due_at=now,
        state=m.PLACED,
        status=status,
        answered_by=answered_by,
        outcome=outcome,
    )
    s.add_all([req, att])
    s.flush()
    return att, service.finish_attempt(s, att, now=now, policy=policy)


@pytest.mark.parametrize(
    "status, answered_by, outcome, retried",
    [
        ("busy", None, None, True),
        ("no-answer", None, None, True),
        ("failed", None, None, True),
        ("completed", "machine_end_beep", None, True),
        ("completed", "human", "unanswered", True),
        ("completed", "human", "answered", False),
        ("completed", "human", "opted_out", False),
        ("completed", "human", None, False),  # hung up before answering
        ("canceled", None, None, False),
    ],
)
def test_which_outcomes_are_retried_30_minutes_later(app, status, answered_by, outcome, retried):
    policy = Policy.from_config(app.config)
    with app.app_context(), get_db().session() as s:
        att, nxt = _attempt(s, policy, status, answered_by, outcome)
        assert (nxt is not None) == retried
        if retried:
            assert nxt.attempt_no == 2
            assert m.aware(nxt.due_at) == datetime(2026, 11, 26, 10, 30, tzinfo=SH)
            assert att.request.state == m.PENDING
        else:
            assert att.request.state != m.PENDING


def test_pause_switch(app):
    with app.app_context(), get_db().session() as s:
        assert not service.is_paused(s)
        service.set_paused(s, True, actor="sup")
    with app.app_context(), get_db().session() as s:
        assert service.is_paused(s)
        service.set_paused(s, False, actor="sup")
        assert not service.is_paused(s)
