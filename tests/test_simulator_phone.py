"""The phone against a small TwiML app that checks Twilio signatures like ivr does."""

from __future__ import annotations

import io
import wave

import pytest
import requests
from flask import Flask, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Enqueue, Gather, Record, VoiceResponse

from simulator.phone import Action, Phone, PhoneError
from simulator.script import ScriptedCaller, ScriptError, parse_script, run_call
from simulator.transcript import format_transcript
from simulator.transport import FlaskTransport
from telephony.fake_twilio import FakeTwilio

TOKEN = "phone-test-token"
PUBLIC = "https://hotline.example.org"


def twiml_app(seen: list):
    app = Flask(__name__)

    @app.before_request
    def check_signature():
        url = PUBLIC + request.full_path.rstrip("?")
        ok = RequestValidator(TOKEN).validate(
            url, request.form.to_dict(), request.headers.get("X-Twilio-Signature", "")
        )
        if not ok:
            abort(403)
        seen.append((request.path, request.form.to_dict()))

    def xml(r):
        return str(r), 200, {"Content-Type": "text/xml"}

    @app.post("/voice")
    def voice():
        r = VoiceResponse()
        g = Gather(num_digits=1, timeout=4, action="/menu")
        g.say("欢迎致电12345。供暖请按1，留言请按2，人工请按0。", language="zh-CN")
        r.append(g)
        r.say("没有听到您的选择。")
        r.redirect("/voice")
        return xml(r)

    @app.post("/menu")
    def menu():
        r = VoiceResponse()
        d = request.form.get("Digits")
        if d == "1":
            r.say("供暖问题请说出您的小区名称。")
            r.append(Gather(input="speech", action="/heating", timeout=5))
        elif d == "2":
            r.say("请在提示音后留言。")
            r.append(Record(action="/message", max_length=60, recording_status_callback="/rec"))
        elif d == "0":
            r.append(Enqueue("agents", wait_url="/wait", action="/queue-done"))
        else:
            r.append(Dial("+8605468888888", action="/dial-done", timeout=20))
        return xml(r)

    @app.post("/heating")
    def heating():
        r = VoiceResponse()
        r.say(f"您说的是{request.form['SpeechResult']}。再见。")
        r.hangup()
        return xml(r)

    @app.post("/message")
    def message():
        r = VoiceResponse()
        r.say("留言已收到。")
        return xml(r)

    @app.post("/rec")
    def rec():
        return "", 204

    @app.post("/wait")
    def wait():
        r = VoiceResponse()
        r.say(f"您前面还有{request.form['QueuePosition']}位。")
        r.pause(length=20)
        return xml(r)

    @app.post("/queue-done")
    def queue_done():
        r = VoiceResponse()
        if request.form["QueueResult"] != "bridged":
            r.say("never heard")
        return xml(r)

    @app.post("/dial-done")
    def dial_done():
        r = VoiceResponse()
        r.say(f"转接结果{request.form['DialCallStatus']}")
        return xml(r)

    @app.post("/status")
    def status():
        return "", 204

    @app.post("/broken")
    def broken():
        return "oops", 500

    return app


@pytest.fixture
def seen():
    return []


@pytest.fixture
def transport(seen):
    app = twiml_app(seen)
    return FlaskTransport(app.test_client(), PUBLIC)


def call(transport, script, path="/voice", recordings=None):
    phone = Phone.inbound(
        transport,
        TOKEN,
        voice_url=PUBLIC + path,
        from_="+8613800001111",
        to="12345",
        account_sid="AC" + "1" * 32,
        status_callback=PUBLIC + "/status",
        recordings=recordings,
    )
    return run_call(phone, ScriptedCaller(parse_script(script)))


def heard(phone):
    return [e["text"] for e in phone.events if e["kind"] == "say"]


def test_speech_gather_sends_speech_result_and_status_callback(transport, seen):
    phone = call(transport, "1,say:阳光小区")
    assert heard(phone)[-1] == "您说的是阳光小区。再见。"
    assert seen[0][1]["CallStatus"] == "ringing"
    assert seen[0][1]["Direction"] == "inbound"
    assert seen[1][0] == "/menu" and seen[1][1]["Digits"] == "1"
    assert seen[1][1]["CallStatus"] == "in-progress"
    path, status = seen[-1]
    assert path == "/status" and status["CallStatus"] == "completed"
    assert int(status["CallDuration"]) > 0
    assert phone.ended and phone.state["status"] == "completed"


def test_gather_timeout_falls_through_to_next_verb_and_redirect(transport, seen):
    phone = call(transport, "wait:4,wait:4,hangup")
    assert heard(phone).count("没有听到您的选择。") == 2
    assert [p for p, _ in seen].count("/voice") == 3
    assert phone.events[-1]["kind"] == "hangup" or phone.events[-2]["by"] == "caller"


