"""Dashboard, surge alerts with phone-line notices, and the period report (both backends)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from accounts_support import csrf_token, login
from pages_support import populate

from core.db import get_db
from ivr import notices
from tickets.service import local_today

pytestmark = pytest.mark.store


@pytest.fixture
def site(store_app):
    return store_app, populate(store_app)


def client_as(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_only_supervisors_see_dashboard_and_report(site):
    app, _ = site
    for user in ("agent1", "housing1"):
        c = client_as(app, user)
        for path in ("/dashboard/", "/report/", "/report/report.csv"):
            assert c.get(path).status_code == 403, (user, path)
        token = csrf_token(c, "/account")
        assert (
            c.post("/dashboard/notices", data={"text": "x", "csrf_token": token}).status_code == 403
        )
    anonymous = app.test_client()
    assert anonymous.get("/dashboard/").headers["Location"].startswith("/login")


def test_dashboard_figures_and_charts(site):
    app, _ = site
    page = client_as(app, "boss").get("/dashboard/").get_data(as_text=True)
    # 64 tickets, 3 of them opened a year ago: 61 in the last 30 days.
    assert '<div class="value">61</div>' in page
    assert page.count('<svg class="chart') == 5
    assert "12345电话" in page and "咨询求助" in page and "社会保障" in page
    assert "满意率 Satisfied" in page and "100.0%" in page  # the one survey said satisfied
    assert 'href="/tickets/?overdue=1">1</a>' in page


def test_surge_alert_offers_a_notice_and_publishing_it_reaches_the_phone_line(site):
    app, _ = site
    c = client_as(app, "boss")
    page = c.get("/dashboard/").get_data(as_text=True)
    # 55 social-security tickets from 利津县 today against no history: a surge.
    assert "突发集中诉求" in page and "社会保障 · 利津县" in page and "55 件" in page
    text = "近期利津县社保卡补办咨询较多，可通过爱山东APP在线办理。"
    r = c.post(
        "/dashboard/notices",
        data={
            "text": text,
            "hours": "6",
            "topic": "social_security",
            "district": "利津县",
            "csrf_token": csrf_token(c, "/account"),
        },
    )
    assert r.status_code == 302
    with app.app_context(), get_db(app).session() as s:
        active = notices.active_notices(s, district="利津县")
        assert [n.text for n in active] == [text]
        assert active[0].created_by == "boss"
        notice_id = active[0].id
    page = c.get("/dashboard/").get_data(as_text=True)
    assert "语音公告已发布" in page and text in page
    c.post(f"/dashboard/notices/{notice_id}/expire", data={"csrf_token": csrf_token(c, "/account")})
    with app.app_context(), get_db(app).session() as s:
        assert notices.active_notices(s) == []


def test_bad_notice_is_refused_with_the_reason(site):
    app, _ = site
    c = client_as(app, "boss")
    c.post("/dashboard/notices", data={"text": "长" * 301, "csrf_token": csrf_token(c, "/account")})
    assert "公告未发布" in c.get("/dashboard/").get_data(as_text=True)


def test_period_report_in_the_seed_shape(site):
    app, _ = site
    today = local_today()
    start = today - timedelta(days=364)
    c = client_as(app, "boss")
    args = f"?from={start.isoformat()}&to={today.isoformat()}"
    page = c.get("/report/" + args).get_data(as_text=True)
    # 61 this year against last year's 3.
    assert "本期共受理市民反映问题 <b>61</b> 件" in page
    assert "（3 件）相比增长了\n      <b>1933.33%</b>" in page
    assert "12345电话受理 57 件，网上民声受理 2 件" in page
    assert "居前6位" in page and "社会保障" in page
    assert "工作日日均受理量" in page
    page = c.get(
        f"/report/?from={(today - timedelta(days=380)).isoformat()}"
        f"&to={(today - timedelta(days=366)).isoformat()}"
    ).get_data(as_text=True)
    assert "<b>3</b> 件（上一周期无数据" in page
    r = c.get("/report/report.csv" + args)
    text = r.get_data(as_text=True)
    assert r.mimetype == "text/csv" and "total,tickets,61" in text and "12345电话,57" in text


def test_report_print_stylesheet_is_linked(site):
    app, _ = site
    page = client_as(app, "boss").get("/report/").get_data(as_text=True)
    assert 'href="/static/print.css" media="print"' in page
    css = app.test_client().get("/static/print.css")
    assert b"@page" in css.data
    css.close()
