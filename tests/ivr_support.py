"""A scripted caller for the IVR webhooks: signs each request like Twilio and follows the TwiML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import urlsplit

from telephony.signature import sign

# Thursday 26 November 2026, 10:00 in Shanghai: a working day, inside opening hours.
WORKDAY_MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
# Thursday 1 October 2026, 10:00 in Shanghai: National Day holiday.
NATIONAL_DAY = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
# Thursday 26 November 2026, 22:00 in Shanghai: after hours.
WORKDAY_NIGHT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
CALLER = "+8613812345678"


def set_clock(app, moment: datetime) -> None:
    """Fix the hotline's clock, and speak prompts with <Say> so transcripts show the text
    (the speech package's synthesized <Play> audio is tested on its own)."""
    app.extensions["ivr.clock"] = lambda: moment
    app.extensions["prompt_audio"] = None


class Phone:
    """One call. Each method posts what Twilio would post and returns the parsed TwiML."""

    def __init__(self, client, app, *, call_sid="CA" + "1" * 32, caller=CALLER):
        self.client, self.app = client, app
        self.call_sid, self.caller = call_sid, caller
        self.twiml: ET.Element | None = None
        self.raw = ""

    def post(self, url: str, **form):
        form = {
            "CallSid": self.call_sid,
            "AccountSid": self.app.config["TWILIO_ACCOUNT_SID"],
            "From": self.caller,
            "To": "+8605460012345",
            **form,
        }
        base = self.app.config["PUBLIC_BASE_URL"]
        full = url if url.startswith("http") else base + url
        signature = sign(full, form, self.app.config["TWILIO_AUTH_TOKEN"])
        # Behind a proxy Flask sees only what follows PUBLIC_BASE_URL (which may carry a prefix).
        if full.startswith(base):
            path = full[len(base) :]
        else:
            parts = urlsplit(full)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
        return self.client.post(path, data=form, headers={"X-Twilio-Signature": signature})

    def _follow(self, url: str, **form) -> ET.Element:
        resp = self.post(url, **form)
        assert resp.status_code == 200, resp.data
        assert resp.mimetype == "text/xml"
        self.raw = resp.get_data(as_text=True)
        self.twiml = ET.fromstring(self.raw)
        return self.twiml

    # -- what the caller does --
    def dial(self) -> ET.Element:
        return self._follow("/ivr/voice", Direction="inbound", CallStatus="ringing")

    def press(self, digits: str) -> ET.Element:
        return self._follow(self.action("Gather"), Digits=digits)

    def silence(self) -> ET.Element:
        """Say nothing: Twilio falls through <Gather>/<Record> to the <Redirect>."""
        return self._follow(self.redirect())

    def leave_recording(
        self,
        url="https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
        sid="RE" + "1" * 32,
        duration=12,
    ) -> ET.Element:
        return self._follow(
            self.action("Record"),
            RecordingUrl=url,
            RecordingSid=sid,
            RecordingDuration=str(duration),
        )

    def poll(self) -> ET.Element:
        return self._follow(self.redirect())

    def hold(self, queue_time: int, position: int = 1) -> ET.Element:
        enqueue = self.find("Enqueue")
        resp = self.post(
            enqueue.get("waitUrl"),
            QueueTime=str(queue_time),
            QueuePosition=str(position),
            CurrentQueueSize=str(position),
        )
        assert resp.status_code == 200
        return ET.fromstring(resp.get_data(as_text=True))

    def queue_result(self, result: str, queue_time: int = 20) -> ET.Element:
        return self._follow(self.action("Enqueue"), QueueResult=result, QueueTime=str(queue_time))

    def hang_up(self, status: str = "completed"):
        return self.post("/ivr/status", CallStatus=status, CallDuration="42")

    # -- reading the TwiML --
    def find(self, tag: str) -> ET.Element:
        node = self.twiml.find(tag)
        assert node is not None, f"no <{tag}> in {self.raw}"
        return node

    def action(self, tag: str) -> str:
        return self.find(tag).get("action")

    def redirect(self) -> str:
        return self.find("Redirect").text

    def verbs(self) -> list[str]:
        return [child.tag for child in self.twiml]

    def said(self) -> list[str]:
        return [e.text for e in self.twiml.iter("Say")]
