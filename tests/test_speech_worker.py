"""The worker end to end on real parts: FakeTwilio over HTTP, real Vosk, real tickets."""

from __future__ import annotations

import threading

import pytest
from speech_support import as_twilio_wav, espeak_wav, korean_model, korean_model_path

from core.db import get_db
from speech import asr, jobs
from speech.models import DONE, FAILED, PENDING, SpeechJob
from speech.worker import Worker, run_threads
from telephony import recordings
from telephony.fake_twilio import FakeTwilio
from tests.conftest import TEST_AUTH_TOKEN

SID = "AC" + "0" * 32


@pytest.fixture
def fake():
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as server:
        yield server


@pytest.fixture
def speech_app(store_app, fake):
    store_app.config.update(TWILIO_API_BASE=fake.base_url, VOSK_MODEL_PATH=str(korean_model_path()))
    return store_app


def _ticket(s, url, sid="RE1"):
    from tickets.service import create_ticket

    ticket = create_ticket(
        s,
        channel="voice_message",
        caller_number="+8613800000000",
        recording_url=url,
        recording_sid=sid,
        call_sid="CA1",
    )
    return ticket, jobs.enqueue_transcription(
        s, ticket_id=ticket.id, recording_url=url, recording_sid=sid
    )


def _worker(app, worker="test", **kw):
    return Worker(get_db(app), app.config, korean_model(), worker=worker, **kw)


@pytest.mark.store
def test_voice_message_gets_its_transcript(speech_app, fake):
    from tickets.models import Ticket

    said = espeak_wav("지하철 소음 때문에 전화했습니다", "ko+f2")
    url = fake.add_recording("RE1", as_twilio_wav(said, "mulaw"), ready_after=1)
    db = get_db(speech_app)
    with db.session() as s:
        ticket, job_id = _ticket(s, url)
        assert jobs.transcript_state(s, ticket.id) == "pending"
    outcome = _worker(speech_app).run_once()
    assert (outcome.job_id, outcome.status) == (job_id, "done")
    with db.session() as s:
        ticket = s.get(Ticket, ticket.id)
        job = s.get(SpeechJob, job_id)
        assert ticket.transcript and ticket.transcript == job.result["text"]
        assert 0 < ticket.transcript_confidence <= 1
        assert ticket.transcript_words[0].keys() == {"word", "start", "end", "conf"}
        assert job.result["words"] == len(ticket.transcript_words)
        assert jobs.transcript_state(s, ticket.id) == "done"
    assert len(fake.requests) == 2  # one 404 while "storing", then the file


def test_a_transcript_nobody_stores_is_retried_not_lost(app, fake):
    """Speech announces transcripts (speech.signals); without tickets listening, no job is done."""
    from speech import signals
    from tickets import service
    from tickets.models import Ticket

    app.config.update(TWILIO_API_BASE=fake.base_url, VOSK_MODEL_PATH=str(korean_model_path()))
    url = fake.add_recording("RE9", as_twilio_wav(espeak_wav("전화했습니다", "ko+f2"), "mulaw"))
    with get_db(app).session() as s:
        ticket, job_id = _ticket(s, url, sid="RE9")
    signals.transcript_ready.disconnect(service._store_transcript)
    try:
        outcome = _worker(app).run_once()
    finally:
        signals.transcript_ready.connect(service._store_transcript)
    assert (outcome.job_id, outcome.status) == (job_id, "retry")
    assert "no package stores transcripts" in outcome.detail
    with get_db(app).session() as s:
        assert s.get(SpeechJob, job_id).status == PENDING  # due again later
        assert jobs.transcript_state(s, ticket.id) == "retry"
        assert s.get(Ticket, ticket.id).transcript is None


@pytest.mark.store
def test_grammar_job_answers_the_call(speech_app, fake):
    url = fake.add_recording("RE2", espeak_wav("병원", "ko+f2"))
    with get_db(speech_app).session() as s:
        job_id = jobs.enqueue_grammar(
            s, call_sid="CA2", recording_url=url, words=["병원", "학교", "버스"]
        )
    assert _worker(speech_app).run_once().status == "done"
    with get_db(speech_app).session() as s:
        word, confidence = jobs.grammar_result(s, job_id)
    assert word == "병원" and confidence >= float(
        speech_app.config["SPEECH_GRAMMAR_MIN_CONFIDENCE"]
    )


@pytest.mark.store
def test_grammar_job_below_the_threshold_answers_no_word_with_its_confidence(speech_app, fake):
    """SPEECH_GRAMMAR_MIN_CONFIDENCE is applied by the worker, the one place it is read: a
    word heard with less confidence comes back as no word (the menu counts an invalid try)."""
    speech_app.config["SPEECH_GRAMMAR_MIN_CONFIDENCE"] = 0.8
    menu = ["병원", "학교", "버스"]
    # 보건소 (health centre) is not on the menu: said quickly, the grammar can only force it
    # onto 병원, with little confidence (0.59 with the test model).
    unsure = fake.add_recording("RE6", espeak_wav("보건소", "ko+f2", speed=300))
    sure = fake.add_recording("RE7", espeak_wav("병원", "ko+f2"))
    with get_db(speech_app).session() as s:
        below = jobs.enqueue_grammar(s, call_sid="CA6", recording_url=unsure, words=menu)
        above = jobs.enqueue_grammar(s, call_sid="CA7", recording_url=sure, words=menu)
    worker = _worker(speech_app)
    assert [worker.run_once().status for _ in range(2)] == ["done", "done"]
    with get_db(speech_app).session() as s:
        word, confidence = jobs.grammar_result(s, below)
        assert word is None and 0 < confidence < 0.8, (word, confidence)
        assert s.get(SpeechJob, below).result["heard"] in menu, s.get(SpeechJob, below).result
        assert jobs.grammar_result(s, above) == ("병원", 1.0)
    # The setting, not a constant, decides: set low, the same unsure answer is accepted.
    speech_app.config["SPEECH_GRAMMAR_MIN_CONFIDENCE"] = 0.3
    with get_db(speech_app).session() as s:
        again = jobs.enqueue_grammar(s, call_sid="CA8", recording_url=unsure, words=menu)
    assert _worker(speech_app).run_once().status == "done"
    with get_db(speech_app).session() as s:
        word, confidence = jobs.grammar_result(s, again)
        assert word in menu and 0.3 <= confidence < 0.8, (word, confidence)


