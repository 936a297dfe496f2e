"""Serving a ticket's recording to the roles allowed to hear it.

The audio is a local file (Ticket.recording_path, under RECORDINGS_DIR) or, the
first time it is played, downloaded from Twilio's recording URL (basic auth with
the account SID and auth token) and kept under RECORDINGS_DIR/tickets/. Only
URLs under TWILIO_API_BASE or our own PUBLIC_BASE_URL are fetched: a recording
URL given through the API must not make the server fetch arbitrary addresses.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import requests
from flask import abort, current_app

from tickets.models import Ticket

FETCH_TIMEOUT_SECONDS = 15
MAX_RECORDING_BYTES = 32 * 1024 * 1024
CACHE_SUBDIR = "tickets"


class RecordingUnavailable(Exception):
    """No recording can be served (none, purged, or the download failed)."""


def _inside(base: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        return False
    return True


def _allowed_url(url: str) -> bool:
    cfg = current_app.config
    return any(url.startswith(str(prefix).rstrip("/") + "/")
               for prefix in (cfg["TWILIO_API_BASE"], cfg["PUBLIC_BASE_URL"]))


def _download(url: str, target: Path) -> None:
    cfg = current_app.config
    if not url.endswith((".wav", ".mp3")):
        url += ".wav"  # Twilio serves the WAV when asked by extension
    auth = (cfg["TWILIO_ACCOUNT_SID"], cfg["TWILIO_AUTH_TOKEN"])
    tmp = None
    try:
        with requests.get(url, auth=auth, timeout=FETCH_TIMEOUT_SECONDS, stream=True) as reply:
            if reply.status_code != 200:
                raise RecordingUnavailable(f"recording download: HTTP {reply.status_code}")
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            size = 0
            with os.fdopen(fd, "wb") as out:
                for chunk in reply.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > MAX_RECORDING_BYTES:
                        raise RecordingUnavailable("recording too large")
                    out.write(chunk)
            os.replace(tmp, target)  # atomic: a concurrent player never sees half a file
            tmp = None
    except requests.RequestException as exc:
        raise RecordingUnavailable(f"recording download failed: {type(exc).__name__}") from exc
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def recording_file(ticket: Ticket) -> Path:
    """A local file with the ticket's recording; RecordingUnavailable if there is none."""
    if ticket.media_purged_at is not None:
        raise RecordingUnavailable("purged by the retention policy")
    base = Path(current_app.config["RECORDINGS_DIR"])
    if ticket.recording_path:
        path = Path(ticket.recording_path)
        path = path if path.is_absolute() else base / path
        if not _inside(base, path):
            current_app.logger.error("ticket %s: recording path outside RECORDINGS_DIR",
                                     ticket.number)
            abort(404)
        if path.is_file():
            return path
    if not ticket.recording_url:
        raise RecordingUnavailable("no recording")
    cached = base / CACHE_SUBDIR / f"{ticket.number}.wav"
    if cached.is_file():
        return cached
    if not _allowed_url(ticket.recording_url):
        raise RecordingUnavailable("recording URL outside the Twilio API base")
    _download(ticket.recording_url, cached)
    return cached


def has_recording(ticket: Ticket) -> bool:
    return ticket.media_purged_at is None and bool(ticket.recording_path or ticket.recording_url)
