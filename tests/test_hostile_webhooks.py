"""Hostile input on every Twilio webhook: property-based fuzzing with valid signatures.

Whatever Twilio (or someone holding the auth token) posts — random or missing
fields, huge values, bytes that are not UTF-8, the same callback twice, callbacks
out of order — the answer is 200 with TwiML whose root is <Response>, or a
deliberate 4xx; never a 5xx, never Twilio's "application error". Forged and
replayed signatures are refused before anything is written.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.db import get_db
from ivr import models as ivr_models
from telephony.signature import sign
from tests.ivr_support import WORKDAY_MORNING, set_clock

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SIDS = ["CA" + c * 32 for c in "abc"]

# Field values: plausible ones, junk, huge, control and non-BMP characters.
junk_text = st.one_of(
    st.sampled_from(
        [
            "",
            "1",
            "0",
            "*",
            "#",
            "12",
            "99999999999999",
            "-1",
            "NaN",
            "1e309",
            "true",
            "completed",
            "in-progress",
            "busy",
            "no-answer",
            "failed",
            "canceled",
            "hangup",
            "bridged",
            "leave",
            "redirected",
            "queue-full",
            "machine_start",
            "human",
            "https://api.twilio.com/x",
            "../../etc/passwd",
            "<Response><Hangup/></Response>",
            "'; DROP TABLE calls; --",
        ]
    ),
    st.text(max_size=40),
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["9", "供", "\U0001f4de", "\x00", "%"]),
        st.sampled_from([1000, 20_000]),
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
FIELDS = [
    "CallSid",
    "From",
    "To",
    "Digits",
    "SpeechResult",
    "Confidence",
    "CallStatus",
    "RecordingUrl",
    "RecordingSid",
    "RecordingDuration",
    "QueueTime",
    "QueuePosition",
    "QueueResult",
    "DialCallStatus",
    "AnsweredBy",
    "Direction",
    "ErrorCode",
    "CallDuration",
    "SequenceNumber",
    "CurrentQueueSize",
]
forms = st.dictionaries(st.sampled_from(FIELDS), junk_text, max_size=10)
call_sids = st.one_of(st.sampled_from(SIDS), junk_text)
IVR_PATHS = ["/ivr/voice", "/ivr/step", "/ivr/queue/wait", "/ivr/status", "/ivr/fallback"]
CALLBACK_PATHS = [
    "/callbacks/voice/{id}",
    "/callbacks/voice/{id}/key",
    "/callbacks/voice/{id}/spoken",
    "/callbacks/voice/{id}/heard",
    "/callbacks/voice/{id}/silence",
    "/callbacks/voice/{id}/comment",
    "/callbacks/status/{id}",
]
queries = st.one_of(
    st.just(""),
    st.builds(lambda n: f"s={n}", st.integers(-3, 12)),
    st.builds(lambda n: f"s={n}&timeout=1", st.integers(0, 6)),
    st.builds(lambda n: f"s={n}&poll=1", st.integers(0, 6)),
    st.text(alphabet="s=&%0123456789abcxyz;", max_size=20),
)


@pytest.fixture
def fuzz_app(make_app):
    app = make_app()
    set_clock(app, WORKDAY_MORNING)
    return app


def post_signed(client, app, path: str, form: dict, query: str = ""):
    """POST a form signed with the auth token, as Twilio would."""
    url = app.config["PUBLIC_BASE_URL"] + path + (f"?{query}" if query else "")
    signature = sign(url, form, app.config["TWILIO_AUTH_TOKEN"])
    return client.post(
        path, query_string=query or None, data=form, headers={"X-Twilio-Signature": signature}
    )


def post_raw_signed(client, app, path: str, body: bytes):
    """POST a raw urlencoded body (any bytes); sign what the server will decode from it."""
    decoded = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    url = app.config["PUBLIC_BASE_URL"] + path
    signature = sign(url, decoded, app.config["TWILIO_AUTH_TOKEN"])
    return client.post(
        path,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )


def assert_twiml_or_4xx(resp) -> None:
    """200 with a <Response> document, or a deliberate 4xx; never a 5xx."""
    body = resp.get_data(as_text=True)
    assert resp.status_code < 500, (resp.status_code, body[:300])
    if resp.status_code == 204:  # a status callback needs no TwiML
        assert body == ""
    elif resp.status_code == 200:
        root = ET.fromstring(body)
        assert root.tag == "Response", body[:300]
        assert "application error" not in body.lower()
    else:
        assert 400 <= resp.status_code < 500, resp.status_code


def start_call(client, app, sid: str):
    resp = post_signed(
        client,
        app,
        "/ivr/voice",
        {
            "CallSid": sid,
            "From": "+8613812345678",
            "To": "+8605460012345",
            "Direction": "inbound",
            "CallStatus": "ringing",
        },
    )
    assert resp.status_code == 200
    return resp


@given(path=st.sampled_from(IVR_PATHS), sid=call_sids, form=forms, query=queries)
@FUZZ
def test_ivr_webhooks_survive_random_fields(fuzz_app, path, sid, form, query):
    client = fuzz_app.test_client()
    resp = post_signed(client, fuzz_app, path, {**form, "CallSid": sid}, query)
    assert_twiml_or_4xx(resp)


@given(
    steps=st.lists(st.tuples(st.sampled_from(IVR_PATHS), forms, queries), min_size=1, max_size=8)
)
@FUZZ
def test_repeated_and_out_of_order_callbacks_on_a_live_call(fuzz_app, steps):
    """A real call is started; then any webhook, in any order, any number of times."""
    client = fuzz_app.test_client()
    sid = SIDS[0]
    with fuzz_app.app_context(), get_db(fuzz_app).session() as s:
        known = s.get(ivr_models.CallSession, sid) is not None
    if not known:
        start_call(client, fuzz_app, sid)
    for path, form, query in steps:
        assert_twiml_or_4xx(post_signed(client, fuzz_app, path, {**form, "CallSid": sid}, query))
    with fuzz_app.app_context(), get_db(fuzz_app).session() as s:
        calls = s.scalar(
            select(func.count()).select_from(ivr_models.Call).where(ivr_models.Call.call_sid == sid)
        )
    assert calls == 1  # one call record, however often Twilio repeats itself


@given(
    path=st.sampled_from(CALLBACK_PATHS),
    attempt=st.integers(-5, 2**40),
    form=forms,
    query=st.one_of(st.just(""), st.text(alphabet="a=&n0123456789", max_size=12)),
)
@FUZZ
def test_callback_webhooks_survive_random_fields(fuzz_app, path, attempt, form, query):
    client = fuzz_app.test_client()
    target = path.format(id=attempt)
    resp = post_signed(client, fuzz_app, target, {"CallSid": SIDS[1], **form}, query)
    if attempt < 0:
        assert resp.status_code == 404  # <int:...> does not match a negative id
    else:
        assert_twiml_or_4xx(resp)


@given(
    path=st.sampled_from(IVR_PATHS + ["/callbacks/status/1", "/callbacks/voice/1/key"]),
    body=st.binary(max_size=300),
)
@FUZZ
def test_bodies_that_are_not_utf8(fuzz_app, path, body):
    client = fuzz_app.test_client()
    assert_twiml_or_4xx(post_raw_signed(client, fuzz_app, path, b"CallSid=CA%FF%FE&" + body))


def test_latin1_and_gbk_encoded_fields_on_a_live_call(fuzz_app):
    client = fuzz_app.test_client()
    start_call(client, fuzz_app, SIDS[2])
    for raw in ("供暖".encode("gbk"), "Müller".encode("latin-1"), b"\xed\xa0\x80"):
        body = (
            urlencode({"CallSid": SIDS[2], "Digits": "1"}).encode()
            + b"&SpeechResult="
            + b"".join(b"%%%02X" % b for b in raw)
        )
        assert_twiml_or_4xx(post_raw_signed(client, fuzz_app, "/ivr/step?s=1", body))


def test_forged_signature_is_refused_and_writes_nothing(fuzz_app):
    client = fuzz_app.test_client()
    form = {"CallSid": SIDS[0], "From": "+8613812345678", "To": "+8605460012345"}
    url = fuzz_app.config["PUBLIC_BASE_URL"] + "/ivr/voice"
    forged = [
        "",  # no signature
        sign(url, form, "not-the-auth-token"),  # another account's token
        sign(url, {**form, "From": "+8613900000000"}, fuzz_app.config["TWILIO_AUTH_TOKEN"]),
        sign("http://evil.example/ivr/voice", form, fuzz_app.config["TWILIO_AUTH_TOKEN"]),
        "A" * 10_000,
    ]
    for path in IVR_PATHS + ["/callbacks/voice/1", "/callbacks/status/1"]:
        for signature in forged:
            resp = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
            assert resp.status_code == 403, (path, signature[:20])
    with fuzz_app.app_context(), get_db(fuzz_app).session() as s:
        assert s.scalar(select(func.count()).select_from(ivr_models.Call)) == 0
        assert s.scalar(select(func.count()).select_from(ivr_models.CallSession)) == 0


def test_signature_replayed_on_another_url_or_form_is_refused(fuzz_app):
    """A captured (URL, form, signature) triple only ever authorises that exact request."""
    client = fuzz_app.test_client()
    start_call(client, fuzz_app, SIDS[0])
    base = fuzz_app.config["PUBLIC_BASE_URL"]
    form = {"CallSid": SIDS[0], "Digits": "1"}
    captured = sign(base + "/ivr/step?s=1", form, fuzz_app.config["TWILIO_AUTH_TOKEN"])
    replays = [
        ("/ivr/step?s=2", form),
        ("/ivr/status", form),
        ("/ivr/step?s=1", {**form, "Digits": "9"}),
        ("/ivr/step?s=1", {**form, "CallSid": SIDS[1]}),
    ]
    for target, data in replays:
        resp = client.post(target, data=data, headers={"X-Twilio-Signature": captured})
        assert resp.status_code == 403, target


def test_replaying_the_same_signed_request_changes_nothing(fuzz_app):
    """A genuine request replayed (Twilio retry or attacker) answers the stored TwiML."""
    client = fuzz_app.test_client()
    start_call(client, fuzz_app, SIDS[0])
    first = post_signed(client, fuzz_app, "/ivr/step", {"CallSid": SIDS[0], "Digits": "1"}, "s=1")
    with fuzz_app.app_context(), get_db(fuzz_app).session() as s:
        step = s.get(ivr_models.CallSession, SIDS[0]).step
    for _ in range(5):
        again = post_signed(
            client, fuzz_app, "/ivr/step", {"CallSid": SIDS[0], "Digits": "1"}, "s=1"
        )
        assert again.get_data() == first.get_data()
    with fuzz_app.app_context(), get_db(fuzz_app).session() as s:
        assert s.get(ivr_models.CallSession, SIDS[0]).step == step


def test_oversized_webhook_body_is_413_not_5xx(fuzz_app):
    client = fuzz_app.test_client()
    huge = "x" * (fuzz_app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = post_signed(client, fuzz_app, "/ivr/voice", {"CallSid": SIDS[0], "SpeechResult": huge})
    assert resp.status_code == 413
    with fuzz_app.app_context(), get_db(fuzz_app).session() as s:
        assert s.scalar(select(func.count()).select_from(ivr_models.Call)) == 0


def many_keys(count: int) -> bytes:
    """`0&1&2&…`: the cheapest body for the most form fields."""
    return b"&".join(str(i).encode() for i in range(count))


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/step?s=1", "/callbacks/status/1"])
def test_webhook_over_64k_is_refused_before_the_form_is_parsed(fuzz_app, path):
    """Any X-Twilio-Signature used to make the app parse and sign the whole form (a 32 MB
    body of 4M keys: a minute of CPU); now the length alone decides: 413, connection closed."""
    client = fuzz_app.test_client()
    for body in (many_keys(12_000), b"SpeechResult=" + b"x" * 70_000):
        resp = client.post(
            path,
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": "anything"},
        )
        assert resp.status_code == 413, path
        assert resp.headers["Connection"] == "close"


def test_webhook_with_too_many_fields_is_refused_even_when_small(fuzz_app):
    client = fuzz_app.test_client()
    body = many_keys(5_000)
    assert len(body) < 64 * 1024
    resp = client.post(
        "/ivr/voice",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "anything"},
    )
    assert resp.status_code == 413


def test_chunked_webhook_body_without_length_is_cut_off(fuzz_app):
    """A chunked body has no Content-Length: it is cut off once it passes the limit."""
    client = fuzz_app.test_client()
    resp = client.post(
        "/ivr/voice",
        input_stream=io.BytesIO(b"SpeechResult=" + b"x" * 70_000),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "anything", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert resp.status_code == 413


def test_a_real_twilio_webhook_still_passes_the_limits(fuzz_app):
    client = fuzz_app.test_client()
    form = {name: "x" * 100 for name in FIELDS} | {"CallSid": SIDS[0], "From": "+8613812345678"}
    assert post_signed(client, fuzz_app, "/ivr/voice", form).status_code == 200


@pytest.mark.parametrize(
    "field", [{"CallDuration": "²"}, {"Duration": "١٢"}, {"SequenceNumber": "9" * 5000}]
)
def test_status_callback_with_odd_numbers_is_not_a_500(fuzz_app, field):
    """'²' passes str.isdigit but not int(); 5,000 digits pass neither int() nor a column."""
    client = fuzz_app.test_client()
    form = {"CallSid": SIDS[1], "CallStatus": "completed", **field}
    for path in ("/callbacks/status/1", "/ivr/status"):
        assert_twiml_or_4xx(post_signed(client, fuzz_app, path, form))


DIAL_FLOW = """flow:
  name: transfer
  start: hello
  operator: out
