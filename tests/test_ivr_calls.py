"""Store behaviour of the webhooks on SQLite and PostgreSQL: signatures, retries, restarts,
errors. A call must survive a new process, a Twilio retry must not act twice, and an error
must end in an apology and a transfer, never a 5xx."""

from __future__ import annotations

import pytest
from ivr_support import WORKDAY_MORNING, Phone, set_clock
from sqlalchemy import func, select

from core.db import get_db
from ivr.models import Call, CallSession
from speech.models import SpeechJob
from tickets.models import Ticket

pytestmark = pytest.mark.store
SID = "CA" + "2" * 32
APOLOGY = "非常抱歉，系统暂时出现问题，正在为您转接人工服务。"


def counts(app) -> tuple[int, int, int, int]:
    with get_db(app).session() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(m))
            for m in (Call, CallSession, Ticket, SpeechJob)
        )


@pytest.fixture
def phone(store_app):
    set_clock(store_app, WORKDAY_MORNING)
    from tickets.seed import seed

    with get_db(store_app).session() as s:
        seed(s)
    return Phone(store_app.test_client(), store_app, call_sid=SID)


@pytest.mark.parametrize("forge", ["missing", "wrong_token", "other_url", "changed_form"])
def test_bad_signature_is_403_and_writes_nothing(store_app, phone, forge):
    form = {"CallSid": SID, "From": "+8613812345678", "To": "+8605460012345"}
    from telephony.signature import sign

    base = store_app.config["PUBLIC_BASE_URL"]
    headers = {
        "missing": {},
        "wrong_token": {"X-Twilio-Signature": sign(base + "/ivr/voice", form, "not-the-token")},
        "other_url": {
            "X-Twilio-Signature": sign(
                "http://evil.test/ivr/voice", form, store_app.config["TWILIO_AUTH_TOKEN"]
            )
        },
        "changed_form": {
            "X-Twilio-Signature": sign(
                base + "/ivr/voice", {**form, "From": "+1"}, store_app.config["TWILIO_AUTH_TOKEN"]
            )
        },
    }[forge]
    for path in (
        "/ivr/voice",
        "/ivr/step?s=1",
        "/ivr/status",
        "/ivr/fallback",
        "/ivr/queue/wait?s=1",
    ):
        resp = phone.client.post(path, data=form, headers=headers)
        assert resp.status_code == 403, path
    assert counts(store_app) == (0, 0, 0, 0)


def test_signature_checked_against_public_url_behind_proxy(store_app, phone):
    # Flask sees http://localhost/...; Twilio signed https://hotline.test/...: still valid.
    store_app.config["PUBLIC_BASE_URL"] = "https://hotline.example.gov.cn/front"
    phone.dial()
    assert phone.find("Gather").get("action") == (
        "https://hotline.example.gov.cn/front/ivr/step?s=1"
    )
    assert counts(store_app)[:2] == (1, 1)


def test_restart_mid_call_continues_from_database(store_app, phone, tmp_path):
    from ivr import create_app

    phone.dial()
    phone.press("1")  # self-service menu, waiting for a key
    config = dict(store_app.config)
    store_app.extensions["db"].dispose()
    fresh = create_app(
        {
            k: config[k]
            for k in (
                "TESTING",
                "DATABASE_URL",
                "SECRET_KEY",
                "TWILIO_AUTH_TOKEN",
                "TWILIO_ACCOUNT_SID",
                "PUBLIC_BASE_URL",
                "AUDIO_DIR",
                "RECORDINGS_DIR",
                "TELEPHONY",
            )
        }
    )
    try:
        set_clock(fresh, WORKDAY_MORNING)
        other = Phone(fresh.test_client(), fresh, call_sid=SID)
        other.twiml, other.raw = phone.twiml, phone.raw
        other.press("4")
        assert other.said()[0].startswith("按照有关规定，除大型载客汽车以外的机动车")
        with get_db(fresh).session() as s:
            assert s.get(CallSession, SID).data["path"] == [
                "greeting",
                "self_service",
                "vehicle_inspection",
                "after_self_service",
            ]
    finally:
        fresh.extensions["db"].dispose()


def test_retried_step_replays_and_creates_one_ticket(store_app, phone):
    phone.dial()
    phone.silence()
    phone.queue_result("leave", 15)
    phone.press("1")
    record_action = phone.action("Record")
    form = {
        "RecordingUrl": "https://api.twilio.com/rec/RE9",
        "RecordingSid": "RE" + "9" * 32,
        "RecordingDuration": "30",
    }
    first = phone.post(record_action, **form)
    second = phone.post(record_action, **form)  # Twilio retried: same CallSid, same step
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert counts(store_app) == (1, 1, 1, 1)
    # A retry of an earlier step replays the latest answer too, and changes nothing.
    third = phone.post("/ivr/step?s=2", QueueResult="leave", QueueTime="15")
    assert third.data == first.data and counts(store_app) == (1, 1, 1, 1)


