"""A local fake of the parts of Twilio's REST API this project uses, over real HTTP.

Twilio's cloud cannot be reached from tests or benchmarks, so they point
TWILIO_API_BASE at this server and talk to it through the real `twilio`
library and real HTTP. It checks basic auth like Twilio, creates calls,
serves recordings (404 until "stored", as Twilio does right after a call),
and can be told to fail, stall or hold requests until released, to test retries and timeouts.

    with FakeTwilio(account_sid, auth_token) as fake:
        client = twilio.rest.Client(account_sid, auth_token)
        client.api.base_url = fake.base_url
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

API_VERSION = "2010-04-01"


@dataclass
class FakeCall:
    sid: str
    to: str
    from_: str
    url: str | None
    status_callback: str | None
    status_callback_events: list[str]
    machine_detection: str | None
    timeout: int | None
    created_at: float
    status: str = "queued"
    params: dict = field(default_factory=dict)


@dataclass
class _Recording:
    body: bytes
    not_ready_left: int
    content_type: str


class FakeTwilio:
    """Threaded HTTP server on 127.0.0.1 imitating api.twilio.com."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "fake-token",
        on_call: Callable[[FakeCall], None] | None = None,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.on_call = on_call
        self.calls: list[FakeCall] = []
        self.requests: list[tuple[str, str]] = []
        self._recordings: dict[str, _Recording] = {}
        self._failures: list[int] = []
        self._stalls: list[float] = []
        self._holds: list[threading.Event] = []
        self._gates: list[threading.Event] = []  # every hold given out, released on exit
        self._lock = threading.Lock()
        self._answering = 0  # call-creation requests being answered
        self._answered = threading.Condition(self._lock)
        self._ids = itertools.count(1)
        self._server = make_server("127.0.0.1", 0, self._build_app(), threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------
    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            for gate in self._gates:
                gate.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- controls used by tests --------------------------------------------------
    def add_recording(
        self, sid: str, body: bytes, ready_after: int = 0, content_type: str = "audio/x-wav"
    ) -> str:
        """Serve `body` as recording `sid` after `ready_after` 404s; return its RecordingUrl."""
        with self._lock:
            self._recordings[sid] = _Recording(body, ready_after, content_type)
        return self.recording_url(sid)

    def recording_url(self, sid: str) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next n call-creation requests answer with this HTTP status."""
        with self._lock:
            self._failures.extend([status] * n)

    def stall_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """The next n call-creation requests wait this long before answering (timeouts)."""
        with self._lock:
            self._stalls.extend([seconds] * n)

    def hold_next(self, n: int = 1) -> threading.Event:
        """The next n call-creation requests are answered only once the returned event is set:
        a timeout on the caller's side that no clock decides."""
        gate = threading.Event()
        with self._lock:
            self._holds.extend([gate] * n)
            self._gates.append(gate)
        return gate

    def idle(self, timeout: float = 30.0) -> bool:
        """Wait until no call-creation request is being answered (False after `timeout`)."""
        with self._answered:
            return self._answered.wait_for(lambda: self._answering == 0, timeout)

    def set_status(self, call_sid: str, status: str) -> None:
        with self._lock:
            for call in self.calls:
                if call.sid == call_sid:
                    call.status = status

    # -- the HTTP side -------------------------------------------------------------
    def _authorised(self) -> bool:
        auth = request.authorization
        return bool(auth and auth.username == self.account_sid and auth.password == self.auth_token)

    def _error(self, status: int, code: int, message: str) -> tuple[Response, int]:
        return jsonify(code=code, message=message, more_info="", status=status), status

    def _call_json(self, call: FakeCall) -> dict:
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call.sid}"
        return {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "to": call.to,
            "from": call.from_,
            "status": call.status,
            "direction": "outbound-api",
            "api_version": API_VERSION,
            "uri": base + ".json",
            "date_created": time.strftime(
                "%a, %d %b %Y %H:%M:%S +0000", time.gmtime(call.created_at)
            ),
        }

    def _build_app(self) -> Flask:
        app = Flask("fake_twilio")
        prefix = f"/{API_VERSION}/Accounts/<account>"

        @app.before_request
        def _log_and_auth():
            with self._lock:
                self.requests.append((request.method, request.path))
            if not self._authorised():
                return self._error(401, 20003, "Authenticate")
            if request.view_args and request.view_args.get("account") != self.account_sid:
                return self._error(404, 20404, "The requested resource was not found")
            return None

        @app.post(prefix + "/Calls.json")
        def create_call(account):
            with self._lock:
                failure = self._failures.pop(0) if self._failures else None
                stall = self._stalls.pop(0) if self._stalls else 0.0
                hold = self._holds.pop(0) if self._holds else None
                self._answering += 1
            try:
                return answer_create_call(failure, stall, hold)
            finally:
                with self._answered:
                    self._answering -= 1
                    self._answered.notify_all()

        def answer_create_call(failure, stall, hold):
            if hold is not None:
                hold.wait()
            if stall:
                time.sleep(stall)
            if failure:
                return self._error(failure, 20500, "Internal Server Error")
            form = request.form
            if not form.get("To") or not form.get("From"):
                return self._error(400, 21201, "No 'To' or 'From' number is specified")
            if not form.get("Url") and not form.get("Twiml"):
                return self._error(400, 21205, "Url parameter is required")
            call = FakeCall(
                sid=f"CA{next(self._ids):032x}",
                to=form["To"],
                from_=form["From"],
                url=form.get("Url"),
                status_callback=form.get("StatusCallback"),
                status_callback_events=form.getlist("StatusCallbackEvent"),
                machine_detection=form.get("MachineDetection"),
                timeout=int(form["Timeout"]) if form.get("Timeout") else None,
                created_at=time.time(),
                params=form.to_dict(flat=False),
            )
            with self._lock:
                self.calls.append(call)
            if self.on_call:
                threading.Thread(target=self.on_call, args=(call,), daemon=True).start()
            return jsonify(self._call_json(call)), 201

        @app.get(prefix + "/Calls.json")
        def list_calls(account):
            # Newest first, like Twilio; only the To filter is supported.
            with self._lock:
                found = [
                    c
                    for c in reversed(self.calls)
                    if not request.args.get("To") or c.to == request.args["To"]
                ]
            size = int(request.args.get("PageSize", 50))
            return jsonify(
                calls=[self._call_json(c) for c in found[:size]],
                page=0,
                page_size=size,
                next_page_uri=None,
                previous_page_uri=None,
            )

        @app.route(prefix + "/Calls/<call_sid>.json", methods=["GET", "POST"])
        def call_instance(account, call_sid):
            with self._lock:
                call = next((c for c in self.calls if c.sid == call_sid), None)
            if call is None:
                return self._error(404, 20404, "The requested resource was not found")
            if request.method == "POST" and request.form.get("Status") in ("completed", "canceled"):
                call.status = request.form["Status"]
            return jsonify(self._call_json(call))

        @app.get(prefix + "/Recordings/<name>")
        def recording(account, name):
            sid = name.rsplit(".", 1)[0] if name.endswith((".wav", ".mp3")) else name
            with self._lock:
                rec = self._recordings.get(sid)
                stored = rec is not None and rec.not_ready_left <= 0
                if rec is not None and not stored:
                    rec.not_ready_left -= 1
            if not stored:
                return self._error(404, 20404, "The requested resource was not found")
            return Response(rec.body, content_type=rec.content_type)

        return app
