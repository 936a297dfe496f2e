"""Serving a ticket's recording to the roles allowed to hear it.

The audio is a local file (Ticket.recording_path, under RECORDINGS_DIR), the copy
the speech worker downloaded for transcription, or — the first time it is played
before that — fetched now through telephony.recordings (only under TWILIO_API_BASE,
basic auth, size cap), which keeps the copy for next time.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask import abort, current_app

from speech.audio import MAX_AUDIO_BYTES
from telephony import recordings
from tickets.models import Ticket

# A page request must not hang while Twilio is still storing a fresh recording.
MAX_RETRY_DELAY_SECONDS = 0.5


class RecordingUnavailable(Exception):
    """No recording can be served (none, purged, refused or the download failed)."""


def _inside(base: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
    except ValueError:
        return False
    return True


def _local(ticket: Ticket, base: Path) -> Path | None:
    if not ticket.recording_path:
        return None
    path = Path(ticket.recording_path)
    path = path if path.is_absolute() else base / path
    if not _inside(base, path):
        current_app.logger.error("ticket %s: recording path outside RECORDINGS_DIR", ticket.number)
        abort(404)
    return path if path.is_file() else None


def recording_file(ticket: Ticket) -> Path:
    """A local file with the ticket's recording; RecordingUnavailable if there is none."""
    if ticket.media_purged_at is not None:
        raise RecordingUnavailable("purged by the retention policy")
    base = Path(current_app.config["RECORDINGS_DIR"])
    path = _local(ticket, base)
    if path is not None:
        return path
    if not ticket.recording_url:
        raise RecordingUnavailable("no recording")
    cached = recordings.local_path(base, ticket.recording_url, ticket.recording_sid)
    if not cached.is_file():
        try:
            recordings.fetch_for_app(
                current_app.config,
                ticket.recording_url,
                ticket.recording_sid,
                max_bytes=MAX_AUDIO_BYTES,
                sleep=lambda d: time.sleep(min(d, MAX_RETRY_DELAY_SECONDS)),
            )
        except recordings.RecordingError as exc:
            raise RecordingUnavailable(str(exc)) from exc
    return cached


def has_recording(ticket: Ticket) -> bool:
    return ticket.media_purged_at is None and bool(ticket.recording_path or ticket.recording_url)
