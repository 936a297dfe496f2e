"""Offline speech: Vosk transcription and grammar recognition, pyttsx3 prompts.

Owns the speech job queue (speech.jobs), audio decoding (speech.audio), the
Vosk model holder (speech.asr, loaded only in worker processes), recording
downloads from Twilio (speech.recordings), the TTS wrapper, prompt cache and
/audio route (speech.tts, speech.cache, speech.prompts) and the `flask speech`
commands. It does not touch tickets' tables: transcripts go through
tickets.service.attach_transcript.
"""

from __future__ import annotations


def init_app(app) -> None:
    """Register speech's blueprint, CLI and health check with the app."""
    from speech import models  # noqa: F401  (tables on Base)