def test_retried_first_webhook_opens_one_call(store_app, phone):
    first = phone.dial()
    again = phone.dial()
    assert [e.tag for e in first] == [e.tag for e in again]
    assert counts(store_app)[:2] == (1, 1)


def test_error_apologises_and_transfers(store_app, phone, caplog):
    phone.dial()
    # Break the stored session as a bug or a bad migration might.
    with get_db(store_app).session() as s:
        cs = s.get(CallSession, SID)
        cs.data = {**cs.data, "node": "no_such_node"}
    phone.press("1")
    assert phone.said() == [APOLOGY]
    assert phone.verbs() == ["Say", "Dial"]
    assert phone.find("Dial").text == store_app.config["OPERATOR_NUMBER"]
    with get_db(store_app).session() as s:
        assert s.scalar(select(Call)).outcome == "error_transfer"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "+8613812345678" not in logged and "+86138****5678" in logged


@pytest.mark.parametrize("version", [99, None, "2"])
def test_session_of_unknown_version_apologises_and_transfers(store_app, phone, caplog, version):
    phone.dial()
    # A session written by another release (or damaged): its version is not one we read.
    with get_db(store_app).session() as s:
        cs = s.get(CallSession, SID)
        cs.data = {**cs.data, "v": version}
    phone.press("1")
    assert phone.said() == [APOLOGY]
    assert phone.find("Dial").text == store_app.config["OPERATOR_NUMBER"]
    with get_db(store_app).session() as s:
        assert s.scalar(select(Call)).outcome == "error_transfer"
    assert f"call session has version {version!r}" in caplog.text


def test_no_flow_at_all_still_answers(store_app, phone, tmp_path):
    broken = tmp_path / "flows.yaml"
    broken.write_text("flow: [", encoding="utf-8")
    from ivr.registry import FlowRegistry

    store_app.extensions["ivr.flows"] = FlowRegistry(str(broken))
    phone.dial()
    assert phone.said() == [APOLOGY] and phone.verbs() == ["Say", "Dial"]
    resp = phone.client.get("/healthz")
    assert resp.status_code == 503 and resp.json["checks"]["flow"]["ok"] is False


def test_fallback_url_transfers(store_app, phone):
    phone.dial()
    resp = phone.post("/ivr/fallback", ErrorCode="11200")
    assert resp.status_code == 200 and b"<Dial>" in resp.data
    with get_db(store_app).session() as s:
        assert s.scalar(select(Call)).outcome == "error_transfer"


def test_hold_error_leaves_the_queue_instead_of_failing(store_app, phone):
    phone.dial()
    phone.silence()
    with get_db(store_app).session() as s:
        cs = s.get(CallSession, SID)
        cs.data = {**cs.data, "flow_version": "unknown"}
    hold = phone.hold(queue_time=3)
    assert [e.tag for e in hold] == ["Leave"]


def test_concurrent_retries_create_one_ticket(store_app, phone):
    from concurrent.futures import ThreadPoolExecutor

    phone.dial()
    phone.silence()
    phone.queue_result("leave", 15)
    phone.press("1")
    action = phone.action("Record")
    form = {
        "RecordingUrl": "https://api.twilio.com/rec/RE8",
        "RecordingSid": "RE" + "8" * 32,
        "RecordingDuration": "30",
    }
    clients = [Phone(store_app.test_client(), store_app, call_sid=SID) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda p: p.post(action, **form), clients))
    assert {a.status_code for a in answers} == {200}
    assert len({a.data for a in answers}) == 1  # all four got the same TwiML
    assert counts(store_app) == (1, 1, 1, 1)


def test_a_menu_turn_sends_at_most_four_statements(store_app, phone):
    """Every statement is a round trip under the call's lock: a menu key costs at most four."""
    from sqlalchemy import event

    phone.dial()
    phone.press("1")  # any key during the greeting: the self-service menu
    seen: list[str] = []
    engine = get_db(store_app).engine
    listener = lambda conn, cursor, statement, *args: seen.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        counts = {}
        for key in ("*", "1"):  # repeat the menu; choose an option (a new node: call record too)
            seen.clear()
            phone.press(key)
            counts[key] = len(seen)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert phone.said() == ["请输入十四位工单编号，以井号键结束。"]
    assert counts["*"] <= 3 and counts["1"] <= 4, (counts, seen)
