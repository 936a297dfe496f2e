"""The simulated caller's voice: typed text spoken by espeak-ng, as a phone line carries it.

Twilio records calls as 8 kHz mono 16-bit WAV; the caller's synthesized speech
is resampled to that, so what the app receives looks like a real recording.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave

import numpy as np
import soxr

PHONE_RATE = 8000
ESPEAK_VOICES = {"zh": "cmn", "zh-CN": "cmn", "ko": "ko", "ko-KR": "ko", "en": "en"}
SYNTH_TIMEOUT = 30  # seconds


class VoiceError(RuntimeError):
    """The caller's speech could not be synthesized."""


def speak(text: str, language: str = "zh-CN") -> bytes:
    """Speak `text` and return it as an 8 kHz mono 16-bit WAV file."""
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise VoiceError("espeak-ng is not installed (apt-get install espeak-ng)")
    voice = ESPEAK_VOICES.get(language, ESPEAK_VOICES.get(language.split("-")[0], "cmn"))
    proc = subprocess.run(
        [exe, "-v", voice, "--stdout", text],
        capture_output=True,
        timeout=SYNTH_TIMEOUT,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise VoiceError(f"espeak-ng failed: {proc.stderr.decode(errors='replace').strip()}")
    return to_phone_wav(proc.stdout)


def to_phone_wav(data: bytes) -> bytes:
    """Convert a mono/stereo 16-bit WAV to 8 kHz mono 16-bit."""
    # espeak-ng writes a streaming header (frame count 0xffffffff); read the frames directly.
    with wave.open(io.BytesIO(data)) as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames = w.readframes(w.getnframes())
    if width != 2:
        raise VoiceError(f"expected 16-bit audio, got {8 * width}-bit")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float32)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    if rate != PHONE_RATE:
        samples = soxr.resample(samples, rate, PHONE_RATE)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(PHONE_RATE)
        w.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return out.getvalue()
