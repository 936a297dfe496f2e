"""A dependable pyttsx3 (espeak-ng) on Linux: one owner process, verified output, restarts.

pyttsx3 is not thread-safe and its espeak driver can hang or silently write
nothing, so all synthesis goes through one child process per server process,
one request at a time. The parent waits with a timeout and kills and
restarts a child that hangs. Every file is checked (exists, is a WAV, has a
plausible duration for the text, is not silence) before it is used, then
converted to what Twilio plays well: 8 kHz mono PCM16, leading and trailing
silence trimmed, at a fixed loudness.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.metadata
import json
import logging
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from speech.audio import (
    Audio,
    decode_wav,
    encode_wav,
    normalize_loudness,
    resample,
    rms_dbfs,
    trim_silence,
)
from speech.errors import AudioError, SynthesisError

log = logging.getLogger(__name__)

OUTPUT_RATE = 8_000  # Twilio plays 8 kHz mono PCM16 WAV without transcoding
LOUDNESS_DBFS = -22.0  # RMS; espeak speech peaks ~15 dB above it, so no clipping
SYNTH_TIMEOUT = 10.0  # seconds per utterance before the engine is declared hung
EXIT_WAIT_SECONDS = 0.5  # at process exit, a synthesis still running is killed after this
START_TIMEOUT = 20.0  # child start + import + warm-up
MAX_TEXT_CHARS = 1_000
MIN_SECONDS_PER_CHAR = 0.03  # espeak-ng at 80-450 wpm stays well inside these bounds
MAX_SECONDS_PER_CHAR = 2.0
MAX_EXTRA_SECONDS = 3.0
SILENCE_DBFS = -60.0
TRIM_DBFS = -45.0  # quieter than this at either end is the engine's lead-in or tail
WARM_UP_TEXT = "1"
ENGINE_SCRIPT = Path(__file__).with_name("tts_engine.py")


class SynthesisTimeout(SynthesisError):
    """The engine did not answer in time; it was killed and will be restarted."""


@dataclass(frozen=True)
class Voice:
    voice: str
    rate: int


@functools.cache
def engine_version() -> str:
    """pyttsx3 and espeak-ng versions: part of every cache key (new engine, new audio)."""
    try:
        espeak = (
            subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, timeout=10)
            .stdout.split("  ")[0]
            .strip()
        )
    except (OSError, subprocess.SubprocessError):
        espeak = "espeak-ng-unknown"
    return f"pyttsx3-{importlib.metadata.version('pyttsx3')}/{espeak}"


def spoken_chars(text: str) -> int:
    """Characters that make sound (letters and digits), for the plausibility check."""
    return sum(1 for ch in text if unicodedata.category(ch)[0] in "LN")


def check_output(path: Path, text: str) -> Audio:
    """Decode and verify a synthesized file; SynthesisError says what is wrong."""
    if not path.is_file() or path.stat().st_size <= 44:
        raise SynthesisError(f"engine wrote no audio for {text[:40]!r}")
    try:
        audio = decode_wav(path.read_bytes())
    except AudioError as exc:
        raise SynthesisError(f"engine wrote an unusable file: {exc}") from exc
    n = max(spoken_chars(text), 1)
    low = MIN_SECONDS_PER_CHAR * n
    high = MAX_SECONDS_PER_CHAR * n + MAX_EXTRA_SECONDS
    if not low <= audio.duration <= high:
        raise SynthesisError(
            f"implausible duration {audio.duration:.2f}s for {n} characters "
            f"(expected {low:.2f}-{high:.2f}s)"
        )
    if rms_dbfs(audio) < SILENCE_DBFS:
        raise SynthesisError("engine wrote silence")
    return audio


class Synthesizer:
    """Serialises synthesis through one engine process; restarts it when it misbehaves."""

    def __init__(self, *, timeout: float = SYNTH_TIMEOUT, work_dir: str | None = None):
        self.timeout = timeout
        self.work_dir = work_dir
        self.restarts = 0
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._closed = False

    # -- engine process -------------------------------------------------------------
    def _start(self, voice: Voice, deadline: float | None = None) -> None:
        # A plain child process (not multiprocessing): nothing of the web worker is inherited
        # or re-imported, and a hung engine is killed without touching this process.
        self._process = subprocess.Popen(
            [sys.executable, str(ENGINE_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        # pyttsx3 2.99 + espeak: a long text as the first save_to_file after init() writes
        # no file; a short first utterance avoids it. Its output is verified like any other.
        self._run_once(WARM_UP_TEXT, voice, _within(START_TIMEOUT, deadline))

    def _stop(self, *, hung: bool = False) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if hung:  # it did not answer: waiting for it to exit would only keep the caller longer
            process.kill()
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        process.stdout.close()

    def __del__(self) -> None:
        # A synthesizer dropped without close() (a test's, a sandbox app's) must not leave its
        # engine process and pipes behind for the garbage collector to warn about.
        with contextlib.suppress(Exception):
            self._stop()

    def close(self, timeout: float | None = None) -> None:
        """Stop the engine for good (process exit): later requests fail instead of restarting.

        With a timeout (at exit), a synthesis still running is cut short: its engine is
        killed rather than delaying a stopping process by up to SYNTH_TIMEOUT."""
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            self._closed = True
            process = self._process
            if process is not None:
                with contextlib.suppress(OSError):
                    process.kill()
            return
        try:
            self._closed = True
            self._stop()
        finally:
            self._lock.release()

    def _run_once(self, text: str, voice: Voice, timeout: float) -> Audio:
        fd, name = tempfile.mkstemp(suffix=".wav", prefix="tts-", dir=self.work_dir)
        os.close(fd)
        path = Path(name)
        path.unlink()
        process = self._process
        try:
            process.stdin.write(
                json.dumps(
                    {"text": text, "voice": voice.voice, "rate": voice.rate, "path": str(path)}
                )
                + "\n"
            )
            process.stdin.flush()
            ready, _, _ = select.select([process.stdout], [], [], timeout)
            if not ready:
                raise SynthesisTimeout(f"engine did not answer within {timeout:.0f}s")
            line = process.stdout.readline()
            if not line:
                raise SynthesisError(f"engine process exited ({process.poll()})")
            answer = json.loads(line)
            if not answer.get("ok"):
                raise SynthesisError(answer.get("error", "engine error"))
            return check_output(path, text)
        except (OSError, ValueError) as exc:
            raise SynthesisError(f"engine process died: {exc}") from exc
        finally:
            path.unlink(missing_ok=True)

    # -- public -----------------------------------------------------------------------
    def synthesize(
        self, text: str, voice: Voice, *, wait: float | None = None, rate: int = OUTPUT_RATE
    ) -> bytes:
        """WAV bytes (8 kHz mono PCM16, normalised loudness) of `text`; SynthesisError if not.

        `wait` bounds the whole call: queueing behind other requests for the engine, starting
        it and its answer. An engine that has not answered by then is killed (the next request
        starts a fresh one) and SynthesisTimeout raised, without a second try.
        """
        deadline = None if wait is None else time.monotonic() + wait
        text = " ".join(text.split())
        if not text or spoken_chars(text) == 0:
            raise SynthesisError("nothing to say")
        if len(text) > MAX_TEXT_CHARS:
            raise SynthesisError(f"text longer than {MAX_TEXT_CHARS} characters")
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            raise SynthesisTimeout(f"engine busy for more than {wait:.0f}s")
        try:
            if self._closed:
                raise SynthesisError("synthesizer closed")
            if _within(self.timeout, deadline) <= 0:  # the wait went on queueing
                raise SynthesisTimeout(f"engine busy for more than {wait:.0f}s")
            last: SynthesisError | None = None
            for attempt in range(2):  # a bad or missing file gets one retry on a fresh engine
                try:
                    if self._process is None or self._process.poll() is not None:
                        if self._process is not None:
                            self._stop()
                        self._start(voice, deadline)
                    audio = self._run_once(text, voice, _within(self.timeout, deadline))
                    audio = trim_silence(resample(audio, rate), TRIM_DBFS)
                    return encode_wav(normalize_loudness(audio, LOUDNESS_DBFS))
                except SynthesisError as exc:
                    last = exc
                    log.warning(
                        "tts attempt %d failed (%s); restarting the engine", attempt + 1, exc
                    )
                    self._stop(hung=isinstance(exc, SynthesisTimeout))
                    self.restarts += 1
                    if deadline is not None and time.monotonic() >= deadline:
                        break
            raise last
        finally:
            self._lock.release()


def _within(timeout: float, deadline: float | None) -> float:
    """`timeout`, shortened to what is left before `deadline` (a monotonic time)."""
    return timeout if deadline is None else max(min(timeout, deadline - time.monotonic()), 0.0)


_default: Synthesizer | None = None
_default_lock = threading.Lock()


def default() -> Synthesizer:
    """The process's one synthesizer (its engine process starts on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Synthesizer()
            atexit.register(_default.close, EXIT_WAIT_SECONDS)
        return _default
