"""The holiday calendar: library data for 2027, the office's entries (page, API, CLI), and
their effect on opening hours, due dates, the callback window and /healthz on a fixed clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from accounts_support import csrf_token
from conftest import TEST_API_TOKEN
from content_support import _forget_process_calendar, logged_in, token_for  # noqa: F401
from ivr_support import Phone, set_clock

from callbacks.policy import Policy
from core import calendar, calendar_store
from core.db import get_db
from tickets.seed import seed
from tickets.service import due_date_for

HEALTH_DETAIL = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz detail

SH = ZoneInfo("Asia/Shanghai")
NEW_YEAR_2027 = date(2027, 1, 1)  # 元旦, a Friday
SPRING_FESTIVAL_SATURDAY = date(2027, 2, 6)
# A Sunday the office declares an adjusted workday (调休) in the tests below.
ADJUSTED_SUNDAY = date(2027, 2, 14)
AFTER_HOURS = (
    "现在是非工作时间，人工服务时间为工作日早八点至晚八点。请留言，我们将在工作时间给您回电。"
)
CONNECTING = "正在为您转接人工服务，请稍候。"
CALL_NUMBERS = itertools.count(1)


def at_ten(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=SH).astimezone(UTC)


def heard_after_greeting(app, client, day: date) -> list[str]:
    set_clock(app, at_ten(day))
    sid = "CA" + f"{next(CALL_NUMBERS)}".rjust(32, "0")
    phone = Phone(client, app, call_sid=sid)
    phone.dial()
    phone.silence()
    return phone.said()


def enter(app, day: date, kind: str, name: str | None = None) -> None:
    with app.app_context():
        with get_db(app).session() as s:
            calendar_store.set_day(s, day, kind, name=name, actor="test")
        calendar_store.source(app).invalidate()


def test_2027_holidays_come_from_the_library_without_any_entry(app):
    with app.app_context():
        assert not calendar.is_workday(NEW_YEAR_2027)
        assert calendar.day_info(NEW_YEAR_2027).name == "元旦"
        assert not calendar.is_workday(SPRING_FESTIVAL_SATURDAY)
        assert calendar.day_info(date(2027, 2, 8)).name == "春节"  # Monday of the festival
        assert calendar.is_workday(date(2027, 1, 4))
        assert not calendar.arrangement_known(2027)
        assert calendar.arrangement_known(2026)  # chinese_calendar has 2026


def test_phone_line_is_closed_on_2027_holidays_and_open_on_an_adjusted_sunday(app, client):
    with app.app_context(), get_db(app).session() as s:
        seed(s)
    assert heard_after_greeting(app, client, NEW_YEAR_2027)[-2] == AFTER_HOURS
    assert heard_after_greeting(app, client, SPRING_FESTIVAL_SATURDAY)[-2] == AFTER_HOURS
    assert heard_after_greeting(app, client, ADJUSTED_SUNDAY)[-2] == AFTER_HOURS
    enter(app, ADJUSTED_SUNDAY, "workday")
    assert heard_after_greeting(app, client, ADJUSTED_SUNDAY)[-1] == CONNECTING
    enter(app, NEW_YEAR_2027, "workday")  # the office's entry wins over the library
    assert heard_after_greeting(app, client, NEW_YEAR_2027)[-1] == CONNECTING


def test_entries_move_due_dates_and_the_callback_window(app):
    policy = Policy.from_config(app.config)
    friday = date(2027, 2, 12)
    saturday_afternoon = datetime(2027, 2, 13, 15, 0, tzinfo=SH)
    with app.app_context():
        # Spring Festival week: 2027-02-05 + 3 working days, holidays skipped.
        assert due_date_for("consultation", date(2027, 2, 4)) == date(2027, 2, 15)
        assert due_date_for("consultation", friday) == date(2027, 2, 17)
        assert policy.first_attempt_at(saturday_afternoon) == datetime(
            2027, 2, 15, 9, 0, tzinfo=SH
        ).astimezone(UTC)
        assert not policy.may_call_at(at_ten(ADJUSTED_SUNDAY))
    enter(app, ADJUSTED_SUNDAY, "workday")
    with app.app_context():
        assert due_date_for("consultation", friday) == date(2027, 2, 16)
        assert policy.may_call_at(at_ten(ADJUSTED_SUNDAY))
        assert policy.first_attempt_at(saturday_afternoon) == datetime(
            2027, 2, 14, 9, 0, tzinfo=SH
        ).astimezone(UTC)
    # The scheduler's threads run outside any request: they read the process-wide source.
    assert policy.may_call_at(at_ten(ADJUSTED_SUNDAY))


def test_new_year_2027_is_no_callback_day_without_any_entry(app):
    """The line's old fallback (Monday-Friday) would have called citizens on 元旦."""
    policy = Policy.from_config(app.config)
    with app.app_context():
        resolved = datetime(2026, 12, 31, 15, 0, tzinfo=SH)
        assert policy.first_attempt_at(resolved) == datetime(
            2027, 1, 4, 9, 0, tzinfo=SH
        ).astimezone(UTC)
        assert due_date_for("consultation", date(2026, 12, 31)) == date(2027, 1, 6)


