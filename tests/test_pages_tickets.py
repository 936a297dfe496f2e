"""Ticket pages: list, filters, ticket page, actions, recording, inbox scoping, KB.

Real data on SQLite and PostgreSQL (store_app); every request goes through login,
roles and CSRF like a browser's would.
"""

from __future__ import annotations

import pytest
from accounts_support import csrf_token, login
from pages_support import espeak_wav, populate

from core.db import get_db
from telephony.fake_twilio import FakeTwilio
from tickets.service import find_by_number

pytestmark = pytest.mark.store


@pytest.fixture
def site(store_app):
    numbers = populate(
        store_app, recordings_dir=__import__("pathlib").Path(store_app.config["RECORDINGS_DIR"])
    )
    return store_app, numbers


def client_as(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def post(client, path, **data):
    data["csrf_token"] = csrf_token(client, "/account")
    return client.post(path, data=data)


def test_anonymous_is_sent_to_login_everywhere(site):
    app, n = site
    client = app.test_client()
    for path in (
        "/tickets/",
        "/inbox/",
        "/kb/",
        f"/tickets/{n['heat']}",
        f"/tickets/{n['heat']}/recording",
        "/tickets/export.csv",
    ):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"].startswith("/login?next="), path
    r = client.post(
        f"/tickets/{n['heat']}/resolve", data={"reply": "x", "csrf_token": csrf_token(client)}
    )
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_every_page_route_sends_anonymous_users_to_login(site):
    """Whatever route tickets_pages grows, none answers an anonymous request."""
    app, n = site
    client = app.test_client()
    token = csrf_token(client)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("tickets_pages.")]
    assert len(rules) >= 15
    for rule in rules:
        values = {arg: (n["heat"] if arg == "number" else 1) for arg in rule.arguments}
        path = rule.build(values)[1]
        method = "GET" if "GET" in rule.methods else "POST"
        r = client.open(path, method=method, data={"csrf_token": token})
        assert r.status_code == 302, (method, path, r.status_code)
        assert r.headers["Location"].startswith("/login"), path


