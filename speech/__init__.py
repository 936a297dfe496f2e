"""Offline speech: Vosk transcription and grammar recognition, pyttsx3 prompts.

Owns the speech job queue (speech.jobs), audio decoding (speech.audio), the
Vosk model holder (speech.asr, loaded only in worker processes; recordings are
downloaded through telephony.recordings), the TTS wrapper, prompt cache and
/audio route (speech.tts, speech.cache, speech.prompts), how Mandarin is said
(speech.normalize, speech.pinyin, speech.lexicon, speech.pronounce, and the
prompt warnings of speech.checks) and the `flask speech` commands. It does not
touch tickets' tables nor import tickets: a finished transcript is announced
(speech.signals.transcript_ready) and tickets stores it.
"""

from __future__ import annotations

from core import health


def _health(app) -> health.Check:
    """Model state from its files (web workers never load it) and the job backlog."""
    from core.db import get_db
    from speech import asr, jobs

    path = app.config["VOSK_MODEL_PATH"]
    state, detail = asr.health_status(path)
    info: dict = {"model": state, "model_path": str(path)}
    if state not in ("present", "loaded"):
        info["model_detail"] = detail
    try:
        with get_db(app).session() as s:
            info["jobs"] = jobs.counts(s)
    except Exception as exc:  # the database check reports the cause
        info["jobs_error"] = type(exc).__name__
    pronouncer = app.extensions["speech_prompts"].pronouncer
    lexicon = pronouncer.lexicon()
    info["lexicon"] = (
        f"{len(lexicon.entries)} entries"
        if pronouncer.error is None
        else f"{pronouncer.error} (last good: {len(lexicon.entries)} entries)"
    )
    blocked = app.extensions["speech_prompts"].cache.unwritable()
    if blocked:
        # Callers still hear every prompt, through Twilio's <Say>: a warning, not a failure.
        info["warning"] = f"prompt audio cache: {blocked}; prompts are spoken with <Say>"
    # A missing model is degraded service, not an outage: calls and tickets still work
    # and messages wait for a worker with a model. A broken model needs a person.
    return health.Check(state != "broken", info)


def init_app(app) -> None:
    """Register speech's blueprint, CLI and health check with the app."""
    from speech import (
        models,  # noqa: F401  (tables on Base)
        prompts,
    )
    from speech.cli import speech_cli

    prompts.init_app(app)
    health.register(app, "speech", _health)
    app.cli.add_command(speech_cli)
