"""Recording downloads over real HTTP from the local fake of Twilio's REST API."""

from __future__ import annotations

import pytest
from speech_support import espeak_wav

from speech.audio import MAX_AUDIO_BYTES
from telephony import recordings
from telephony.fake_twilio import FakeTwilio
from telephony.recordings import (
    RecordingError,
    RecordingNotReadyError,
    RecordingRefusedError,
    RecordingTooLargeError,
)

SID = "AC" + "1" * 32
TOKEN = "secret-token"
BASE = "https://api.twilio.com"


@pytest.mark.parametrize(
    "url, ok",
    [
        (f"{BASE}/2010-04-01/Accounts/{SID}/Recordings/RE1", True),
        (f"https://API.twilio.com:443/2010-04-01/Accounts/{SID}/Recordings/RE1", True),
        (f"http://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/RE1", False),
        ("https://api.twilio.com.evil.example/2010-04-01/Recordings/RE1", False),
        (f"https://evil.example/2010-04-01/Accounts/{SID}/Recordings/RE1", False),
        ("https://api.twilio.com@evil.example/2010-04-01/Recordings/RE1", False),
        ("https://user:pw@api.twilio.com/2010-04-01/Recordings/RE1", False),
        ("https://api.twilio.com:8443/2010-04-01/Recordings/RE1", False),
        ("https://api.twilio.com", False),
        ("file:///etc/passwd", False),
        ("gopher://api.twilio.com/x", False),
        ("https://api.twilio.com:bad/x", False),
        ("https://api.twilio.com\\@evil.example/x", False),
    ],
)
def test_is_under(url, ok):
    assert recordings.is_under(url, BASE) is ok


def test_path_prefix_and_dot_segments():
    base = "http://127.0.0.1:9000/twilio"
    assert recordings.is_under("http://127.0.0.1:9000/twilio/2010-04-01/R/RE1", base)
    assert not recordings.is_under("http://127.0.0.1:9000/twilio-evil/R/RE1", base)
    assert not recordings.is_under("http://127.0.0.1:9000/twilio/../admin", base)
    assert not recordings.is_under("http://127.0.0.1:9000/twilio/%2e%2e/admin", base)
    assert not recordings.is_under("http://127.0.0.1:9000/twilio/a%2Fb", base)


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as server:
        yield server


def _fetch(fake, url, max_bytes=MAX_AUDIO_BYTES, **kw):
    return recordings.fetch(
        url,
        base=fake.base_url,
        account_sid=SID,
        auth_token=TOKEN,
        max_bytes=max_bytes,
        sleep=lambda _s: None,
        **kw,
    )


def test_downloads_with_basic_auth_after_404s(fake):
    wav = espeak_wav("안녕하세요")
    url = fake.add_recording("RE1", wav, ready_after=3)
    assert _fetch(fake, url) == wav
    assert fake.requests == [("GET", f"/2010-04-01/Accounts/{SID}/Recordings/RE1.wav")] * 4


def test_gives_up_when_never_stored(fake):
    url = fake.add_recording("RE2", b"RIFF", ready_after=100)
    with pytest.raises(RecordingNotReadyError, match="still 404"):
        _fetch(fake, url)
    assert len(fake.requests) == recordings.NOT_READY_RETRIES + 1


def test_wrong_token_is_an_error_not_a_retry(fake):
    url = fake.add_recording("RE3", b"RIFF")
    with pytest.raises(RecordingError, match="HTTP 401"):
        recordings.fetch(
            url,
            base=fake.base_url,
            account_sid=SID,
            auth_token="wrong",
            max_bytes=MAX_AUDIO_BYTES,
            sleep=lambda _s: None,
        )
    assert len(fake.requests) == 1


def test_size_cap(fake):
    url = fake.add_recording("RE4", b"x" * 5000)
    with pytest.raises(RecordingTooLargeError) as refused:
        _fetch(fake, url, max_bytes=4096)
    assert not refused.value.transient  # never worth another try


def test_forged_url_on_another_host_is_never_requested(fake):
    with FakeTwilio(SID, TOKEN) as elsewhere:
        forged = elsewhere.add_recording("RE5", b"RIFF")
        with pytest.raises(RecordingRefusedError, match="not under TWILIO_API_BASE"):
            _fetch(fake, forged)
        config = {
            "TWILIO_API_BASE": fake.base_url,
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "RECORDINGS_DIR": "/nonexistent",
        }
        with pytest.raises(RecordingRefusedError):
            recordings.fetch_for_app(config, forged, "RE5", max_bytes=MAX_AUDIO_BYTES)
        assert elsewhere.requests == [] and fake.requests == []


def test_fetch_for_app_keeps_a_local_copy(fake, tmp_path):
    wav = espeak_wav("감사합니다")
    url = fake.add_recording("RE6", wav)
    config = {
        "TWILIO_API_BASE": fake.base_url,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "RECORDINGS_DIR": str(tmp_path),
    }
    assert recordings.fetch_for_app(config, url, "RE6", max_bytes=MAX_AUDIO_BYTES) == wav
    assert recordings.fetch_for_app(config, url, "RE6", max_bytes=MAX_AUDIO_BYTES) == wav
    assert (tmp_path / "RE6.wav").read_bytes() == wav and len(fake.requests) == 1
    assert recordings.local_path(tmp_path, url, "../../etc/x").parent == tmp_path
