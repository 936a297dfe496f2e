"""The speech job queue: enqueue from web requests, claim and finish in workers.

Rows live in `speech_jobs` (speech.models). Workers claim one job at a time:
on PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED` so many workers never
block on each other; on SQLite the same select followed by a conditional
`UPDATE … WHERE status = 'pending'` (SQLite serialises writers, so the row
count says who won). A claim carries a lease; a job whose worker died is
claimed again once the lease has run out. Failures are retried with
exponential backoff up to a per-kind limit.

This module never loads a model nor downloads anything: the web process may import it.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core.db import utcnow
from speech.models import (
    DONE,
    FAILED,
    KIND_GRAMMAR,
    KIND_TRANSCRIBE,
    PENDING,
    RUNNING,
    SpeechJob,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # a transcription of a 2-minute message takes seconds
GRAMMAR_LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = {KIND_TRANSCRIBE: 6, KIND_GRAMMAR: 2}
PRIORITY = {KIND_GRAMMAR: 0, KIND_TRANSCRIBE: 10}
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
GRAMMAR_BACKOFF = timedelta(seconds=1)
CLAIM_RACE_RETRIES = 5
MAX_ERROR_CHARS = 2000
# A queued transcription shows as "in progress" this long; after that, as no transcript
# yet (no worker or no model is taking it), never "in progress" forever.
PENDING_SHOWN_FOR = timedelta(minutes=2)


def worker_id() -> str:
    """host:pid, stored on the jobs a worker holds."""
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue_transcription(
    s: Session, *, ticket_id: int, recording_url: str, recording_sid: str | None
) -> int:
    """Queue a voice message for transcription; the same ticket and recording queue once."""
    existing = s.scalar(
        select(SpeechJob.id).where(
            SpeechJob.kind == KIND_TRANSCRIBE,
            SpeechJob.ticket_id == ticket_id,
            SpeechJob.recording_url == recording_url,
            SpeechJob.status != FAILED,
        )
    )
    if existing is not None:
        return existing
    job = SpeechJob(
        kind=KIND_TRANSCRIBE,
        priority=PRIORITY[KIND_TRANSCRIBE],
        status=PENDING,
        ticket_id=ticket_id,
        recording_url=recording_url,
        recording_sid=recording_sid,
        attempts=0,
        next_try_at=utcnow(),
    )
    s.add(job)
    s.flush()
    return job.id


def enqueue_grammar(s: Session, *, call_sid: str, recording_url: str, words: list[str]) -> int:
    """Queue a short spoken answer to be matched against `words` (grammar mode)."""
    cleaned = [w.strip() for w in words if w and w.strip()]
    if not cleaned:
        raise ValueError("enqueue_grammar needs at least one word")
    job = SpeechJob(
        kind=KIND_GRAMMAR,
        priority=PRIORITY[KIND_GRAMMAR],
        status=PENDING,
        call_sid=call_sid,
        recording_url=recording_url,
        words=cleaned,
        attempts=0,
        next_try_at=utcnow(),
    )
    s.add(job)
    s.flush()
    return job.id


def grammar_result(s: Session, job_id: int) -> tuple[str | None, float] | None:
    """(word or None, confidence) once done or failed; None while the job is pending."""
    row = s.execute(
        select(SpeechJob.status, SpeechJob.result).where(SpeechJob.id == job_id)
    ).one_or_none()
    if row is None:
        raise KeyError(f"no speech job {job_id}")
    status, result = row
    if status == FAILED:
        return (None, 0.0)
    if status != DONE:
        return None
    result = result or {}
    return (result.get("word"), float(result.get("confidence") or 0.0))


def _claimable(now: datetime):
    return or_(
        and_(SpeechJob.status == PENDING, SpeechJob.next_try_at <= now),
        and_(SpeechJob.status == RUNNING, SpeechJob.lease_until < now),
    )


def claim(
    s: Session,
    worker: str | None = None,
    *,
    kinds: tuple[str, ...] | None = None,
    now: datetime | None = None,
) -> SpeechJob | None:
    """Take the most urgent due job (or one whose lease ran out) and lease it to `worker`.

    The caller commits the session straight away so other workers see the claim.
    """
    worker = worker or worker_id()
    for _ in range(CLAIM_RACE_RETRIES):
        at = now or utcnow()
        query = select(SpeechJob.id, SpeechJob.kind).where(_claimable(at))
        if kinds:
            query = query.where(SpeechJob.kind.in_(kinds))
        query = query.order_by(SpeechJob.priority, SpeechJob.next_try_at, SpeechJob.id).limit(1)
        row = s.execute(query.with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        job_id, kind = row
        lease = GRAMMAR_LEASE if kind == KIND_GRAMMAR else LEASE
        won = s.execute(
            update(SpeechJob)
            .where(SpeechJob.id == job_id, _claimable(at))
            .values(
                status=RUNNING,
                attempts=SpeechJob.attempts + 1,
                lease_until=at + lease,
                claimed_by=worker,
                updated_at=at,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if not won:  # another SQLite worker got it between our select and update
            continue
        job = s.get(SpeechJob, job_id, populate_existing=True)
        if job.attempts > MAX_ATTEMPTS[kind]:
            # Only a job whose workers kept dying gets here: give up instead of looping forever.
            _finish(job, FAILED, at, error=job.error or "lease expired too many times")
            s.flush()
            continue
        return job
    return None


def _finish(
    job: SpeechJob,
    status: str,
    at: datetime,
    *,
    error: str | None = None,
    result: dict | None = None,
) -> None:
    job.status = status
    job.lease_until = None
    job.finished_at = at
    job.updated_at = at
    if error is not None:
        job.error = error[:MAX_ERROR_CHARS]
    if result is not None:
        job.result = result


def _held(s: Session, job_id: int, worker: str) -> SpeechJob | None:
    job = s.get(SpeechJob, job_id, populate_existing=True)
    if job is None or job.status != RUNNING or job.claimed_by != worker:
        log.warning("speech job %s is no longer held by %s; result dropped", job_id, worker)
        return None
    return job


def complete(
    s: Session, job_id: int, worker: str, result: dict, now: datetime | None = None
) -> bool:
    """Store the result of a job this worker still holds; False if the lease was lost."""
    job = _held(s, job_id, worker)
    if job is None:
        return False
    _finish(job, DONE, now or utcnow(), result=result)
    job.error = None
    return True


def backoff(kind: str, attempts: int) -> timedelta:
    """Delay before the next try: doubling from BACKOFF_FIRST, capped at BACKOFF_MAX."""
    if kind == KIND_GRAMMAR:
        return GRAMMAR_BACKOFF
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def fail(
    s: Session,
    job_id: int,
    worker: str,
    error: str,
    *,
    retry: bool = True,
    now: datetime | None = None,
) -> bool:
    """Record a failed try: back to pending after a backoff, or failed for good."""
    job = _held(s, job_id, worker)
    if job is None:
        return False
    at = now or utcnow()
    if retry and job.attempts < MAX_ATTEMPTS[job.kind]:
        job.status = PENDING
        job.lease_until = None
        job.claimed_by = None
        job.error = error[:MAX_ERROR_CHARS]
        job.next_try_at = at + backoff(job.kind, job.attempts)
        job.updated_at = at
    else:
        _finish(job, FAILED, at, error=error)
    return True


def release(s: Session, job_id: int, worker: str) -> bool:
    """Hand a job back untouched (worker shutting down): pending now, attempt not counted."""
    job = _held(s, job_id, worker)
    if job is None:
        return False
    job.status = PENDING
    job.attempts = max(job.attempts - 1, 0)
    job.lease_until = None
    job.claimed_by = None
    job.next_try_at = utcnow()
    return True


def counts(s: Session) -> dict[str, int]:
    """Number of jobs per status (health page, CLI)."""
    rows = s.execute(select(SpeechJob.status, func.count()).group_by(SpeechJob.status))
    return {status: n for status, n in rows}


def due_count(s: Session, now: datetime | None = None) -> int:
    """Jobs a worker could claim now (the backlog)."""
    return s.scalar(select(func.count()).select_from(SpeechJob).where(_claimable(now or utcnow())))


def transcript_state(s: Session, ticket_id: int, now: datetime | None = None) -> str:
    """A ticket's transcription for its page: 'pending' (a worker has it, or it was queued
    moments ago), 'queued' (waiting for a worker or a model), 'retry' (waiting to try
    again), 'done', 'failed' or 'none'. Only 'pending' is shown as in progress."""
    row = s.execute(
        select(SpeechJob.status, SpeechJob.attempts, SpeechJob.created_at)
        .where(SpeechJob.kind == KIND_TRANSCRIBE, SpeechJob.ticket_id == ticket_id)
        .order_by(SpeechJob.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return "none"
    status, attempts, created = row
    if status != PENDING:
        return {RUNNING: PENDING}.get(status, status)
    if attempts:
        return "retry"
    created = created if created.tzinfo else created.replace(tzinfo=UTC)  # SQLite: naive UTC
    return PENDING if (now or utcnow()) - created < PENDING_SHOWN_FOR else "queued"
