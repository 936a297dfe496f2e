"""The local fake of Twilio's REST API, driven through the real twilio library."""

from __future__ import annotations

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from telephony.fake_twilio import FakeTwilio

SID, TOKEN = "AC" + "1" * 32, "secret-token"


@pytest.fixture
def fake():
    with FakeTwilio(SID, TOKEN) as f:
        yield f


def _client(fake) -> Client:
    client = Client(SID, TOKEN)
    client.api.base_url = fake.base_url
    return client


def test_create_call_through_twilio_library(fake):
    call = _client(fake).calls.create(
        to="+8613812345678",
        from_="+8605460000000",
        url="http://hotline.test/cb/1",
        status_callback="http://hotline.test/cb/status",
        status_callback_event=["initiated", "answered", "completed"],
        machine_detection="Enable",
        timeout=25,
    )
    assert call.sid.startswith("CA") and call.status == "queued"
    (recorded,) = fake.calls
    assert recorded.sid == call.sid and recorded.to == "+8613812345678"
    assert recorded.status_callback_events == ["initiated", "answered", "completed"]
    assert recorded.machine_detection == "Enable" and recorded.timeout == 25


def test_failures_surface_as_twilio_errors(fake):
    fake.fail_next(1, status=503)
    with pytest.raises(TwilioRestException) as err:
        _client(fake).calls.create(
            to="+8613812345678", from_="+8605460000000", url="http://hotline.test/cb/1"
        )
    assert err.value.status == 503
    assert fake.calls == []
    _client(fake).calls.create(
        to="+8613812345678", from_="+8605460000000", url="http://hotline.test/cb/1"
    )
    assert len(fake.calls) == 1


def test_wrong_credentials_are_refused(fake):
    client = Client(SID, "wrong")
    client.api.base_url = fake.base_url
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to="+8613812345678", from_="+8605460000000", url="http://x/")
    assert err.value.status == 401


def test_recording_is_404_until_stored(fake):
    url = fake.add_recording("RE" + "a" * 32, b"RIFFdata", ready_after=2)
    auth = (SID, TOKEN)
    assert requests.get(url + ".wav", auth=auth, timeout=5).status_code == 404
    assert requests.get(url, auth=auth, timeout=5).status_code == 404
    ok = requests.get(url + ".wav", auth=auth, timeout=5)
    assert ok.status_code == 200 and ok.content == b"RIFFdata"
    assert requests.get(url, auth=("x", "y"), timeout=5).status_code == 401
