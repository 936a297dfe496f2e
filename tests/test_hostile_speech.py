"""Speech that cannot be served: no model, no worker, lying audio headers.

Callers are not invited to speak when nothing can recognise what they say;
tickets say plainly that they have no transcript; a recording that can never be
decoded fails once and for all, while a network failure is retried with backoff.
"""

from __future__ import annotations

import os
import struct
import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.db import get_db, utcnow
from speech import asr, jobs
from speech.availability import GRAMMAR_STALL
from speech.errors import CorruptAudioError
from speech.models import SpeechJob
from speech.priority import BACKGROUND_NICENESS, default_decode_threads
from speech.worker import Worker
from tests.ivr_support import WORKDAY_MORNING, Phone, set_clock
from tests.speech_support import korean_model_path

LISTEN = "您也可以在提示音后直接说出您要办理的业务。"
NO_KEY = "我们没有收到您的按键。"


def self_service_silence(app) -> Phone:
    """Open the self-service menu (it has spoken keywords), then say nothing."""
    set_clock(app, WORKDAY_MORNING)
    phone = Phone(app.test_client(), app, call_sid="CA" + uuid.uuid4().hex)
    phone.dial()
    phone.press("1")
    phone.silence()
    return phone


def test_no_model_no_invitation_to_speak(make_app, tmp_path):
    app = make_app(VOSK_MODEL_PATH=str(tmp_path / "no-model"))
    phone = self_service_silence(app)
    assert "Record" not in phone.verbs() and LISTEN not in phone.said(), phone.raw
    assert phone.said()[0] == NO_KEY and "Gather" in phone.verbs()


def test_no_worker_taking_spoken_answers_no_invitation_to_speak(make_app):
    app = make_app(VOSK_MODEL_PATH=str(korean_model_path()))
    phone = self_service_silence(app)
    assert "Record" in phone.verbs() and LISTEN in phone.said()  # model there: offered
    phone.leave_recording(duration=2)
    # Nobody takes the job (no worker running) for longer than a caller would wait.
    with app.app_context(), get_db(app).session() as s:
        s.execute(update(SpeechJob).values(created_at=utcnow() - GRAMMAR_STALL * 2))
    phone = self_service_silence(app)
    assert "Record" not in phone.verbs() and LISTEN not in phone.said(), phone.raw


def wav_with_bits(bits: int, block_align: int) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000 * block_align, block_align, bits)
    data = b"\x00\x01" * 400
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_a_wav_claiming_zero_bits_per_sample_is_refused_cleanly():
    from speech.audio import decode_wav

    with pytest.raises(CorruptAudioError, match="0 bits"):
        decode_wav(wav_with_bits(0, 0))


def transcription_job(app) -> int:
    from tickets.service import create_ticket

    with app.app_context(), get_db(app).session() as s:
        ticket = create_ticket(
            s, channel="voice_message", caller_number=None, recording_url="https://x/RE1"
        )
        return ticket.id, jobs.enqueue_transcription(
            s, ticket_id=ticket.id, recording_url="https://x/RE1", recording_sid="RE1"
        )


@pytest.mark.parametrize(
    ("fetched", "status", "attempts_left"),
    [
        (lambda url, sid: wav_with_bits(0, 0), "failed", False),  # never decodable
        (lambda url, sid: (_ for _ in ()).throw(ConnectionError("reset")), "retry", True),
    ],
)
def test_permanent_failures_fail_once_transient_ones_back_off(
    make_app, tmp_path, fetched, status, attempts_left
):
    app = make_app(VOSK_MODEL_PATH=str(tmp_path / "no-model"))
    ticket_id, job_id = transcription_job(app)
    worker = Worker(get_db(app), app.config, asr.holder(tmp_path / "no-model"), fetch=fetched)
    outcome = worker.run_once()
    assert outcome.status == status, outcome
    with app.app_context(), get_db(app).session() as s:
        job = s.get(SpeechJob, job_id)
        assert job.attempts == 1 and "ZeroDivisionError" not in (job.error or "")
        if attempts_left:
            assert job.next_try_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)
        assert jobs.transcript_state(s, ticket_id) != "pending"


def test_a_ticket_whose_transcription_never_starts_says_no_transcript(make_app):
    app = make_app()
    ticket_id, job_id = transcription_job(app)
    with app.app_context(), get_db(app).session() as s:
        assert jobs.transcript_state(s, ticket_id) == "pending"  # just queued
        s.execute(
            update(SpeechJob).values(created_at=utcnow() - jobs.PENDING_SHOWN_FOR - timedelta(1))
        )
    with app.app_context(), get_db(app).session() as s:
        assert jobs.transcript_state(s, ticket_id) == "queued"  # shown as 暂无转写
        assert s.scalar(select(SpeechJob.status).where(SpeechJob.id == job_id)) == "pending"


def test_transcription_yields_the_cpu_spoken_answers_do_not(make_app, tmp_path):
    """Calls before transcripts: transcription threads run at background priority (the web
    workers win the CPU); threads taking spoken menu answers keep normal priority."""
    app = make_app(VOSK_MODEL_PATH=str(tmp_path / "no-model"))
    transcription_job(app)
    seen = {}

    def run(background: bool) -> None:
        def fetch(url, sid):
            seen[background] = (os.sched_getscheduler(0), os.nice(0))
            stop.set()
            raise ConnectionError("recorded the priority")

        stop = threading.Event()
        worker = Worker(
            get_db(app),
            app.config,
            asr.holder(tmp_path / "no-model"),
            fetch=fetch,
            background=background,
        )
        with app.app_context(), get_db(app).session() as s:
            s.execute(update(SpeechJob).values(status="pending", next_try_at=utcnow()))
        thread = threading.Thread(target=worker.run, args=(stop, 0.05))
        thread.start()
        thread.join(timeout=30)

    normal = (os.sched_getscheduler(0), os.nice(0))
    run(background=True)
    run(background=False)
    assert seen[True][0] == os.SCHED_BATCH and seen[True][1] == BACKGROUND_NICENESS
    assert seen[False] == normal
    assert (os.sched_getscheduler(0), os.nice(0)) == normal  # the test's own thread untouched
    assert default_decode_threads() == max(1, (os.cpu_count() or 1) - 1)
