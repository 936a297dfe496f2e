"""Twilio's webhook forms -> typed engine inputs: status words become enums, bad fields neutral."""

from __future__ import annotations

import pytest
from flask import Flask, request

from ivr.flows import events as ev
from telephony import inputs

app = Flask(__name__)


def _post(path: str = "/ivr/step", **form):
    """The typed turn Twilio's POST of `form` to `path` means."""
    with app.test_request_context(path, method="POST", data={"CallSid": "CA1", **form}):
        return inputs.TurnPost.from_request(request)


@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        ("bridged", ev.QueueOutcome.ANSWERED),
        ("hangup", ev.QueueOutcome.HUNG_UP),
        ("leave", ev.QueueOutcome.LEFT),
        ("queue-full", ev.QueueOutcome.FULL),
        ("system-error", ev.QueueOutcome.FAILED),
        ("something-new", ev.QueueOutcome.FAILED),
    ],
)
def test_queue_results_become_outcomes(word, outcome):
    post = _post("/ivr/step?s=3", QueueResult=word, QueueTime="42")
    assert post.step == 3
    assert post.input_for(ev.WaitKind.QUEUE) == ev.QueueResult(outcome, 42)


@pytest.mark.parametrize(
    ("word", "outcome"),
    [
        ("completed", ev.DialOutcome.ANSWERED),
        ("answered", ev.DialOutcome.ANSWERED),
        ("busy", ev.DialOutcome.BUSY),
        ("no-answer", ev.DialOutcome.NO_ANSWER),
        ("canceled", ev.DialOutcome.CANCELED),
        ("", ev.DialOutcome.FAILED),
    ],
)
def test_dial_statuses_become_outcomes(word, outcome):
    post = _post(DialCallStatus=word, DialCallDuration="not a number")
    assert post.input_for(ev.WaitKind.DIAL) == ev.DialResult(outcome, 0)


def test_digits_recording_and_timeout():
    assert _post(Digits="12#").input_for(ev.WaitKind.DIGITS) == ev.Digits("12#")
    assert _post().input_for(ev.WaitKind.DIGITS) == ev.Timeout()  # Gather with nothing keyed
    assert _post("/ivr/step?s=1&timeout=1").input_for(ev.WaitKind.DIGITS) == ev.Timeout()
    done = _post(
        RecordingUrl="https://api.twilio.com/R1", RecordingSid="RE1", RecordingDuration="7"
    )
    assert done.input_for(ev.WaitKind.RECORDING) == ev.RecordingDone(
        "https://api.twilio.com/R1", "RE1", 7
    )
    # A record action without a recording: an empty one, which the engine counts as no message.
    assert _post().input_for(ev.WaitKind.RECORDING) == ev.RecordingDone(url="")


def test_a_post_that_does_not_fit_the_wait_is_none():
    assert _post(Digits="1").input_for(ev.WaitKind.QUEUE) is None
    assert _post(QueueResult="bridged").input_for(ev.WaitKind.DIAL) is None
    assert _post(Digits="1").input_for(None) is None


def test_call_start_status_and_hold():
    form = {"CallSid": "CA9", "From": "", "To": "+8605460012345", "CallStatus": "no-answer"}
    with app.test_request_context("/", method="POST", data={**form, "QueueTime": "x"}):
        start = inputs.CallStart.from_request(request)
        report = inputs.StatusReport.from_request(request)
        held = inputs.HoldPost.from_request(request)
    assert start == inputs.CallStart("CA9", None, "+8605460012345", "inbound")
    assert report == inputs.StatusReport("CA9", "no-answer", ended=True)
    assert held == inputs.HoldPost("CA9", queue_time=0, position=0)
    with app.test_request_context(
        "/", method="POST", data={"CallSid": "CA9", "CallStatus": "ringing"}
    ):
        assert not inputs.StatusReport.from_request(request).ended


@pytest.mark.parametrize(
    ("status", "ended", "unanswered"),
    [("ringing", False, False), ("completed", True, False), ("busy", True, True)],
)
def test_status_report_says_ended_and_unanswered(status, ended, unanswered):
    with app.test_request_context(
        "/", method="POST", data={"CallSid": "CA1", "CallStatus": status}
    ):
        report = inputs.StatusReport.from_request(request)
    assert (report.ended, report.unanswered) == (ended, unanswered)


def test_queue_bridge_names_both_calls():
    form = {"CallSid": "CAcaller", "DequeingCallSid": "CAagent", "QueueSid": "QU1"}
    with app.test_request_context("/", method="POST", data=form):
        assert inputs.QueueBridge.from_request(request) == inputs.QueueBridge("CAcaller", "CAagent")
