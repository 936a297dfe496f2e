"""The transcription worker: claims speech jobs, fetches, decodes, recognises, stores.

Runs in its own process (`flask speech worker`), the only kind of process
that loads the Vosk model. Several threads share the one model (Vosk decodes
outside the GIL); several processes or machines share the queue through the
database. The network and the decoder run with no database transaction open.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy.exc import SQLAlchemyError

from core.config import value
from core.db import Database, utcnow
from speech import asr, jobs, priority, signals
from speech.audio import MAX_AUDIO_BYTES, decode_wav
from speech.errors import AudioError, ModelError
from speech.models import KIND_GRAMMAR, KIND_TRANSCRIBE
from speech.numbers import digit_runs
from telephony import recordings
from telephony.recordings import RecordingError, RecordingRefusedError

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0  # seconds between empty polls
# A spoken menu answer is useless once the call has moved on (the IVR polls for ~8 s).
GRAMMAR_MAX_AGE = timedelta(seconds=60)
PERMANENT = (AudioError, RecordingRefusedError, LookupError)
# Failures worth another try later (with backoff): the network, the disk, the database,
# memory. Anything else would fail the same way again: the job fails for good at once.
TRANSIENT = (RecordingError, OSError, MemoryError, SQLAlchemyError, RuntimeError)


@dataclass
class Outcome:
    job_id: int
    kind: str
    status: str  # done / retry / failed / lost
    detail: str = ""


class NoTranscriptStore(RuntimeError):
    """Nothing listens for transcripts (tickets not loaded): the job is retried, not lost."""


def _attach_transcript(s, ticket_id: int, transcript: asr.Transcript) -> None:
    """Announce the transcript; tickets stores it in this transaction."""
    if not signals.listening():
        raise NoTranscriptStore("no package stores transcripts in this process")
    # Phone and ticket numbers read digit by digit become digits; word timings stay as heard.
    signals.transcript_ready.send(
        ticket_id,
        session=s,
        text=digit_runs(transcript.text),
        confidence=transcript.confidence,
        words=transcript.words_json(),
    )


class Worker:
    """Processes speech jobs with one shared model; safe to run in several threads."""

    def __init__(
        self,
        db: Database,
        config,
        model: asr.ModelHolder,
        *,
        worker: str | None = None,
        fetch: Callable[..., bytes] | None = None,
        attach: Callable = _attach_transcript,
        kinds: tuple[str, ...] | None = None,
        background: bool = False,
    ):
        self.db = db
        self.kinds = kinds  # None: any job, most urgent first
        self.background = background  # yield the CPU to the web workers (transcription)
        self.config = config
        self.model = model
        self.worker = worker or jobs.worker_id()
        self.fetch = fetch or (
            lambda url, sid: recordings.fetch_for_app(config, url, sid, max_bytes=MAX_AUDIO_BYTES)
        )
        self.attach = attach
        self.min_confidence = value(config, "SPEECH_GRAMMAR_MIN_CONFIDENCE")

    def run_once(self) -> Outcome | None:
        """Claim and process one due job; None when there is nothing to do."""
        with self.db.session() as s:
            job = jobs.claim(s, self.worker, kinds=self.kinds)
            if job is None:
                return None
            job_id, kind = job.id, job.kind
            url, sid, ticket_id, words = (
                job.recording_url,
                job.recording_sid,
                job.ticket_id,
                list(job.words or []),
            )
            created = (
                job.created_at if job.created_at.tzinfo else job.created_at.replace(tzinfo=UTC)
            )  # SQLite hands back naive UTC
            if kind == KIND_GRAMMAR and utcnow() - created > GRAMMAR_MAX_AGE:
                jobs.fail(
                    s, job_id, self.worker, "expired: the caller is no longer waiting", retry=False
                )
                return Outcome(job_id, kind, "failed", "expired")
        try:
            audio = decode_wav(self.fetch(url, sid))
            if kind == KIND_GRAMMAR:
                heard, confidence = asr.recognize_grammar(self.model, audio, words)
                accepted = heard if confidence >= self.min_confidence else None
                result = {"word": accepted, "confidence": confidence, "heard": heard}
            else:
                transcript = asr.transcribe(self.model, audio)
                result = {
                    "text": digit_runs(transcript.text),
                    "confidence": transcript.confidence,
                    "duration": transcript.duration,
                    "words": len(transcript.words),
                }
            with self.db.session() as s:
                if not jobs.complete(s, job_id, self.worker, result):
                    return Outcome(job_id, kind, "lost", "lease expired; another worker has it")
                if kind == KIND_TRANSCRIBE:
                    self.attach(s, ticket_id, transcript)
            return Outcome(job_id, kind, "done")
        except ModelError:
            # Not the job's fault: give it back untouched and let the caller stop.
            with self.db.session() as s:
                jobs.release(s, job_id, self.worker)
            raise
        except Exception as exc:
            permanent = isinstance(exc, PERMANENT) or not isinstance(exc, TRANSIENT)
            message = f"{type(exc).__name__}: {exc}"
            log.warning(
                "speech job %s (%s) failed%s: %s",
                job_id,
                kind,
                "" if permanent else ", will retry",
                message,
            )
            with self.db.session() as s:
                jobs.fail(s, job_id, self.worker, message, retry=not permanent)
                status = s.get(jobs.SpeechJob, job_id).status
            return Outcome(job_id, kind, "failed" if status == "failed" else "retry", message)

    def run(self, stop: threading.Event, poll_interval: float = POLL_INTERVAL) -> None:
        """Process jobs until `stop` is set; the job in hand is always finished first."""
        if self.background:
            log.info(
                "speech thread %s runs at background priority (%s)",
                self.worker,
                priority.background(),
            )
        while not stop.is_set():
            try:
                outcome = self.run_once()
            except ModelError:
                log.exception("speech worker stopping: model unusable")
                stop.set()
                return
            except Exception:  # database down: keep the worker alive, try again later
                log.exception("speech worker poll failed")
                outcome = None
            if outcome is None:
                stop.wait(poll_interval)


def run_threads(
    workers: list[Worker], stop: threading.Event, poll_interval: float = POLL_INTERVAL
) -> None:
    """Run each worker in its own thread (sharing one model) until `stop` is set."""
    pool = [
        threading.Thread(target=w.run, args=(stop, poll_interval), name=f"speech-{i}", daemon=True)
        for i, w in enumerate(workers)
    ]
    for t in pool:
        t.start()
    for t in pool:
        while t.is_alive():  # short joins keep the main thread responsive to signals
            t.join(timeout=0.5)
