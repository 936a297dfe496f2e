"""`flask speech …` commands: backlog with progress, model download (verified, atomic)."""

from __future__ import annotations

import hashlib
import http.server
import os
import select
import signal
import subprocess
import sys
import threading
import time
import zipfile
from functools import partial
from pathlib import Path

import pytest
from speech_support import espeak_wav, korean_model_path

from core.db import get_db
from speech import asr, jobs
from speech.models import DONE, SpeechJob


@pytest.fixture
def served(tmp_path):
    """A local HTTP server for files in tmp_path/www (a stand-in for the models site)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


def _model_zip(path, top="vosk-model-test"):
    with zipfile.ZipFile(path, "w") as z:
        for name in ("am/final.mdl", "conf/model.conf", "graph/HCLG.fst"):
            z.writestr(f"{top}/{name}", b"data")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verifies_and_unpacks_atomically(make_app, served, tmp_path):
    root, base = served
    digest = _model_zip(root / "m.zip")
    dest = tmp_path / "models" / "vosk-model-test"
    runner = make_app(VOSK_MODEL_PATH=str(dest)).test_cli_runner()
    args = ["speech", "download-model", "vosk-model-test", "--url", f"{base}/m.zip"]

    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "no pinned SHA-256" in result.output
    result = runner.invoke(args=[*args, "--sha256", "0" * 64])
    assert result.exit_code == 1 and f"expected {'0' * 64}, got {digest}" in result.output
    assert not dest.exists() and list(dest.parent.iterdir()) == []  # nothing half-done left

    result = runner.invoke(args=[*args, "--sha256", digest])
    assert result.exit_code == 0, result.output
    assert asr.files_status(dest)[0] == "present" and digest in result.output
    assert sorted(p.name for p in dest.parent.iterdir()) == ["vosk-model-test"]


def test_download_rejects_zip_slip_and_non_models(make_app, served, tmp_path):
    root, base = served
    with zipfile.ZipFile(root / "evil.zip", "w") as z:
        z.writestr("../../evil.txt", b"x")
    with zipfile.ZipFile(root / "empty.zip", "w") as z:
        z.writestr("readme.txt", b"x")
    dest = tmp_path / "models" / "m"
    runner = make_app(VOSK_MODEL_PATH=str(dest)).test_cli_runner()
    for name, message in (("evil.zip", "unsafe path"), ("empty.zip", "does not hold a Vosk")):
        result = runner.invoke(
            args=["speech", "download-model", "m", "--allow-unpinned", "--url", f"{base}/{name}"]
        )
        assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "evil.txt").exists() and not dest.exists()


def test_download_offline_fails_at_once_with_instructions(make_app, tmp_path):
    dest = tmp_path / "models" / "vosk-model-small-cn-0.22"
    runner = make_app(VOSK_MODEL_PATH=str(dest)).test_cli_runner()
    # Port 9 on localhost: nothing listens, the connection is refused like a cut-off network.
    result = runner.invoke(
        args=[
            "speech",
            "download-model",
            "--allow-unpinned",
            "--url",
            "http://127.0.0.1:9/vosk-model-small-cn-0.22.zip",
        ]
    )
    assert result.exit_code == 1
    assert "cannot reach" in result.output
    assert "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip" in result.output
    assert str(dest / "am" / "final.mdl") in result.output


def test_transcribe_pending_without_then_with_a_model(make_app, tmp_path):
    from telephony.fake_twilio import FakeTwilio
    from tests.conftest import TEST_AUTH_TOKEN
    from tickets.service import create_ticket

    with FakeTwilio("AC" + "0" * 32, TEST_AUTH_TOKEN) as fake:
        app = make_app(TWILIO_API_BASE=fake.base_url, VOSK_MODEL_PATH=str(tmp_path / "none"))
        with get_db(app).session() as s:
            ids = []
            for i in range(3):
                url = fake.add_recording(f"RE{i}", espeak_wav("안녕하세요", "ko+f2"))
                ticket = create_ticket(
                    s,
                    channel="voice_message",
                    caller_number=None,
                    recording_url=url,
                    recording_sid=f"RE{i}",
                )
                ids.append(
                    jobs.enqueue_transcription(
                        s, ticket_id=ticket.id, recording_url=url, recording_sid=f"RE{i}"
                    )
                )
        result = app.test_cli_runner().invoke(args=["speech", "status"])
        assert "model: missing" in result.output and "pending 3; due now 3" in result.output
        result = app.test_cli_runner().invoke(args=["speech", "transcribe-pending"])
        assert result.exit_code == 1 and "no Vosk model" in result.output
        assert "wait in the queue" in result.output

        app.config["VOSK_MODEL_PATH"] = str(korean_model_path())
        result = app.test_cli_runner().invoke(args=["speech", "transcribe-pending"])
        assert result.exit_code == 0, result.output
        assert "3 done, 0 to retry later, 0 failed" in result.output
        assert "3/3" in result.output  # the progress bar ran to the end
        with get_db(app).session() as s:
            assert all(s.get(SpeechJob, i).status == DONE for i in ids)


def test_worker_process_serves_jobs_and_stops_on_sigterm(sqlite_url, tmp_path):
    """`flask speech worker` as its own process: loads the model, answers, exits cleanly."""
    from core.db import Database
    from telephony.fake_twilio import FakeTwilio

    root = Path(__file__).resolve().parent.parent
    with FakeTwilio("AC" + "0" * 32, "worker-token") as fake:
        db = Database(sqlite_url)
        with db.session() as s:
            job_id = jobs.enqueue_grammar(
                s,
                call_sid="CA1",
                words=["병원", "학교", "버스"],
                recording_url=fake.add_recording("RE1", espeak_wav("병원", "ko+f2")),
            )
        env = {
            **os.environ,
            "DATABASE_URL": sqlite_url,
            "TWILIO_API_BASE": fake.base_url,
            "TWILIO_AUTH_TOKEN": "worker-token",
            "VOSK_MODEL_PATH": str(korean_model_path()),
            "RECORDINGS_DIR": str(tmp_path / "rec"),
            "AUDIO_DIR": str(tmp_path / "audio"),
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "ivr",
                "speech",
                "worker",
                "--threads",
                "0",
                "--grammar-threads",
                "1",
                "--poll",
                "0.2",
            ],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            result = None
            while result is None and time.monotonic() < deadline:
                time.sleep(0.3)
                with db.session() as s:
                    result = jobs.grammar_result(s, job_id)
            assert result is not None and result[0] == "병원"
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
            db.dispose()
        assert process.returncode == 0, output
        assert "loaded, 0 thread(s) + 1 for spoken answers" in output
        assert "speech worker stopped" in output


def test_worker_without_model_waits_instead_of_taking_the_service_down(make_app, tmp_path):
    runner = make_app(VOSK_MODEL_PATH=str(tmp_path / "none")).test_cli_runner()
    result = runner.invoke(args=["speech", "worker", "--exit-without-model"])
    assert result.exit_code == 1 and "no Vosk model" in result.output

    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "VOSK_MODEL_PATH": str(tmp_path / "none"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "ivr", "speech", "worker"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    seen = b""
    deadline = time.monotonic() + 60
    # Raw reads of the pipe: a buffered readline would hide lines from select().
    while b"Waiting for the model" not in seen and time.monotonic() < deadline:
        if select.select([process.stdout], [], [], 1)[0]:
            seen += os.read(process.stdout.fileno(), 65536)
    assert process.poll() is None  # still there, waiting for a model
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    seen = (seen + output).decode()
    assert "Waiting for the model" in seen and "download-model" in seen
