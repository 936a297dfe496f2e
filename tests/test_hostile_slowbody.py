"""Slow clients against the web server as `scripts/run` starts it (`scripts/web`).

Connections that send their headers and then trickle the body a byte at a time
held one gunicorn thread each: ten of them made a webhook time out after 25 s.
With nginx in front (reading each request whole before gunicorn sees it) a
webhook sent while they trickle is answered at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from conftest import TEST_AUTH_TOKEN, missing

from core import migrate
from core.config import ROOT
from telephony.signature import sign

NGINX = "/usr/sbin/nginx"
SLOW_CLIENTS = 12
ANSWER_WITHIN = 5.0  # seconds; Twilio gives up after 15


def _free_port_pair() -> int:
    """A port whose next one is free too (nginx listens on it, gunicorn on the next)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no two free ports in a row")


@pytest.fixture
def web(tmp_path, shared_audio_dir):
    if not Path(NGINX).exists():
        missing("nginx is not installed (scripts/setup installs nginx-light)")
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    migrate.upgrade(url)
    port = _free_port_pair()
    env = os.environ | {
        "DATABASE_URL": url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "SECRET_KEY": "test-secret",
        "HOTLINE_API_TOKEN": "test",
        "AUDIO_DIR": str(shared_audio_dir),
        "RECORDINGS_DIR": str(tmp_path / "recordings"),
        "TELEPHONY": "simulator",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",  # fewer threads than slow clients: bare gunicorn would stall
        "NGINX_PREFIX": str(tmp_path / "nginx"),
    }
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "web")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code in (200, 503):
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "scripts/web did not answer within 60 s"
            time.sleep(0.3)
        yield base, port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        shutil.rmtree(tmp_path / "nginx", ignore_errors=True)


def _trickle(port: int, stop: threading.Event) -> None:
    """Headers promising a 1,000-byte form, then one byte a second."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(
                b"POST /ivr/voice HTTP/1.1\r\nHost: x\r\nX-Twilio-Signature: slow\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\n"
            )
            while not stop.wait(1.0):
                sock.sendall(b"a")
    except OSError:
        pass  # dropped by the server: what it should do to a client this slow


def test_trickling_bodies_do_not_stall_webhooks(web):
    base, port = web
    stop = threading.Event()
    slow = [threading.Thread(target=_trickle, args=(port, stop)) for _ in range(SLOW_CLIENTS)]
    for t in slow:
        t.start()
    try:
        time.sleep(2.0)  # every slow client has sent its headers and is trickling
        form = {"CallSid": "CA" + "5" * 32, "From": "+8613812345678", "To": "+8612345"}
        signature = sign(base + "/ivr/voice", form, TEST_AUTH_TOKEN)
        started = time.monotonic()
        resp = requests.post(
            base + "/ivr/voice", data=form, headers={"X-Twilio-Signature": signature}, timeout=15
        )
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        for t in slow:
            t.join(timeout=10)
    assert resp.status_code == 200 and "<Response>" in resp.text
    assert elapsed < ANSWER_WITHIN, (
        f"webhook took {elapsed:.1f} s behind {SLOW_CLIENTS} slow clients"
    )


def test_a_body_nginx_keeps_in_a_temp_file_reaches_the_app(web):
    """nginx holds bodies over 16 kB in a temp file under its private prefix; started as
    root, its workers must still be able to write there (an upload, a long draft, a
    recording: the app answers, not nginx with a 500)."""
    base, _ = web
    form = {"CallSid": "CA" + "6" * 32, "From": "+8613812345678", "To": "+8612345"}
    form["Padding"] = "x" * 40_000  # under the app's 64 kB webhook cap, over nginx's buffer
    signature = sign(base + "/ivr/voice", form, TEST_AUTH_TOKEN)
    resp = requests.post(
        base + "/ivr/voice", data=form, headers={"X-Twilio-Signature": signature}, timeout=15
    )
    assert resp.status_code == 200 and "<Response>" in resp.text
