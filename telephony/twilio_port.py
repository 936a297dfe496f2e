"""Outgoing calls through Twilio's REST API with the official `twilio` library.

TWILIO_API_BASE points the library at api.twilio.com or at the local fake.
Machine detection is synchronous ("Enable"): Twilio fetches our TwiML only once
it knows whether a person or a machine answered, and sends AnsweredBy with it.
"""

from __future__ import annotations

from datetime import datetime

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from core.config import value
from telephony.base import STATUS_EVENTS, OutgoingCall, PlacedCall, TelephonyError, TelephonyPort

HTTP_TIMEOUT_SECONDS = 15
RECONCILE_LOOKBACK_CALLS = 20


class TwilioPort(TelephonyPort):
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        caller_id: str,
        api_base: str = "https://api.twilio.com",
    ):
        self.caller_id = caller_id
        self._http = TwilioHttpClient(timeout=HTTP_TIMEOUT_SECONDS)
        self.client = Client(account_sid, auth_token, http_client=self._http)
        self.client.api.base_url = api_base.rstrip("/")

    @classmethod
    def from_config(cls, config) -> TwilioPort:
        return cls(
            config["TWILIO_ACCOUNT_SID"],
            config["TWILIO_AUTH_TOKEN"],
            config["TWILIO_CALLER_ID"],
            value(config, "TWILIO_API_BASE"),
        )

    def place_call(self, call: OutgoingCall) -> PlacedCall:
        try:
            created = self.client.calls.create(
                to=call.to,
                from_=call.from_ or self.caller_id,
                url=call.url,
                method="POST",
                status_callback=call.status_callback,
                status_callback_method="POST",
                status_callback_event=list(STATUS_EVENTS),
                machine_detection="Enable" if call.machine_detection else None,
                timeout=call.timeout,
            )
        except TwilioRestException as exc:
            # 4xx other than 429 are permanent (bad number, not allowed); 5xx/429 may pass.
            transient = exc.status >= 500 or exc.status == 429
            raise TelephonyError(
                f"Twilio {exc.status} {exc.code}: {exc.msg}", transient=transient, status=exc.status
            ) from exc
        except (TwilioException, OSError) as exc:
            raise TelephonyError(f"Twilio unreachable: {exc}") from exc
        return PlacedCall(
            sid=created.sid, to=call.to, status=created.status or "queued", url=call.url
        )

    def calls_to(self, number: str, since: datetime) -> list[PlacedCall]:
        # Newest first; filtered here on DateCreated, as StartTime is empty until a call starts.
        try:
            found = self.client.calls.list(to=number, limit=RECONCILE_LOOKBACK_CALLS)
        except (TwilioException, OSError) as exc:
            raise TelephonyError(f"cannot list calls: {exc}") from exc
        return [
            PlacedCall(sid=c.sid, to=c.to, status=c.status, created_at=c.date_created)
            for c in found
            if c.date_created is None or c.date_created >= since
        ]

    def hang_up(self, sid: str, *, answered: bool = False) -> None:
        # Twilio: "canceled" ends a queued or ringing call, "completed" one in progress.
        try:
            self.client.calls(sid).update(status="completed" if answered else "canceled")
        except (TwilioException, OSError) as exc:
            raise TelephonyError(f"cannot hang up: {exc}") from exc

    def close(self) -> None:
        if self._http.session is not None:
            self._http.session.close()
