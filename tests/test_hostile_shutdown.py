"""Shutdown under repeated signals: every long-running process exits within 5 s.

A supervisor's TERM to the process group, `scripts/run`'s own kill and a Ctrl-C
can reach a process within milliseconds of each other. Signal handlers take no
lock (core.stopping), so a second signal can never deadlock the first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.config import ROOT

EXIT_WITHIN = 5.0
READY_WITHIN = 60.0

HOLD_THE_EVENT_LOCK = """
import signal, sys, threading
from core.stopping import StopOnSignal
stop = threading.Event()
if sys.argv[1] == "event-set-in-handler":
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
else:
    StopOnSignal(stop)
with stop._cond:  # the main thread inside Event.set(), as when a first signal is handled
    signal.raise_signal(signal.SIGTERM)  # a second signal arrives
sys.exit(0 if stop.wait(5) else 1)
"""


@pytest.mark.parametrize(("handler", "hangs"), [("event-set-in-handler", True), ("core", False)])
def test_a_signal_while_the_stop_event_is_locked(handler, hangs):
    """The old handler (Event.set) deadlocks on the lock its own thread holds; ours does not."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_EVENT_LOCK, handler], cwd=ROOT, env=os.environ
    )
    try:
        code = proc.wait(timeout=EXIT_WITHIN + 2)
    except subprocess.TimeoutExpired:
        code = None
    finally:
        proc.kill()
        proc.wait()
    assert (code is None) if hangs else (code == 0)


def test_no_process_installs_a_signal_handler_of_its_own():
    """Every long-running process stops through core.stopping (no lock in a handler)."""
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("core", "speech", "callbacks", "agents", "ivr", "tickets", "telephony")
        for path in (ROOT / package).rglob("*.py")
        if "signal.signal(" in path.read_text(encoding="utf-8")
        and path != ROOT / "core" / "stopping.py"
    ]
    assert offenders == []


PROCESSES = {
    "speech worker": (["speech", "worker"], "Waiting for the model"),
    "callback scheduler": (["callbacks", "run"], "starting"),
    "agent distribution": (["agents", "run"], "agent distribution running"),
}


def start(args: list[str], tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    env = {
        **os.environ,
        "FLASK_APP": "ivr",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
        "SECRET_KEY": "test",
        "PUBLIC_BASE_URL": "http://hotline.test",
        "TELEPHONY": "simulator",
        "VOSK_MODEL_PATH": str(tmp_path / "no-model"),
        "AUDIO_DIR": str(tmp_path / "audio"),
        "CALLING_DAYS": "all",
        "CALLING_WINDOW": "00:00-24:00",
        "LOG_LEVEL": "INFO",
    }
    out = tmp_path / f"{args[0]}.log"
    with open(out, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return proc, out


@pytest.mark.parametrize("name", PROCESSES)
@pytest.mark.parametrize(
    "signals", [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM)]
)
def test_two_signals_in_quick_succession_stop_the_process(name, signals, sqlite_url, tmp_path):
    args, ready = PROCESSES[name]
    proc, log = start(args, tmp_path)
    try:
        deadline = time.monotonic() + READY_WITHIN
        while ready not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
        start_stop = time.monotonic()
        for sig in signals:
            proc.send_signal(sig)
        code = proc.wait(timeout=EXIT_WITHIN)
        assert time.monotonic() - start_stop < EXIT_WITHIN
        assert code == 0, log.read_text(errors="replace")
        assert "Traceback" not in log.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
