"""tickets.service over SQLite and PostgreSQL: numbering, idempotency, life cycle, audit."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from core.calendar import add_working_days
from core.db import Database, get_db
from tickets import service
from tickets.errors import TransitionError, ValidationError
from tickets.models import Department, Ticket, TicketEvent

pytestmark = pytest.mark.store


def _dept(s, code="heating_office", name="市供热办"):
    dept = Department(code=code, name=name, active=True)
    s.add(dept)
    s.flush()
    return dept


def test_create_assigns_dated_number_and_e164(store_app):
    with store_app.app_context(), get_db().session() as s:
        first = service.create_ticket(
            s, channel="voice_message", caller_number="13812345678", description="暖气不热"
        )
        second = service.create_ticket(s, channel="phone", caller_number="0546-8888888")
        today = service.local_today()
        assert first.number == f"{today:%Y%m%d}000001"
        assert second.number == f"{today:%Y%m%d}000002"
        assert first.caller_number == "+8613812345678"
        assert second.caller_number == "+865468888888"
        assert first.status == "new" and first.opened_on == today
        assert first.due_date == add_working_days(today, 10)  # no demand type yet: "other"
        events = s.scalars(select(TicketEvent).where(TicketEvent.ticket_id == first.id)).all()
        assert [(e.action, e.to_status, e.actor) for e in events] == [("created", "new", "ivr")]


def test_idempotency_key_returns_existing_ticket(store_app):
    with store_app.app_context(), get_db().session() as s:
        a = service.create_ticket(
            s, channel="voice_message", caller_number=None, idempotency_key="RE123"
        )
        b = service.create_ticket(
            s, channel="voice_message", caller_number=None, idempotency_key="RE123"
        )
        assert a.id == b.id
        assert s.scalar(select(func.count(Ticket.id))) == 1


def test_bad_channel_rejected(store_app):
    with store_app.app_context(), get_db().session() as s, pytest.raises(ValidationError) as exc:
        service.create_ticket(s, channel="fax", caller_number=None)
    assert "channel" in exc.value.errors


def _in_threads(n: int, create) -> list[str]:
    """Run create(s) -> Ticket in n threads at once (own connections); the numbers made."""
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)
    lock = threading.Lock()

    def worker():
        try:
            barrier.wait()
            made = create()
            with lock:
                numbers.extend(made)
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return numbers


def test_numbers_unique_under_concurrent_creation(store_app):
    """Eight threads, each with its own connection, create ten tickets each at once."""
    db = Database(store_app.config["DATABASE_URL"])
    threads_n, per_thread = 8, 10

    def create():
        made = []
        for _ in range(per_thread):
            with store_app.app_context(), db.session() as s:
                made.append(
                    service.create_ticket(s, channel="phone", caller_number="13800000000").number
                )
        return made

    numbers = _in_threads(threads_n, create)
    db.dispose()
    assert len(numbers) == threads_n * per_thread
    assert len(set(numbers)) == len(numbers)
    sequences = sorted(int(n[8:]) for n in numbers)
    assert sequences == list(range(1, threads_n * per_thread + 1))


def test_a_ticket_still_being_saved_does_not_hold_up_the_next_number(store_app):
    """A surge of voice messages: each ticket is created inside a webhook turn that goes on
    after numbering (transcription job, call record) until its commit. On PostgreSQL the
    day's counter is not held for that turn: a second ticket gets its number and commits
    while the first turn is still open. (SQLite has one writer at a time by design.)"""
    if store_app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("SQLite serialises every write transaction")
    db = Database(store_app.config["DATABASE_URL"])
    first_open, second_done = threading.Event(), threading.Event()
    numbers: dict[str, str] = {}

    def first():
        with store_app.app_context(), db.session() as s:
            numbers["first"] = service.create_ticket(s, channel="phone", caller_number=None).number
            first_open.set()
            second_done.wait(timeout=30)  # the turn is still open while the second commits

    def second():
        first_open.wait(timeout=30)
        with store_app.app_context(), db.session() as s:
            numbers["second"] = service.create_ticket(s, channel="phone", caller_number=None).number
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    finished_while_first_open = second_done.wait(timeout=20)
    for t in threads:
        t.join(timeout=60)
    db.dispose()
    assert finished_while_first_open, "the second ticket waited for the first turn to commit"
    assert int(numbers["second"][8:]) == int(numbers["first"][8:]) + 1


def test_a_rolled_back_ticket_never_gives_its_number_twice(store_app):
    with store_app.app_context():
        db = get_db()
        with pytest.raises(RuntimeError), db.session() as s:
            lost = service.create_ticket(s, channel="phone", caller_number=None).number
            raise RuntimeError("the webhook turn failed after numbering")
        with db.session() as s:
            kept = service.create_ticket(s, channel="phone", caller_number=None).number
            numbers = s.scalars(select(Ticket.number)).all()
    assert numbers == [kept]
    if store_app.config["DATABASE_URL"].startswith("sqlite"):
        assert kept == lost  # the number rolled back with the ticket
    else:
        assert int(kept[8:]) == int(lost[8:]) + 1  # like a sequence: a gap, never a repeat


def test_concurrent_retries_of_one_webhook_make_one_ticket(store_app):
    """Six threads create with the same idempotency key at once: one ticket, same number."""
    db = Database(store_app.config["DATABASE_URL"])

    def create():
        with store_app.app_context(), db.session() as s:
            return [
                service.create_ticket(
                    s, channel="voice_message", caller_number=None, idempotency_key="CA123:7"
                ).number
            ]

    numbers = _in_threads(6, create)
    db.dispose()
    assert len(numbers) == 6 and len(set(numbers)) == 1
    with store_app.app_context(), get_db().session() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 1


def test_full_life_cycle_with_audit(store_app):
    with store_app.app_context(), get_db().session() as s:
        dept = _dept(s)
        t = service.create_ticket(
            s,
            channel="phone",
            caller_number="13812345678",
            demand_type="complaint",
            topic="heating",
        )
        assert t.due_date == add_working_days(t.opened_on, 13)
        service.dispatch(s, t, dept, actor="supervisor:li")
        service.start(s, t, actor="department:heating")
        service.resolve(s, t, reply="已安排维修人员上门，暖气已恢复。", actor="department:heating")
        assert t.resolution_count == 1
        service.record_satisfaction(
            s, t.id, result="dissatisfied", comment="还是不热", attempt_id=1
        )
        assert t.status == "reopened"
        service.dispatch(s, t, dept, actor="supervisor:li")
        service.resolve(s, t, reply="更换了阀门。", actor="department:heating")
        # The survey after the second resolution is final, even when not satisfied.
        service.record_satisfaction(s, t.id, result="dissatisfied", comment=None, attempt_id=2)
        assert t.status == "callback_done"
        service.close(s, t, actor="supervisor:li")
        number = t.number
    with store_app.app_context(), get_db().session() as s:
        t = service.find_by_number(s, number)
        history = [(e.action, e.from_status, e.to_status) for e in t.events]
        assert history == [
            ("created", None, "new"),
            ("dispatched", "new", "dispatched"),
            ("started", "dispatched", "in_progress"),
            ("resolved", "in_progress", "resolved"),
            ("survey_reopened", "resolved", "reopened"),
            ("dispatched", "reopened", "dispatched"),
            ("resolved", "dispatched", "resolved"),
            ("survey", "resolved", "callback_done"),
            ("closed", "callback_done", "closed"),
        ]
        assert t.events[1].actor == "supervisor:li"
        assert t.events[1].detail["department"] == "heating_office"
        assert t.satisfaction == "dissatisfied" and t.reply == "更换了阀门。"


def test_transition_not_allowed(store_app):
    with store_app.app_context(), get_db().session() as s:
        t = service.create_ticket(s, channel="web", caller_number=None)
        with pytest.raises(TransitionError):
            service.resolve(s, t, reply="x", actor="a")
        with pytest.raises(ValidationError):
            service.resolve(s, t, reply="  ", actor="a")


def test_spoken_status_reads_digits_and_reply(store_app):
    with store_app.app_context(), get_db().session() as s:
        dept = _dept(s)
        t = service.create_ticket(
            s, channel="phone", caller_number=None, demand_type="consultation"
        )
        text = service.spoken_status(t)
        assert " ".join(t.number) in text and "已受理" in text
        service.dispatch(s, t, dept, actor="sup")
        service.resolve(s, t, reply="11月15日起供暖。", actor="dept")
        text = service.spoken_status(t)
        assert "市供热办答复如下：11月15日起供暖。" in text


def test_attach_transcript_and_override_audited(store_app):
    with store_app.app_context(), get_db().session() as s:
        t = service.create_ticket(s, channel="voice_message", caller_number=None)
        service.attach_transcript(
            s,
            t.id,
            text="楼上装修噪音太大",
            confidence=0.8,
            words=[{"word": "楼上", "start": 0.1, "end": 0.4}],
        )
        assert t.transcript == "楼上装修噪音太大"
        service.update_fields(s, t, actor="supervisor:li", demand_type="complaint")
        assert t.due_date == add_working_days(t.opened_on, 13)
        s.flush()
        s.expire(t, ["events"])
        last = t.events[-1]
        assert last.action == "updated" and last.actor == "supervisor:li"
        assert last.detail["demand_type"]["to"] == "complaint"


def test_numbers_restart_each_local_day(store_app):
    from tickets.numbering import format_number, next_sequence

    with store_app.app_context(), get_db().session() as s:
        assert next_sequence(s, date(2026, 11, 26)) == 1
        assert next_sequence(s, date(2026, 11, 26)) == 2
        assert next_sequence(s, date(2026, 11, 27)) == 1
    assert format_number(date(2026, 11, 26), 123) == "20261126000123"


def test_survey_comment_transcript_does_not_overwrite_the_message(store_app):
    with store_app.app_context(), get_db().session() as s:
        dept = _dept(s)
        t = service.create_ticket(
            s, channel="voice_message", caller_number="13812345678", recording_sid="RE1"
        )
        service.attach_transcript(
            s, t.id, text="暖气不热", confidence=0.9, words=[], recording_sid="RE1"
        )
        service.dispatch(s, t, dept, actor="sup")
        service.resolve(s, t, reply="已修复", actor="dept")
        service.attach_transcript(s, t.id, text="还是有点凉", confidence=0.7, words=[])
        assert t.transcript == "暖气不热"
        assert t.satisfaction_comment == "还是有点凉"
        s.flush()
        s.expire(t, ["events"])
        assert t.events[-1].action == "comment_transcribed"