def test_bad_audio_fails_for_good_and_missing_recording_is_retried(speech_app, fake):
    not_wav = fake.add_recording("RE3", b"<html>oops</html>")
    missing = fake.recording_url("RE4")
    with get_db(speech_app).session() as s:
        _, bad = _ticket(s, not_wav, "RE3")
        _, later = _ticket(s, missing, "RE4")
    worker = _worker(
        speech_app,
        fetch=lambda url, sid: recordings.fetch(
            url,
            base=fake.base_url,
            account_sid=SID,
            auth_token=TEST_AUTH_TOKEN,
            max_bytes=1024 * 1024,
            sleep=lambda _s: None,
        ),
    )
    outcomes = {o.job_id: o for o in (worker.run_once(), worker.run_once())}
    assert outcomes[bad].status == "failed" and "NotAudioError" in outcomes[bad].detail
    assert outcomes[later].status == "retry" and "RecordingNotReadyError" in outcomes[later].detail
    with get_db(speech_app).session() as s:
        assert s.get(SpeechJob, later).status == PENDING


def test_forged_recording_url_is_never_fetched(speech_app, fake):
    with FakeTwilio(SID, TEST_AUTH_TOKEN) as elsewhere:
        forged = elsewhere.add_recording("RE5", espeak_wav("병원"))
        with get_db(speech_app).session() as s:
            _, job_id = _ticket(s, forged, "RE5")
        outcome = _worker(speech_app).run_once()
        assert outcome.status == "failed" and "RecordingRefusedError" in outcome.detail
        assert elsewhere.requests == [] and fake.requests == []


def test_without_a_model_jobs_wait_untouched(speech_app, fake, tmp_path):
    url = fake.add_recording("RE6", espeak_wav("병원"))
    with get_db(speech_app).session() as s:
        ticket, job_id = _ticket(s, url, "RE6")
    worker = Worker(get_db(speech_app), speech_app.config, asr.ModelHolder(tmp_path / "none"))
    with pytest.raises(asr.ModelMissingError):
        worker.run_once()
    with get_db(speech_app).session() as s:
        job = s.get(SpeechJob, job_id)
        assert (job.status, job.attempts) == (PENDING, 0)
        assert jobs.transcript_state(s, ticket.id) == "pending"
        assert s.get(type(ticket), ticket.id).recording_url == url


def test_threads_share_one_model_and_drain_the_queue(speech_app, fake):
    with get_db(speech_app).session() as s:
        ids = [
            jobs.enqueue_grammar(
                s,
                call_sid=f"CA{i}",
                words=["병원", "학교"],
                recording_url=fake.add_recording(f"RG{i}", espeak_wav("학교")),
            )
            for i in range(4)
        ]
    stop = threading.Event()
    workers = [_worker(speech_app, worker=f"t{i}") for i in range(2)]

    def stop_when_drained():
        while not stop.is_set():
            with get_db(speech_app).session() as s:
                if all(s.get(SpeechJob, i).status in (DONE, FAILED) for i in ids):
                    stop.set()
            stop.wait(0.1)

    watcher = threading.Thread(target=stop_when_drained)
    watcher.start()
    run_threads(workers, stop, poll_interval=0.05)
    watcher.join()
    with get_db(speech_app).session() as s:
        rows = [s.get(SpeechJob, i) for i in ids]
        assert all(r.status == DONE and r.attempts == 1 for r in rows)
        assert {r.claimed_by for r in rows} <= {"t0", "t1"}


def test_grammar_only_worker_leaves_voice_messages_alone(speech_app, fake):
    with get_db(speech_app).session() as s:
        _, transcription = _ticket(s, fake.add_recording("RE7", espeak_wav("병원")), "RE7")
    grammar_only = _worker(speech_app, kinds=("grammar",))
    assert grammar_only.run_once() is None
    with get_db(speech_app).session() as s:
        gid = jobs.enqueue_grammar(
            s,
            call_sid="CA7",
            words=["병원", "학교"],
            recording_url=fake.add_recording("RG7", espeak_wav("병원")),
        )
    assert grammar_only.run_once().job_id == gid
    with get_db(speech_app).session() as s:
        assert s.get(SpeechJob, transcription).status == PENDING


def test_stale_grammar_job_is_dropped_unprocessed(speech_app, fake):
    from datetime import timedelta

    from core.db import utcnow
    from speech.worker import GRAMMAR_MAX_AGE

    with get_db(speech_app).session() as s:
        gid = jobs.enqueue_grammar(
            s,
            call_sid="CA8",
            words=["병원"],
            recording_url=fake.add_recording("RG8", espeak_wav("병원")),
        )
        s.get(SpeechJob, gid).created_at = utcnow() - GRAMMAR_MAX_AGE - timedelta(seconds=1)
    outcome = _worker(speech_app).run_once()
    assert (outcome.job_id, outcome.status, outcome.detail) == (gid, "failed", "expired")
    assert fake.requests == []  # not even downloaded
    with get_db(speech_app).session() as s:
        assert jobs.grammar_result(s, gid) == (None, 0.0)
