"""Prompt audio for TwiML: cached synthesized WAVs at stable URLs, or None for <Say>.

`audio_url(text, language)` returns PUBLIC_BASE_URL/audio/<key>.wav, synthesizing
on a cache miss (per-call text such as a ticket number read digit by digit);
`presynthesize` fills the cache for every prompt of a flow in the background
when the flow is loaded. Any failure is logged and answered with None, and
the caller falls back to <Say language>.
"""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, abort, current_app, send_file

from speech import tts
from speech.cache import AudioCache, cache_key
from speech.errors import SynthesisError
from speech.pronounce import PINYIN_VOICE, Pronouncer, mandarin_voice

log = logging.getLogger(__name__)
bp = Blueprint("speech_audio", __name__)

AUDIO_PATH = "/audio"
CACHE_SECONDS = 365 * 24 * 3600  # names are content hashes: they never change meaning
REQUEST_WAIT = 5.0  # longest a webhook waits for the engine (Twilio: 15 s)
# espeak-ng voices per language (primary subtag); "zh" uses TTS_VOICE.
LANGUAGE_VOICES = {"en": "en-us", "yue": "yue", "ko": "ko", "ja": "ja"}


class Prompts:
    """Synthesize-and-cache for one app's settings."""

    def __init__(self, config, synthesizer: tts.Synthesizer | None = None):
        self.cache = AudioCache(config["AUDIO_DIR"])
        self.base_url = str(config["PUBLIC_BASE_URL"]).rstrip("/")
        self.zh_voice = mandarin_voice(str(config.get("TTS_VOICE") or PINYIN_VOICE))
        self.pronouncer = Pronouncer(config.get("SPEECH_LEXICON"))
        self.rate = int(config.get("TTS_RATE") or 165)
        self._synth = synthesizer
        self.failures = 0
        self._pending: list[tuple[str, str]] = []
        self._pending_lock = threading.Lock()
        self._started = False

    @property
    def synthesizer(self) -> tts.Synthesizer:
        return self._synth or tts.default()

    def voice_for(self, language: str) -> tts.Voice | None:
        primary = (language or "").split("-")[0].lower()
        if primary in ("zh", "cmn"):
            return tts.Voice(self.zh_voice, self.rate)
        name = LANGUAGE_VOICES.get(primary)
        return tts.Voice(name, self.rate) if name else None

    def spoken(self, text: str, voice: tts.Voice) -> str:
        """What the engine receives: tone-numbered pinyin for the Mandarin pinyin voice."""
        if voice.voice.startswith(PINYIN_VOICE):
            return self.pronouncer.engine_text(text)
        return " ".join(text.split())

    def key(self, text: str, language: str) -> str | None:
        """Cache key over what the engine says, so a lexicon edit gives new audio."""
        voice = self.voice_for(language)
        if voice is None:
            return None
        return cache_key(self.spoken(text, voice), voice.voice, voice.rate, tts.engine_version())

    def url(self, key: str) -> str:
        return f"{self.base_url}{AUDIO_PATH}/{key}.wav"

    def ensure(self, text: str, language: str, *, wait: float | None = None) -> str | None:
        """The cache key of `text`, synthesizing it if needed; None if that failed."""
        key = self.key(text, language)
        if key is None:
            log.info("no TTS voice for language %s; <Say> will be used", language)
            return None
        if self.cache.get(key) is not None:
            return key
        try:
            with self.cache.locked(key):
                if self.cache.get(key) is None:  # another worker may have made it meanwhile
                    voice = self.voice_for(language)
                    spoken = self.spoken(text, voice)
                    data = self.synthesizer.synthesize(spoken, voice, wait=wait)
                    self.cache.put(key, data)
        except (SynthesisError, OSError) as exc:
            self.failures += 1
            log.warning("TTS failed for a %s prompt (%d chars): %s", language, len(text), exc)
            return None
        return key

    def audio_url(self, text: str, language: str) -> str | None:
        """Absolute URL of the prompt's audio, or None (the caller uses <Say>)."""
        if not self._started:
            self._start_background()  # this process answers calls: prepare the rest
        key = self.ensure(text, language, wait=REQUEST_WAIT)
        return self.url(key) if key else None

    def presynthesize(self, texts, *, background: bool = True) -> threading.Thread | None:
        """Synthesize every (text, language) not cached yet.

        In the background, and only once this process first asks for prompt audio: the
        flow is loaded by every process that builds the app (CLI commands, the worker,
        tests), but only those that answer calls need the audio.
        """
        items = list(dict.fromkeys((t, lang) for t, lang in texts if t and t.strip()))
        if not background:
            self._presynthesize(items)
            return None
        with self._pending_lock:
            self._pending.extend(items)
            if not self._started:
                return None
        return self._start_background()

    def _presynthesize(self, items) -> None:
        made = sum(1 for text, language in items if self.ensure(text, language))
        log.info("prompt audio ready for %d of %d prompts", made, len(items))

    def _start_background(self) -> threading.Thread | None:
        with self._pending_lock:
            self._started = True
            items, self._pending = self._pending, []
        if not items:
            return None
        thread = threading.Thread(
            target=self._presynthesize, args=(items,), name="tts-presynthesize", daemon=True
        )
        thread.start()
        return thread


@bp.get(f"{AUDIO_PATH}/<name>")
def audio(name: str):
    """A cached prompt; only names that are cache keys, from the cache directory."""
    path = current_app.extensions["speech_prompts"].cache.lookup(name)
    if path is None:
        abort(404)
    response = send_file(
        path, mimetype="audio/wav", max_age=CACHE_SECONDS, conditional=True, etag=True
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response


def init_app(app) -> Prompts:
    prompts = Prompts(app.config)
    app.extensions["speech_prompts"] = prompts
    app.extensions["prompt_audio"] = prompts.audio_url
    app.extensions["prompt_presynthesize"] = prompts.presynthesize
    app.register_blueprint(bp)
    return prompts