def test_list_renders_and_filters(site):
    app, n = site
    c = client_as(app, "agent1")
    page = c.get("/tickets/").get_data(as_text=True)
    assert "共 64 件" in page and "第 1 / 2 页" in page
    page = c.get("/tickets/?page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in page and n["xss"] in page
    assert "&lt;script&gt;alert" in page and "<script>alert" not in page
    page = c.get("/tickets/?topic=heating").get_data(as_text=True)
    assert "共 1 件" in page and n["heat"] in page and "超期 overdue" in page
    assert "共 1 件" in c.get("/tickets/?overdue=1").get_data(as_text=True)
    assert "共 2 件" in c.get("/tickets/?channel=web").get_data(as_text=True)
    page = c.get("/tickets/?status=callback_done").get_data(as_text=True)
    assert "共 1 件" in page and n["pork"] in page
    assert "共 55 件" in c.get("/tickets/?district=利津县").get_data(as_text=True)
    assert "共 1 件" in c.get("/tickets/?q=噪音").get_data(as_text=True)
    assert "共 1 件" in c.get(f"/tickets/?q={n['fund']}").get_data(as_text=True)
    assert "共 0 件" in c.get("/tickets/?from=2000-01-01&to=2000-01-31").get_data(as_text=True)
    # Malformed values are ignored, not a 500.
    assert c.get("/tickets/?from=notadate&page=abc&status=bogus").status_code == 200


def test_csv_export(site):
    app, n = site
    c = client_as(app, "boss")
    r = c.get("/tickets/export.csv?topic=heating")
    text = r.get_data(as_text=True)
    assert r.mimetype == "text/csv" and text.startswith("\ufeff")
    assert n["heat"] in text and n["noise"] not in text


def test_ticket_page_shows_transcript_audio_history(site):
    app, n = site
    page = client_as(app, "agent1").get(f"/tickets/{n['heat']}").get_data(as_text=True)
    assert "小区的暖气一直不热" in page
    assert f'src="/tickets/{n["heat"]}/recording"' in page
    assert "受理 created" in page and "转办 dispatched" in page and "转写 transcribed" in page
    page = client_as(app, "agent1").get(f"/tickets/{n['noise']}").get_data(as_text=True)
    assert "暂无转写 No transcript yet" in page


def test_recording_is_served_only_to_roles_that_may_hear_it(site):
    app, n = site
    r = client_as(app, "agent1").get(f"/tickets/{n['heat']}/recording")
    assert r.status_code == 200 and r.data[:4] == b"RIFF" and r.mimetype == "audio/wav"
    assert "no-store" in r.headers["Cache-Control"]
    r.close()
    housing = client_as(app, "housing1")
    assert housing.get(f"/tickets/{n['heat']}").status_code == 200  # its own ticket
    assert housing.get(f"/tickets/{n['heat']}/recording").status_code == 403
    assert "录音 <small>Recording" not in housing.get(f"/tickets/{n['heat']}").get_data(
        as_text=True
    )
    # No recording / a URL outside Twilio's API: 404, never a fetch.
    boss = client_as(app, "boss")
    assert boss.get(f"/tickets/{n['noise']}/recording").status_code == 404
    assert boss.get(f"/tickets/{n['vm']}/recording").status_code == 404


def test_recording_is_downloaded_from_twilio_once(site, tmp_path):
    app, n = site
    wav = espeak_wav(tmp_path / "twilio.wav", "工单录音测试").read_bytes()
    cfg = app.config
    with FakeTwilio(cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"]) as fake:
        url = fake.add_recording("RE" + "a" * 32, wav)
        app.config["TWILIO_API_BASE"] = fake.base_url
        with app.app_context(), get_db(app).session() as s:
            find_by_number(s, n["vm"]).recording_url = url
        c = client_as(app, "agent1")
        r = c.get(f"/tickets/{n['vm']}/recording")
        assert r.status_code == 200 and r.data == wav
        r.close()
        fetched = len([q for q in fake.requests if "/Recordings/" in str(q)])
    r = c.get(f"/tickets/{n['vm']}/recording")  # the fake is gone: served from the cache
    assert r.status_code == 200 and r.data == wav
    r.close()
    assert fetched >= 1


def test_department_sees_only_its_tickets(site):
    app, n = site
    c = client_as(app, "housing1")
    page = c.get("/inbox/").get_data(as_text=True)
    assert n["heat"] in page and n["noise"] not in page and "共 1 件" in page
    # Asking for another department in the URL changes nothing.
    from sqlalchemy import select

    from tickets.models import Department

    with app.app_context(), get_db(app).session() as s:
        other = s.scalar(select(Department).where(Department.code == "ecology_environment")).id
    page = c.get(f"/inbox/?department={other}&status=").get_data(as_text=True)
    assert n["noise"] not in page and n["heat"] in page
    assert c.get(f"/tickets/{n['noise']}").status_code == 404
    assert post(c, f"/tickets/{n['noise']}/resolve", reply="x").status_code == 404
    for path in ("/tickets/", "/tickets/export.csv"):
        assert c.get(path).status_code == 403


def test_department_starts_and_resolves_its_ticket(site):
    app, n = site
    c = client_as(app, "housing1")
    r = post(c, f"/tickets/{n['heat']}/start")
    assert r.status_code == 302
    r = post(c, f"/tickets/{n['heat']}/resolve", reply="已联系供热公司上门检修，室温恢复至20度。")
    assert r.status_code == 302
    page = c.get(f"/tickets/{n['heat']}").get_data(as_text=True)
    assert "已办结" in page and "室温恢复至20度" in page and "housing1" in page
    # An empty reply is refused with a message, the ticket unchanged.
    c2 = client_as(app, "ecology1")
    post(c2, f"/tickets/{n['noise']}/resolve", reply="  ")
    assert "操作未完成" in c2.get(f"/tickets/{n['noise']}").get_data(as_text=True)


def test_agent_dispatches_but_cannot_do_supervisor_things(site):
    app, n = site
    c = client_as(app, "agent1")
    r = post(c, f"/tickets/{n['fund']}/dispatch", department="housing_fund", note="请尽快")
    assert r.status_code == 302
    with app.app_context(), get_db(app).session() as s:
        assert find_by_number(s, n["fund"]).department.code == "housing_fund"
    assert post(c, f"/tickets/{n['fund']}/classify", topic="heating").status_code == 403
    assert post(c, f"/tickets/{n['pork']}/close").status_code == 403
    assert post(c, f"/tickets/{n['pork']}/resolve", reply="x").status_code == 403
    assert c.get("/inbox/").status_code == 403


def test_supervisor_overrides_classification_and_closes(site):
    app, n = site
    c = client_as(app, "boss")
    post(
        c,
        f"/tickets/{n['vm']}/classify",
        demand_type="complaint",
        topic="noise",
        district="广饶县",
        location="广饶县乐安街道",
    )
    post(c, f"/tickets/{n['pork']}/close")
    with app.app_context(), get_db(app).session() as s:
        vm = find_by_number(s, n["vm"])
        assert (vm.demand_type, vm.topic, vm.district) == ("complaint", "noise", "广饶县")
        assert find_by_number(s, n["pork"]).status == "closed"
    page = c.get(f"/tickets/{n['vm']}").get_data(as_text=True)
    assert "修改 updated" in page
    assert post(c, f"/tickets/{n['vm']}/classify", topic="no-such").status_code == 302
    assert "未知的诉求分类" in c.get(f"/tickets/{n['vm']}").get_data(as_text=True)


def test_actions_need_csrf(site):
    app, n = site
    c = client_as(app, "boss")
    assert c.post(f"/tickets/{n['pork']}/close").status_code == 400


def test_kb_search(site):
    app, _ = site
    c = client_as(app, "agent1")
    page = c.get("/kb/?q=储备肉").get_data(as_text=True)
    assert "储备" in page and "0 条结果" not in page
    assert "0 条结果" in c.get("/kb/?q=火星移民").get_data(as_text=True)


def test_agent_creates_a_ticket_which_is_classified(site):
    app, _ = site
    c = client_as(app, "agent1")
    page = c.get("/tickets/new").get_data(as_text=True)
    key = __import__("re").search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    form = {
        "channel": "phone",
        "caller_number": "13912345678",
        "district": "东营区",
        "description": "小区楼下饭店夜里烧烤油烟大、噪音扰民，希望有关部门管一管。",
        "idempotency_key": key,
    }
    r = post(c, "/tickets/new", **form)
    assert r.status_code == 302
    number = r.headers["Location"].rsplit("/", 1)[1]
    assert post(c, "/tickets/new", **form).headers["Location"].endswith(number)  # double submit
    with app.app_context(), get_db(app).session() as s:
        t = find_by_number(s, number)
        assert t.caller_number == "+8613912345678" and t.channel == "phone"
        assert t.demand_type == "complaint" and t.topic and t.suggested_department  # classified
        assert t.events[0].actor == "agent1"


def test_new_ticket_form_reports_field_errors(site):
    app, _ = site
    c = client_as(app, "agent1")
    r = post(c, "/tickets/new", channel="carrier-pigeon", caller_number="12", description=" ")
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "must be one of" in page and "not a valid phone number" in page
    assert client_as(app, "housing1").get("/tickets/new").status_code == 403


def test_pending_transcription_is_shown_as_such(site):
    from speech import jobs

    app, n = site
    with app.app_context(), get_db(app).session() as s:
        t = find_by_number(s, n["vm"])
        jobs.enqueue_transcription(
            s, ticket_id=t.id, recording_url=t.recording_url, recording_sid=None
        )
    page = client_as(app, "agent1").get(f"/tickets/{n['vm']}").get_data(as_text=True)
    assert "正在转写" in page and "暂无转写" not in page


def test_department_returns_a_misrouted_ticket(site):
    app, n = site
    c = client_as(app, "housing1")
    post(c, f"/tickets/{n['heat']}/return", reason=" ")
    assert "请填写退回原因" in c.get(f"/tickets/{n['heat']}").get_data(as_text=True)
    assert post(c, f"/tickets/{n['heat']}/return", reason="供暖属城管局").status_code == 302
    with app.app_context(), get_db(app).session() as s:
        t = find_by_number(s, n["heat"])
        assert t.department.code == "hotline_office" and t.status == "dispatched"
        assert t.events[-1].detail["note"] == "退回 returned: 供暖属城管局"
    assert c.get(f"/tickets/{n['heat']}").status_code == 404  # no longer its ticket
    assert (
        post(client_as(app, "agent1"), f"/tickets/{n['noise']}/return", reason="x").status_code
        == 403
    )
