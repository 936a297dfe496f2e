"""What speech announces to the packages above it, as blinker signals.

Speech sits below tickets: a finished transcription is announced, and tickets
(which connects when it is imported) stores it. Receivers run synchronously in
the worker's transaction (`session`), so the job's completion and the stored
transcript commit together.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# A voice message or survey comment was transcribed. Sent with sender=ticket id (int),
# session, text (digit runs already joined), confidence, words (JSON-ready list).
transcript_ready = _signals.signal("transcript-ready")


def listening() -> bool:
    """Whether anything stores transcripts (tickets connects when it is imported)."""
    return bool(transcript_ready.receivers)
