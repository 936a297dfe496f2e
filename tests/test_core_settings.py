"""Settings are checked once at start: typed values, one line per bad setting, exit status 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time as clock
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callbacks.policy import Policy
from core import calendar
from core.config import KINDS, SETTINGS, SettingsError, load_config, value
from tests.conftest import TEST_AUTH_TOKEN

ROOT = Path(__file__).resolve().parent.parent
SH = ZoneInfo("Asia/Shanghai")
BAD = {"CALLING_WINDOW": "25:00-26:00", "PORT": "eighty", "CALLBACK_CPS": "0"}


def test_every_default_is_a_valid_value():
    for setting in SETTINGS:
        if setting.default is not None:
            value({}, setting.name)  # raises ValueError naming the setting


def test_every_number_like_setting_has_a_kind():
    # A new setting whose default is a number must say its range (KINDS in core/config.py).
    numeric = [s.name for s in SETTINGS if (s.default or "").replace(".", "", 1).isdigit()]
    assert [n for n in numeric if n not in KINDS] == []


def test_numbers_are_typed_and_windows_parsed_by_one_function():
    cfg = load_config({"PORT": "9000", "CALLBACK_CPS": "2.5", "LOG_LEVEL": "debug"})
    assert cfg["PORT"] == 9000 and cfg["CALLBACK_CPS"] == 2.5 and cfg["LOG_LEVEL"] == "DEBUG"
    assert value(cfg, "CALLING_WINDOW") == (time(9), time(20))
    assert value({}, "TICKET_DUE_DAYS")["complaint"] == 13


def test_all_day_window_is_accepted():
    cfg = load_config({"CALLING_WINDOW": "00:00-24:00", "CALLING_DAYS": "all"})
    policy = Policy.from_config(cfg)
    just_before_midnight = datetime(2026, 11, 26, 23, 59, 59, 900000, tzinfo=SH)
    assert policy.may_call_at(just_before_midnight)
    assert policy.may_call_at(datetime(2026, 11, 27, 0, 0, tzinfo=SH))
    assert policy.next_allowed(just_before_midnight) == just_before_midnight.astimezone(UTC)
    assert calendar.in_window(just_before_midnight, "08:00-24:00")
    assert not calendar.in_window(datetime(2026, 11, 26, 7, 59, tzinfo=SH), "08:00-24:00")


def test_every_bad_setting_is_one_line_naming_value_and_expectation():
    with pytest.raises(SettingsError) as caught:
        load_config({**BAD, "TRUSTED_PROXIES": "-1"})
    assert caught.value.exit_code == 2
    assert caught.value.problems == [
        "PORT='eighty': expected a whole number from 1 to 65535",
        "CALLING_WINDOW='25:00-26:00': expected HH:MM-HH:MM with the start before the end "
        "(24:00 for midnight), e.g. 09:00-20:00",
        "CALLBACK_CPS='0': expected a number above 0 and at most 100",
        "TRUSTED_PROXIES='-1': expected a whole number from 0 to 10",
    ]


def test_overrides_are_checked_too(make_app):
    with pytest.raises(SettingsError, match="CALLBACK_MAX_ATTEMPTS='many'"):
        make_app(CALLBACK_MAX_ATTEMPTS="many")
    assert make_app(CALLBACK_MAX_ATTEMPTS="5").config["CALLBACK_MAX_ATTEMPTS"] == 5


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"HOST": "0.0.0.0", "PORT": "8080"}, "http://127.0.0.1:8080"),
        ({"HOST": "10.1.2.3", "PORT": "80"}, "http://10.1.2.3:80"),
        ({"PORT": "9000", "PUBLIC_BASE_URL": "https://hotline.example.cn/"}, None),
    ],
)
def test_public_url_follows_host_and_port_unless_given(env, expected):
    cfg = load_config(env)
    assert cfg["PUBLIC_BASE_URL"] == (expected or "https://hotline.example.cn")
    if expected:  # simulator mode: recordings come from our own base
        assert cfg["TWILIO_API_BASE"] == f"{expected}/simulator/twilio"


def _env(tmp_path, **extra) -> dict:
    return {
        **os.environ,
        "FLASK_APP": "ivr",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'hotline.db'}",
        "SECRET_KEY": "test",
        "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
        "TELEPHONY": "simulator",
        "AUDIO_DIR": str(tmp_path / "audio"),
        **extra,
    }


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "flask", "callbacks", "run"],
        ["-m", "flask", "speech", "worker"],
        ["-m", "flask", "db", "upgrade"],  # scripts/run's first step: nothing else starts
        ["-m", "core.config"],
    ],
    ids=["scheduler", "speech-worker", "run-script", "check"],
)
def test_every_process_refuses_bad_settings_with_exit_2(tmp_path, command):
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=_env(tmp_path, **BAD),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line.strip() for line in result.stderr.splitlines() if "=" in line]
    assert [line.split("=")[0] for line in lines] == ["PORT", "CALLING_WINDOW", "CALLBACK_CPS"]


def test_the_web_server_refuses_bad_settings(tmp_path):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    result = subprocess.run(
        [str(gunicorn), "--workers", "1", "--bind", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT,
        env=_env(tmp_path, **BAD),
        capture_output=True,
        text=True,
        timeout=120,
    )
    # gunicorn.conf.py checks in the master: no worker is started and restarted in a loop.
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Booting worker" not in result.stderr
    assert "CALLING_WINDOW='25:00-26:00': expected HH:MM-HH:MM" in result.stderr


def test_scheduler_runs_with_an_all_day_window(tmp_path):
    env = _env(tmp_path, CALLING_WINDOW="00:00-24:00", CALLING_DAYS="all")
    subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, check=True)
    log_path = tmp_path / "scheduler.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "callbacks", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = clock.monotonic() + 60
            while "is active" not in log_path.read_text() and clock.monotonic() < deadline:
                assert proc.poll() is None, log_path.read_text()
                clock.sleep(0.2)
            assert "is active" in log_path.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert "Traceback" not in log_path.read_text()
