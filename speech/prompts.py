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
import time

import numpy as np
from flask import Blueprint, abort, current_app, g, has_request_context, send_file

from core.config import value
from speech import tts
from speech.audio import Audio, decode_wav, encode_wav, normalize_loudness
from speech.cache import AudioCache, cache_key
from speech.errors import SynthesisError
from speech.pronounce import PINYIN_VOICE, Pronouncer, mandarin_voice

log = logging.getLogger(__name__)
bp = Blueprint("speech_audio", __name__)

AUDIO_PATH = "/audio"
CACHE_SECONDS = 365 * 24 * 3600  # names are content hashes: they never change meaning
REQUEST_WAIT = 5.0  # longest one request waits for the engine, all its prompts (Twilio: 15 s)
# espeak-ng voices per language (primary subtag); "zh" uses TTS_VOICE.
LANGUAGE_VOICES = {"en": "en-us", "yue": "yue", "ko": "ko", "ja": "ja"}
PART_GAP_SECONDS = 0.3  # between a Mandarin and an English stretch of one prompt


class Prompts:
    """Synthesize-and-cache for one app's settings."""

    def __init__(self, config, synthesizer: tts.Synthesizer | None = None):
        self.cache = AudioCache(config["AUDIO_DIR"])
        self.base_url = str(config["PUBLIC_BASE_URL"]).rstrip("/")
        self.zh_voice = mandarin_voice(value(config, "TTS_VOICE"))
        self.pronouncer = Pronouncer(value(config, "SPEECH_LEXICON"))
        self.rate = value(config, "TTS_RATE")
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

    def parts(self, text: str, language: str) -> list[tuple[tts.Voice, str]] | None:
        """(voice, what it receives) for each stretch of the prompt; None without a voice.

        Mandarin goes to the pinyin voice as tone-numbered pinyin; an English sentence
        inside it ("For English, press 8.") to the English voice.
        """
        voice = self.voice_for(language)
        if voice is None:
            return None
        if not voice.voice.startswith(PINYIN_VOICE):
            return [(voice, " ".join(text.split()))]
        english = tts.Voice(LANGUAGE_VOICES["en"], self.rate)
        return [
            (voice if part.language == "zh" else english, part.text)
            for part in self.pronouncer.parts(text)
        ]

    def key(self, text: str, language: str) -> str | None:
        """Cache key over what the engine says, so a lexicon edit gives new audio."""
        parts = self.parts(text, language)
        if parts is None:
            return None
        first = parts[0][0] if parts else self.voice_for(language)
        spoken = parts[0][1] if len(parts) == 1 else "\n".join(f"{v.voice}\t{t}" for v, t in parts)
        return cache_key(spoken if parts else "", first.voice, first.rate, tts.engine_version())

    def _synthesize(self, parts, wait: float | None) -> bytes:
        if len(parts) == 1:
            return self.synthesizer.synthesize(parts[0][1], parts[0][0], wait=wait)
        if not parts:
            raise SynthesisError("nothing to say")
        gap = np.zeros(int(tts.OUTPUT_RATE * PART_GAP_SECONDS), dtype=np.float32)
        pieces = []
        for voice, spoken in parts:
            pieces += [
                decode_wav(self.synthesizer.synthesize(spoken, voice, wait=wait)).samples,
                gap,
            ]
        joined = Audio(np.concatenate(pieces[:-1]), tts.OUTPUT_RATE)
        return encode_wav(normalize_loudness(joined, tts.LOUDNESS_DBFS))

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
        deadline = None if wait is None else time.monotonic() + wait
        try:
            # One wait for both locks: another thread's or process's synthesis of this
            # prompt (the engine may be hung), then the engine itself.
            with self.cache.locked(key, wait):
                if self.cache.get(key) is None:  # another worker may have made it meanwhile
                    left = None if deadline is None else max(deadline - time.monotonic(), 0)
                    data = self._synthesize(self.parts(text, language), left)
                    self.cache.put(key, data)
        except (SynthesisError, OSError) as exc:
            self.failures += 1
            log.warning("TTS failed for a %s prompt (%d chars): %s", language, len(text), exc)
            return None
        return key

    def warm_up(self) -> threading.Thread:
        """Load the pinyin converter (jieba, pypinyin: seconds of CPU) in the background.

        For processes that answer calls (wsgi.py): otherwise the first prompt of the first
        call would wait for it.
        """
        thread = threading.Thread(
            target=self.pronouncer.read, args=("您好，欢迎致电。",), name="tts-warm-up", daemon=True
        )
        thread.start()
        return thread

    def audio_url(self, text: str, language: str) -> str | None:
        """Absolute URL of the prompt's audio, or None (the caller uses <Say>)."""
        if not self._started:
            self._start_background()  # this process answers calls: prepare the rest
        key = self.ensure(text, language, wait=_request_wait())
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


def _request_wait() -> float:
    """What is left of this request's REQUEST_WAIT: the prompts of one turn share it (cached
    ones still play once it is spent; the others are said with <Say>)."""
    if not has_request_context():
        return REQUEST_WAIT
    deadline = g.setdefault("prompt_deadline", time.monotonic() + REQUEST_WAIT)
    return max(deadline - time.monotonic(), 0.0)


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
