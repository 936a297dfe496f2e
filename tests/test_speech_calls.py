"""Speech wired into whole calls: synthesized prompts, voice messages transcribed onto tickets.

The IVR webhooks run on the shipped flows.yaml; the recording is served over
real HTTP by the local fake of Twilio's REST API; the real Vosk decoder runs
on the real Korean model (no Chinese model can be downloaded here).
"""

from __future__ import annotations

import pytest
from ivr_support import WORKDAY_MORNING, WORKDAY_NIGHT, Phone, set_clock
from speech_support import as_twilio_wav, espeak_wav, korean_model, korean_model_path
from sqlalchemy import select

from core.db import get_db
from ivr.models import Call
from speech import jobs, tts
from speech.audio import decode_wav
from speech.models import FAILED, KIND_GRAMMAR, SpeechJob
from speech.worker import Worker
from telephony.fake_twilio import FakeTwilio
from tests.conftest import TEST_AUTH_TOKEN
from tickets.models import Ticket

SID = "AC" + "0" * 32


@pytest.fixture(scope="module")
def synth():
    synthesizer = tts.Synthesizer()
    yield synthesizer
    synthesizer.close()


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def call_app(make_app, fake, synth):
    app = make_app(TWILIO_API_BASE=fake.base_url, VOSK_MODEL_PATH=str(korean_model_path()))
    with get_db(app).session() as s:
        from tickets.seed import seed

        seed(s)
    return app


def _with_prompt_audio(app, synth, moment):
    set_clock(app, moment)  # also switches prompts to <Say>; switch synthesized audio back on
    prompts = app.extensions["speech_prompts"]
    prompts._synth = synth
    app.extensions["prompt_audio"] = prompts.audio_url


def _play_urls(phone) -> list[str]:
    return [e.text for e in phone.twiml.iter("Play")]


def _fetch_audio(client, url: str, base: str):
    response = client.get(url.removeprefix(base))
    try:
        assert response.status_code == 200 and response.mimetype == "audio/wav"
        return decode_wav(response.data)
    finally:
        response.close()


def test_voice_message_call_is_played_and_transcribed(call_app, fake, synth):
    app, client = call_app, call_app.test_client()
    base = app.config["PUBLIC_BASE_URL"]
    _with_prompt_audio(app, synth, WORKDAY_NIGHT)
    phone = Phone(client, app)
    phone.dial()
    phone.silence()  # after hours: straight to the voice message
    assert phone.verbs() == ["Play", "Play", "Record", "Redirect"], phone.raw
    for url in _play_urls(phone):
        audio = _fetch_audio(client, url, base)
        assert audio.rate == 8000 and audio.duration > 2

    message = as_twilio_wav(espeak_wav("지하철 소음 때문에 전화했습니다", "ko+f2"), "mulaw")
    url = fake.add_recording("RE" + "a" * 32, message, ready_after=2)
    phone.leave_recording(url=url, sid="RE" + "a" * 32, duration=4)
    # The ticket number, read digit by digit, is per-call text synthesized on demand.
    ticket_prompt, goodbye = _play_urls(phone)
    assert _fetch_audio(client, ticket_prompt, base).duration > 5
    with get_db(app).session() as s:
        ticket = s.scalar(select(Ticket))
        assert ticket.recording_url == url and ticket.transcript is None
        assert jobs.transcript_state(s, ticket.id) == "pending"
    assert fake.requests == []  # the webhook answered without waiting for the recording

    outcome = Worker(get_db(app), app.config, korean_model()).run_once()
    assert outcome.status == "done", outcome
    with get_db(app).session() as s:
        ticket = s.get(Ticket, ticket.id)
        assert ticket.transcript and ticket.transcript_words and ticket.transcript_confidence
        assert jobs.transcript_state(s, ticket.id) == "done"
    assert len(fake.requests) == 3  # two 404s while Twilio "stores" it, then the file


def test_forged_recording_url_is_never_fetched(call_app, fake):
    app = call_app
    set_clock(app, WORKDAY_NIGHT)
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as elsewhere:
        forged = elsewhere.add_recording("RE" + "b" * 32, espeak_wav("안녕하세요"))
        phone = Phone(app.test_client(), app)
        phone.dial()
        phone.silence()
        phone.leave_recording(url=forged, sid="RE" + "b" * 32, duration=3)
        outcome = Worker(get_db(app), app.config, korean_model()).run_once()
        assert outcome.status == "failed" and "RecordingRefusedError" in outcome.detail
        assert elsewhere.requests == [] and fake.requests == []
    with get_db(app).session() as s:
        ticket = s.scalar(select(Ticket))
        job = s.scalar(select(SpeechJob))
        assert ticket.recording_url == forged and ticket.transcript is None
        assert job.status == FAILED and "not under TWILIO_API_BASE" in job.error


