"""Fetching call recordings from Twilio's REST API, and nothing else.

A RecordingUrl arrives in a webhook form, so it is caller-controlled input as
far as we know: it is fetched only when it lies under TWILIO_API_BASE (same
scheme, host, port and path prefix, no user info, no dot segments); anything
else is refused before any request is made. Redirects are followed only
under the same base. Twilio answers 404 for a few seconds after a call while
it stores the recording, so 404s are retried with a growing delay.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import requests

from telephony.base import TelephonyError

log = logging.getLogger(__name__)

NOT_READY_RETRIES = 6  # 404s tolerated while Twilio stores the file
NOT_READY_FIRST_DELAY = 0.5  # seconds, doubled each time (0.5 + 1 + 2 + 4 + ... capped)
NOT_READY_MAX_DELAY = 5.0
SERVER_ERROR_RETRIES = 2  # 5xx / connection errors; the job queue retries later anyway
MAX_REDIRECTS = 3
TIMEOUT = (5, 30)  # connect, read (seconds)
CHUNK = 64 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RecordingError(TelephonyError):
    """A recording could not be fetched (worth trying again later unless a subclass says)."""


class RecordingRefusedError(RecordingError):
    """The URL is not under TWILIO_API_BASE; no request was made."""

    def __init__(self, url: str, base: str):
        super().__init__(
            f"refusing to fetch {url!r}: not under TWILIO_API_BASE {base!r}", transient=False
        )
        self.url, self.base = url, base


class RecordingNotReadyError(RecordingError):
    """Twilio kept answering 404: the recording is not stored (yet)."""


class RecordingTooLargeError(RecordingRefusedError):
    """The recording is bigger than the caller of fetch() accepts; the download stopped."""

    def __init__(self, size: int, limit: int):
        RecordingError.__init__(
            self, f"recording too large: {size} bytes (limit {limit})", transient=False
        )
        self.size, self.limit = size, limit


def _port(parts) -> int | None:
    return parts.port or _DEFAULT_PORTS.get(parts.scheme)


def is_under(url: str, base: str) -> bool:
    """True if `url` is an http(s) URL under `base` (scheme, host, port, path prefix)."""
    try:
        u, b = urlsplit(url), urlsplit(base)
        u_port, b_port = _port(u), _port(b)
    except ValueError:  # e.g. a non-numeric port
        return False
    if u.scheme.lower() not in _DEFAULT_PORTS or u.scheme.lower() != b.scheme.lower():
        return False
    if u.username is not None or u.password is not None or "\\" in url:
        return False
    if (u.hostname or "").lower() != (b.hostname or "").lower() or u_port != b_port:
        return False
    path = unquote(u.path)
    if any(seg in (".", "..") for seg in path.split("/")) or "%2f" in u.path.lower():
        return False
    prefix = b.path.rstrip("/") + "/"
    return path.startswith(prefix)


def wav_url(recording_url: str) -> str:
    """Twilio's RecordingUrl has no extension; `.wav` asks for 8 kHz 16-bit PCM WAV."""
    path = urlsplit(recording_url).path
    return recording_url if path.endswith((".wav", ".mp3")) else recording_url + ".wav"


def fetch(
    recording_url: str,
    *,
    base: str,
    account_sid: str,
    auth_token: str,
    max_bytes: int,
    session: requests.Session | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """Download a recording from Twilio (basic auth, size cap, 404 retries)."""
    if not is_under(recording_url, base):
        raise RecordingRefusedError(recording_url, base)
    url = wav_url(recording_url)
    own = session is None
    http = session or requests.Session()
    try:
        delay, not_ready, errors = NOT_READY_FIRST_DELAY, 0, 0
        while True:
            try:
                status, body = _get(http, url, base, (account_sid, auth_token), max_bytes)
            except (requests.ConnectionError, requests.Timeout) as exc:
                status, body = None, None
                error = f"{type(exc).__name__}: {exc}"
            if status == 200:
                return body
            if status == 404 and not_ready < NOT_READY_RETRIES:
                not_ready += 1
            elif (status is None or status >= 500) and errors < SERVER_ERROR_RETRIES:
                errors += 1
            elif status == 404:
                raise RecordingNotReadyError(f"{url}: still 404 after {not_ready} retries")
            else:
                raise RecordingError(f"{url}: " + (f"HTTP {status}" if status else error))
            sleep(delay)
            delay = min(delay * 2, NOT_READY_MAX_DELAY)
    finally:
        if own:
            http.close()


def _get(http: requests.Session, url: str, base: str, auth, max_bytes: int):
    for _ in range(MAX_REDIRECTS + 1):
        with http.get(
            url, auth=auth, stream=True, timeout=TIMEOUT, allow_redirects=False
        ) as response:
            if response.is_redirect:
                target = urljoin(url, response.headers.get("Location", ""))
                if not is_under(target, base):
                    raise RecordingRefusedError(target, base)
                url = target
                continue
            if response.status_code != 200:
                return response.status_code, None
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                raise RecordingTooLargeError(declared, max_bytes)
            body = bytearray()
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise RecordingTooLargeError(len(body), max_bytes)
            return 200, bytes(body)
    raise RecordingError(f"{url}: more than {MAX_REDIRECTS} redirects")


def local_path(recordings_dir: str | Path, recording_url: str, recording_sid: str | None) -> Path:
    """Where the downloaded copy of a recording is kept."""
    name = recording_sid or hashlib.sha256(recording_url.encode()).hexdigest()[:32]
    safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_") or "recording"
    return Path(recordings_dir) / f"{safe}.wav"


def save_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_for_app(
    config, recording_url: str, recording_sid: str | None = None, *, max_bytes: int, **kwargs
) -> bytes:
    """fetch() with the app's Twilio settings, keeping a local copy in RECORDINGS_DIR."""
    if not is_under(recording_url, config["TWILIO_API_BASE"]):
        raise RecordingRefusedError(recording_url, config["TWILIO_API_BASE"])
    path = local_path(config["RECORDINGS_DIR"], recording_url, recording_sid)
    if path.is_file():
        return path.read_bytes()
    data = fetch(
        recording_url,
        base=config["TWILIO_API_BASE"],
        account_sid=config["TWILIO_ACCOUNT_SID"],
        auth_token=config["TWILIO_AUTH_TOKEN"],
        max_bytes=max_bytes,
        **kwargs,
    )
    save_atomically(path, data)
    return data
