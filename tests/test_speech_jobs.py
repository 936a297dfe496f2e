"""The speech job queue on every database backend: claim, retry, lease, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, timedelta

import pytest

from core.db import Database, utcnow
from speech import jobs
from speech.models import DONE, FAILED, PENDING, RUNNING, SpeechJob

pytestmark = pytest.mark.store
URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1"


def _aware(value):
    """SQLite hands back naive datetimes; every stored one is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def test_transcription_round_trip(db):
    with db.session() as s:
        job_id = jobs.enqueue_transcription(s, ticket_id=7, recording_url=URL, recording_sid="RE1")
        # A webhook retry must not queue the same message twice.
        assert (
            jobs.enqueue_transcription(s, ticket_id=7, recording_url=URL, recording_sid="RE1")
            == job_id
        )
        assert jobs.transcript_state(s, 7) == "pending"
    with db.session() as s:
        job = jobs.claim(s, "w1")
        assert (job.id, job.status, job.attempts, job.claimed_by) == (job_id, RUNNING, 1, "w1")
    with db.session() as s:
        assert jobs.claim(s, "w2") is None  # leased to w1
        assert jobs.complete(s, job_id, "w1", {"text": "hello"})
    with db.session() as s:
        job = s.get(SpeechJob, job_id)
        assert (job.status, job.result, job.lease_until) == (DONE, {"text": "hello"}, None)
        assert jobs.transcript_state(s, 7) == "done"
        assert jobs.counts(s) == {DONE: 1}


def test_grammar_jobs_run_first_and_report_results(db):
    with db.session() as s:
        jobs.enqueue_transcription(s, ticket_id=1, recording_url=URL, recording_sid=None)
        gid = jobs.enqueue_grammar(s, call_sid="CA1", recording_url=URL, words=["供暖", " 暖气 "])
        assert jobs.grammar_result(s, gid) is None
    with db.session() as s:
        job = jobs.claim(s, "w1")
        assert (job.id, job.words) == (gid, ["供暖", "暖气"])
        assert jobs.grammar_result(s, gid) is None  # running counts as pending
        jobs.complete(s, gid, "w1", {"word": "暖气", "confidence": 0.91})
    with db.session() as s:
        assert jobs.grammar_result(s, gid) == ("暖气", 0.91)
    with pytest.raises(ValueError), db.session() as s:
        jobs.enqueue_grammar(s, call_sid="CA1", recording_url=URL, words=[" "])
    with pytest.raises(KeyError), db.session() as s:
        jobs.grammar_result(s, 999)


def test_failures_back_off_then_fail_for_good(db):
    with db.session() as s:
        job_id = jobs.enqueue_transcription(s, ticket_id=3, recording_url=URL, recording_sid=None)
    now = utcnow()
    delays = []
    for attempt in range(1, jobs.MAX_ATTEMPTS["transcribe"] + 1):
        with db.session() as s:
            job = jobs.claim(s, "w1", now=now)
            assert job is not None and job.attempts == attempt
            assert jobs.fail(s, job_id, "w1", f"boom {attempt}", now=now)
        with db.session() as s:
            job = s.get(SpeechJob, job_id)
            if job.status == FAILED:
                break
            assert job.status == PENDING and job.error == f"boom {attempt}"
            next_try = _aware(job.next_try_at)
            delays.append(next_try - now)
            # Not due before its backoff has passed.
            assert jobs.claim(s, "w1", now=now) is None
            now = next_try
    assert delays == [jobs.BACKOFF_FIRST * 2**i for i in range(len(delays))]
    with db.session() as s:
        job = s.get(SpeechJob, job_id)
        assert (job.status, job.attempts) == (FAILED, jobs.MAX_ATTEMPTS["transcribe"])
        assert jobs.transcript_state(s, 3) == "failed"
        gid = jobs.enqueue_grammar(s, call_sid="CA2", recording_url=URL, words=["x"])
    with db.session() as s:
        jobs.claim(s, "w1")
        jobs.fail(s, gid, "w1", "not audio", retry=False)
    with db.session() as s:
        assert jobs.grammar_result(s, gid) == (None, 0.0)


def test_stale_claim_is_reclaimed_and_old_worker_loses(db):
    with db.session() as s:
        job_id = jobs.enqueue_transcription(s, ticket_id=4, recording_url=URL, recording_sid=None)
    start = utcnow()
    with db.session() as s:
        assert jobs.claim(s, "dead", now=start).id == job_id
    with db.session() as s:
        assert jobs.claim(s, "w2", now=start + jobs.LEASE - timedelta(seconds=1)) is None
        job = jobs.claim(s, "w2", now=start + jobs.LEASE + timedelta(seconds=1))
        assert (job.id, job.claimed_by, job.attempts) == (job_id, "w2", 2)
    with db.session() as s:
        assert not jobs.complete(s, job_id, "dead", {"text": "late"})
        assert jobs.complete(s, job_id, "w2", {"text": "ok"})
    with db.session() as s:
        assert s.get(SpeechJob, job_id).result == {"text": "ok"}


def test_job_whose_workers_keep_dying_ends_failed(db):
    with db.session() as s:
        gid = jobs.enqueue_grammar(s, call_sid="CA3", recording_url=URL, words=["a"])
    at = utcnow()
    for _ in range(jobs.MAX_ATTEMPTS["grammar"]):
        with db.session() as s:
            assert jobs.claim(s, "w", now=at) is not None
        at += jobs.GRAMMAR_LEASE + timedelta(seconds=1)
    with db.session() as s:
        assert jobs.claim(s, "w", now=at) is None
        assert s.get(SpeechJob, gid).status == FAILED


def test_release_hands_back_without_counting(db):
    with db.session() as s:
        job_id = jobs.enqueue_transcription(s, ticket_id=5, recording_url=URL, recording_sid=None)
    with db.session() as s:
        jobs.claim(s, "w1")
    with db.session() as s:
        assert jobs.release(s, job_id, "w1")
    with db.session() as s:
        job = jobs.claim(s, "w2")
        assert (job.id, job.attempts) == (job_id, 1)


def test_concurrent_workers_never_share_a_job(db):
    with db.session() as s:
        ids = {
            jobs.enqueue_transcription(s, ticket_id=i, recording_url=URL, recording_sid=None)
            for i in range(40)
        }
    taken: dict[str, list[int]] = {}
    errors = []

    def work(name: str) -> None:
        mine = taken.setdefault(name, [])
        try:
            while True:
                with db.session() as s:
                    job = jobs.claim(s, name)
                    if job is None:
                        return
                    mine.append(job.id)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    claimed = [i for lst in taken.values() for i in lst]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