def test_record_uploads_audio_to_fake_twilio_and_posts_recording(transport, seen):
    with FakeTwilio() as fake:
        phone = call(transport, "2,say:楼道的灯坏了", recordings=fake)
        form = dict(seen)["/message"]
        url = form["RecordingUrl"]
        assert url.startswith(fake.base_url) and form["RecordingSid"] in url
        audio = requests.get(
            url + ".wav", auth=(fake.account_sid, fake.auth_token), timeout=5
        ).content
        with wave.open(io.BytesIO(audio)) as w:
            assert w.getframerate() == 8000 and w.getnframes() > 4000
        assert int(form["RecordingDuration"]) >= 1
        assert dict(seen)["/rec"]["RecordingStatus"] == "completed"
    assert heard(phone)[-1] == "留言已收到。"
    assert phone.events[-1]["kind"] == "end-of-document" or phone.ended


def test_record_silence_skips_action(transport, seen):
    with FakeTwilio() as fake:
        phone = call(transport, "2,wait:10", recordings=fake)
    assert "/message" not in dict(seen)
    assert any(e["kind"] == "no-recording" for e in phone.events)


def test_queue_waits_then_agent_answers(transport, seen):
    phone = call(transport, "0,wait:90,agent:30")
    waits = [f for p, f in seen if p == "/wait"]
    assert len(waits) >= 4  # 90 s of a ~24 s wait document
    assert int(waits[-1]["QueueTime"]) >= 60
    done = dict(seen)["/queue-done"]
    assert done["QueueResult"] == "bridged" and int(done["QueueTime"]) >= 90
    assert "never heard" not in heard(phone)


def test_queue_hangup_reports_hangup(transport, seen):
    call(transport, "0,wait:30,hangup")
    done = dict(seen)["/queue-done"]
    assert done["QueueResult"] == "hangup"
    assert seen[-1][0] == "/status"


@pytest.mark.parametrize(
    ("step", "status"), [("agent:5", "completed"), ("busy", "busy"), ("no-answer", "no-answer")]
)
def test_dial_outcomes(transport, seen, step, status):
    phone = call(transport, f"9,{step}")
    assert dict(seen)["/dial-done"]["DialCallStatus"] == status
    assert heard(phone)[-1] == f"转接结果{status}"


def test_bad_signature_or_500_is_an_application_error(transport, seen):
    phone = call(transport, "", path="/broken")
    assert phone.events[-1]["kind"] == "application-error" or any(
        e["kind"] == "application-error" for e in phone.events
    )
    wrong = Phone.inbound(
        transport,
        "wrong-token",
        voice_url=PUBLIC + "/voice",
        from_="+1",
        to="12345",
        account_sid="AC" + "1" * 32,
    )
    wrong.start()
    assert "HTTP 403" in wrong.events[-1]["detail"]


def test_state_round_trips_through_json(transport, seen):
    import json

    phone = Phone.inbound(
        transport,
        TOKEN,
        voice_url=PUBLIC + "/voice",
        from_="+8613800001111",
        to="12345",
        account_sid="AC" + "1" * 32,
    )
    need = phone.start()
    assert need.kind == "gather" and need.attrs["numDigits"] == 1
    again = Phone.resume_from(json.loads(json.dumps(phone.state)), transport, TOKEN)
    need = again.resume(Action("keys", "1"))
    assert need.kind == "gather" and need.attrs["input"] == "speech"
    with pytest.raises(PhoneError):
        Phone.resume_from(again.state, transport, TOKEN).start()


def test_outbound_answer_and_not_answered(transport, seen):
    phone = Phone.outbound(
        transport,
        TOKEN,
        url=PUBLIC + "/voice",
        from_="12345",
        to="+8613800001111",
        account_sid="AC" + "1" * 32,
        call_sid="CA" + "2" * 32,
        status_callback=PUBLIC + "/status",
        status_events=["answered", "completed"],
    )
    run_call(phone, ScriptedCaller(parse_script("hangup")))
    assert seen[0][1]["CallStatus"] == "in-progress"  # Twilio reports the answered state
    first_voice = next(f for p, f in seen if p == "/voice")
    assert first_voice["Direction"] == "outbound-api" and first_voice["CallSid"] == "CA" + "2" * 32
    seen.clear()
    missed = Phone.outbound(
        transport,
        TOKEN,
        url=PUBLIC + "/voice",
        from_="12345",
        to="+8613800001111",
        account_sid="AC" + "1" * 32,
        status_callback=PUBLIC + "/status",
    )
    missed.not_answered("no-answer")
    assert seen == [("/status", seen[0][1])] and seen[0][1]["CallStatus"] == "no-answer"


def test_transcript_and_script_errors(transport):
    phone = call(transport, "1,say:阳光小区")
    text = format_transcript(phone.events)
    assert "欢迎致电12345" in text and "pressed 1" in text and "said 阳光小区" in text
    with pytest.raises(ScriptError):
        parse_script("1,jump:3")


def test_audio_with_no_recording_server_counts_as_silence(transport, seen):
    phone = call(transport, "2,say:有人吗")
    assert "/message" not in dict(seen)
    kinds = [e["kind"] for e in phone.events]
    assert "http-error" in kinds and "no-recording" in kinds