def test_health_warns_from_november_until_next_years_workdays_are_entered(app, client):
    set_clock(app, datetime(2026, 10, 31, 4, 0, tzinfo=UTC))
    body = client.get("/healthz", headers=HEALTH_DETAIL).get_json()
    assert "warning" not in body["checks"]["calendar"]
    set_clock(app, datetime(2026, 11, 1, 1, 0, tzinfo=UTC))
    response = client.get("/healthz", headers=HEALTH_DETAIL)
    check = response.get_json()["checks"]["calendar"]
    assert check["ok"] and "2027" in check["warning"] and "flask calendar set" in check["warning"]
    assert response.status_code == 200  # a warning: the line is not degraded
    assert response.get_json()["checks"]["calendar"]["ok"] is True
    result = app.test_cli_runner().invoke(args=["calendar", "set", "2027-02-20", "workday"])
    assert result.exit_code == 0, result.output
    assert (
        "warning"
        not in client.get("/healthz", headers=HEALTH_DETAIL).get_json()["checks"]["calendar"]
    )


def test_cli_set_show_clear(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["calendar", "set", "2027-01-04", "holiday", "--name", "元旦补休"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(args=["calendar", "show", "2027"]).output
    assert "2027: 调休安排未录入 NOT ENTERED" in shown
    assert "* 2027-01-04 周一 休息 holiday 元旦补休  (override)" in shown
    assert "  2027-02-06 周六 休息 holiday 春节  (holidays)" in shown
    period = runner.invoke(
        args=["calendar", "set", "2027-02-11", "holiday", "--name", "春节", "--until", "2027-02-12"]
    )
    assert period.output.splitlines() == ["2027-02-11: holiday 春节", "2027-02-12: holiday 春节"]
    too_long = runner.invoke(
        args=["calendar", "set", "2027-01-01", "holiday", "--until", "2027-06-01"]
    )
    assert too_long.exit_code != 0 and "at most 31 days" in too_long.output
    bad = runner.invoke(args=["calendar", "set", "2027-13-01", "holiday"])
    assert bad.exit_code != 0 and "not a date" in bad.output
    assert "entry removed" in runner.invoke(args=["calendar", "clear", "2027-01-04"]).output
    with app.app_context():
        assert calendar.is_workday(date(2027, 1, 4))


def test_api_put_get_delete_with_roles_and_errors(app):
    client = app.test_client()
    supervisor = token_for(app, "office", "supervisor")
    agent = token_for(app, "agent1", "agent")
    body = {"kind": "workday", "name": "春节调休"}
    assert client.put("/api/calendar/2027-02-20", json=body).status_code == 401
    assert client.put("/api/calendar/2027-02-20", json=body, headers=agent).status_code == 403
    bad = client.put("/api/calendar/2027-02-30", json={"kind": "party"}, headers=supervisor)
    assert bad.status_code == 400
    assert set(bad.get_json()["fields"]) == {"date", "kind"}
    ok = client.put("/api/calendar/2027-02-20", json=body, headers=supervisor)
    assert ok.status_code == 200
    assert ok.get_json() == {
        "date": "2027-02-20",
        "workday": True,
        "name": "春节调休",
        "source": "override",
        "adjusted": True,
    }
    year = client.get("/api/calendar/2027", headers=agent).get_json()
    assert year["arrangement_known"] is True
    assert {"date": "2027-01-01", "workday": False, "name": "元旦", "source": "holidays",
            "adjusted": False} in year["days"]  # fmt: skip
    assert client.delete("/api/calendar/2027-02-20", headers=agent).status_code == 403
    assert client.delete("/api/calendar/2027-02-20", headers=supervisor).status_code == 204
    assert client.delete("/api/calendar/2027-02-20", headers=supervisor).status_code == 404


def test_page_roles_and_csrf(app):
    anonymous = app.test_client()
    assert anonymous.get("/calendar/").status_code == 302
    agent = logged_in(app, "agent1", "agent")
    page = agent.get("/calendar/?year=2027")
    assert page.status_code == 200 and "元旦" in page.get_data(as_text=True)
    form = {"date": "2027-02-20", "kind": "workday", "csrf_token": csrf_token(agent, "/calendar/")}
    assert agent.post("/calendar/", data=form).status_code == 403
    office = logged_in(app, "office", "supervisor")
    assert (
        office.post("/calendar/", data={"date": "2027-02-20", "kind": "workday"}).status_code == 400
    )
    form["csrf_token"] = csrf_token(office, "/calendar/")
    period = {**form, "date": "2027-02-11", "until": "2027-02-13", "kind": "holiday"}
    html = office.post("/calendar/", data=period, follow_redirects=True).get_data(as_text=True)
    assert "2027-02-11 — 2027-02-13 已保存 saved" in html
    with app.app_context():
        assert not calendar.is_workday(date(2027, 2, 12))
    saved = office.post("/calendar/", data=form, follow_redirects=True)
    html = saved.get_data(as_text=True)
    assert "2027-02-20 已保存 saved" in html and "entered by office" in html
    assert "调休安排未录入" not in html
    removed = office.post(
        "/calendar/2027-02-20/delete",
        data={"csrf_token": form["csrf_token"]},
        follow_redirects=True,
    )
    assert "恢复默认" in removed.get_data(as_text=True)
    with app.app_context():
        assert not calendar.is_workday(date(2027, 2, 20))


@pytest.mark.store
def test_store_round_trip(store_app):
    with store_app.app_context():
        with get_db(store_app).session() as s:
            calendar_store.set_day(s, date(2027, 2, 20), "workday", name="调休", actor="a")
            calendar_store.set_day(s, date(2027, 1, 4), "holiday", name=None, actor="a")
            calendar_store.set_day(s, date(2027, 1, 4), "workday", name=None, actor="b")
        with get_db(store_app).session() as s:
            rows = calendar_store.entries(s, 2027)
            assert [(r.day, r.kind, r.updated_by) for r in rows] == [
                (date(2027, 1, 4), "workday", "b"),
                (date(2027, 2, 20), "workday", "a"),
            ]
            assert calendar_store.entries(s, 2026) == []
        calendar_store.source(store_app).invalidate()
        assert calendar.day_info(date(2027, 2, 20)).source == "override"
        with get_db(store_app).session() as s:
            assert calendar_store.clear_day(s, date(2027, 2, 20), actor="a")
            assert not calendar_store.clear_day(s, date(2027, 2, 20), actor="a")
