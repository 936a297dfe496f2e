"""Where the simulated phone leaves <Record>ed audio: a Twilio-shaped recordings endpoint.

Under Twilio, a recording lives at `{api}/2010-04-01/Accounts/{AC}/Recordings/{RE}`
and is fetched with `.wav` appended, with HTTP basic auth (account SID, auth
token). In the simulator telephony mode the app serves the same path under
`/simulator/twilio`, so a recording the terminal or web phone made can be
downloaded by the speech worker later, from any process. Registered only when
TELEPHONY is 'simulator': a Twilio deployment exposes nothing of this.
"""

from __future__ import annotations

import hmac
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_file

from core.limits import BodyLimit, body_limit
from simulator.phone import API_VERSION
from simulator.transport import Transport

PREFIX = "/simulator/twilio"
MAX_RECORDING_BYTES = 16 * 1024 * 1024
# Refused with 413 from Content-Length, before a byte of an oversized recording is read.
RECORDING_LIMIT = BodyLimit(max_bytes=MAX_RECORDING_BYTES, max_fields=1)
SID_RE = re.compile(r"^RE[0-9a-f]{32}$")

bp = Blueprint("simulator_recordings", __name__, url_prefix=PREFIX)


def _store() -> Path:
    return Path(current_app.config["RECORDINGS_DIR"]) / "simulator"


def _authorised(account: str) -> bool:
    auth = request.authorization
    cfg = current_app.config
    return bool(
        auth
        and account == cfg["TWILIO_ACCOUNT_SID"]
        and hmac.compare_digest(auth.username or "", cfg["TWILIO_ACCOUNT_SID"])
        and hmac.compare_digest(auth.password or "", cfg["TWILIO_AUTH_TOKEN"])
    )


def _sid(name: str) -> str:
    sid = name.removesuffix(".wav")
    if not SID_RE.match(sid):
        abort(404)
    return sid


@bp.route(f"/{API_VERSION}/Accounts/<account>/Recordings/<name>", methods=["GET", "PUT"])
@body_limit(RECORDING_LIMIT)
def recording(account: str, name: str):
    if not _authorised(account):
        abort(401)
    path = _store() / f"{_sid(name)}.wav"
    if request.method == "PUT":
        body = request.get_data()
        if len(body) > MAX_RECORDING_BYTES:  # a chunked body, cut off at the limit
            abort(413)
        if not body.startswith(b"RIFF"):
            abort(400)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return "", 201
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="audio/x-wav")


class AppRecordings:
    """The phone's recording server when it calls an app in simulator mode."""

    def __init__(
        self, transport: Transport, public_base_url: str, account_sid: str, auth_token: str
    ):
        self.transport = transport
        self.base_url = public_base_url.rstrip("/") + PREFIX
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)

    def recording_url(self, sid: str) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"

    def add_recording(self, sid: str, body: bytes) -> None:
        import base64

        token = base64.b64encode(":".join(self._auth).encode()).decode()
        reply = self.transport.request(
            "PUT",
            self.recording_url(sid) + ".wav",
            data=body,
            headers={"Authorization": f"Basic {token}", "Content-Type": "audio/x-wav"},
        )
        if reply.status != 201:
            raise RuntimeError(f"recording upload refused: HTTP {reply.status}")