nodes:
  hello:
    kind: prompt
    say: 请稍候
    next: out
  out:
    kind: transfer
    dial: "{target}"
"""


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ("+19005550100", False),
        ("sip:anyone@elsewhere.example", False),
        ("0019005550100", False),
        ("+8605467654321", True),
        ("05467654321", True),
        ("sip:desk@pbx.hotline.example", True),
    ],
)
def test_dial_targets_outside_the_allow_list_are_never_dialled(make_app, tmp_path, target, allowed):
    """flows.yaml edited on disk after the setting changed: the render-time check holds."""
    path = tmp_path / "flows.yaml"
    path.write_text(DIAL_FLOW.format(target=target), encoding="utf-8")
    app = make_app(FLOWS_PATH=str(path), DIAL_ALLOWED="+86,sip:pbx.hotline.example")
    set_clock(app, WORKDAY_MORNING)
    body = start_call(app.test_client(), app, SIDS[0]).get_data(as_text=True)
    dialled = [el.text for el in ET.fromstring(body).iter() if el.tag in ("Number", "Sip")]
    dialled += [el.text.strip() for el in ET.fromstring(body).iter("Dial") if el.text]
    if allowed:
        assert target in dialled, body
    else:
        assert target not in body
        assert dialled == [app.config["OPERATOR_NUMBER"]], body
