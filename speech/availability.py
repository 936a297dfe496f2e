"""Whether a caller's spoken answer can be recognised now, asked by the IVR before it
invites a caller to speak.

Web processes never load the model: they look at its files, and at the queue: a
spoken-answer job nobody has taken for GRAMMAR_STALL means no worker is serving
them (stopped, crashed, or busy past what a caller would wait).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from core.db import utcnow
from speech import asr
from speech.models import KIND_GRAMMAR, PENDING, SpeechJob

# A worker takes a spoken answer within a second; a caller waits about eight.
GRAMMAR_STALL = timedelta(seconds=5)


def can_listen(s: Session, model_path: str | Path) -> bool:
    """True when the model's files are usable and spoken-answer jobs are being taken."""
    if asr.files_status(model_path)[0] != "present":
        return False
    stalled = exists().where(
        SpeechJob.kind == KIND_GRAMMAR,
        SpeechJob.status == PENDING,
        SpeechJob.attempts == 0,
        SpeechJob.created_at < utcnow() - GRAMMAR_STALL,
    )
    return not s.scalar(select(stalled))