def test_spoken_menu_answer_runs_through_the_real_decoder(call_app, fake):
    """The shipped keywords are Chinese; the Korean model has none of them, so the answer is
    'no match', which the flow counts as an invalid try (as it must for any unknown word)."""
    app = call_app
    set_clock(app, WORKDAY_MORNING)
    phone = Phone(app.test_client(), app)
    phone.dial()
    phone.press("1")
    phone.silence()
    assert phone.find("Record").get("maxLength") == "4"
    url = fake.add_recording("RE" + "c" * 32, as_twilio_wav(espeak_wav("난방")))
    phone.leave_recording(url=url, sid="RE" + "c" * 32, duration=2)
    assert phone.verbs() == ["Pause", "Redirect"]
    outcome = Worker(get_db(app), app.config, korean_model()).run_once()
    assert (outcome.kind, outcome.status) == ("grammar", "done")
    with get_db(app).session() as s:
        job = s.scalar(select(SpeechJob))
        assert "供暖" in job.words and job.result["word"] is None
    phone.poll()
    assert phone.said()[0] == "您的输入有误，请重新选择。"


# A menu answered by voice. The Korean model knows no Chinese, so the keywords are Korean
# words it tells apart at telephone quality (8 kHz mu-law; see test_speech_asr.py).
KOREAN_MENU = """
flow: {name: spoken_menu, start: topics, operator: operator}
nodes:
  topics:
    kind: menu
    say: 供暖问题请按1，医院请按2，学校请按3。
    options:
      - {key: "1", keywords: [난방], next: heating}
      - {key: "2", keywords: [병원], next: hospital}
      - {key: "3", keywords: [학교], next: school}
  heating: {kind: hangup, say: 供暖问题由热力公司处理。}
  hospital: {kind: hangup, say: 医院问题由卫生健康委员会处理。}
  school: {kind: hangup, say: 学校问题由教育局处理。}
  operator: {kind: transfer, say: 正在为您转接人工服务。, queue: agents}
"""


@pytest.fixture
def spoken_menu_app(store_app, fake, tmp_path):
    from ivr.registry import FlowRegistry

    flow = tmp_path / "flows.yaml"
    flow.write_text(KOREAN_MENU, encoding="utf-8")
    store_app.config.update(TWILIO_API_BASE=fake.base_url, VOSK_MODEL_PATH=str(korean_model_path()))
    store_app.extensions["ivr.flows"] = FlowRegistry(str(flow))
    set_clock(store_app, WORKDAY_MORNING)
    return store_app


@pytest.mark.store
@pytest.mark.parametrize(
    ("word", "branch", "answer"),
    [
        ("병원", "hospital", "医院问题由卫生健康委员会处理。"),
        ("학교", "school", "学校问题由教育局处理。"),
    ],
    ids=["hospital", "school"],
)
def test_spoken_keyword_decoded_by_the_worker_routes_the_call(
    spoken_menu_app, fake, word, branch, answer
):
    app = spoken_menu_app
    phone = Phone(app.test_client(), app)
    phone.dial()
    phone.silence()  # no key pressed: the menu listens for a keyword
    assert phone.verbs() == ["Say", "Record", "Redirect"], phone.raw
    spoken = as_twilio_wav(espeak_wav(word, "ko+f2"), "mulaw")
    url = fake.add_recording("RE" + "d" * 32, spoken)
    phone.leave_recording(url=url, sid="RE" + "d" * 32, duration=2)
    assert phone.verbs() == ["Pause", "Redirect"]  # waiting for the recogniser
    # The spoken-answer thread of `flask speech worker`, on the real model.
    worker = Worker(get_db(app), app.config, korean_model(), kinds=(KIND_GRAMMAR,))
    outcome = worker.run_once()
    assert (outcome.kind, outcome.status) == ("grammar", "done"), outcome
    phone.poll()
    assert (phone.said(), phone.verbs()) == ([answer], ["Say", "Hangup"]), phone.raw
    with get_db(app).session() as s:
        job = s.scalar(select(SpeechJob))
        assert job.words == ["난방", "병원", "학교"] and job.result["word"] == word
    phone.hang_up()
    with get_db(app).session() as s:
        call = s.scalar(select(Call))
        assert call.nodes == ["topics", branch]
