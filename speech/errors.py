"""Speech errors: one base class, specific subclasses carrying what went wrong."""

from __future__ import annotations


class SpeechError(Exception):
    """Base of every error raised by the speech package."""


class AudioError(SpeechError, ValueError):
    """Input that cannot be used as audio; never worth retrying."""


class NotAudioError(AudioError):
    """The bytes are not a WAV file at all."""


class CorruptAudioError(AudioError):
    """A WAV header that lies or a truncated file."""


class UnsupportedAudioError(AudioError):
    """A real WAV in an encoding we do not decode."""


class EmptyAudioError(AudioError):
    """No samples (or only a header)."""


class AudioTooLargeError(AudioError):
    def __init__(self, size: int, limit: int, unit: str = "bytes"):
        super().__init__(f"audio too large: {size} {unit} (limit {limit} {unit})")
        self.size, self.limit, self.unit = size, limit, unit


class ModelError(SpeechError):
    """The Vosk model cannot be used."""


class ModelMissingError(ModelError, FileNotFoundError):
    def __init__(self, path: str):
        super().__init__(
            f"no Vosk model at {path}: run `flask speech download-model` or unpack "
            f"a model from https://alphacephei.com/vosk/models there (VOSK_MODEL_PATH)"
        )
        self.path = path


class ModelBrokenError(ModelError):
    def __init__(self, path: str, reason: str):
        super().__init__(f"Vosk model at {path} is unusable: {reason}")
        self.path, self.reason = path, reason


class SynthesisError(SpeechError):
    """Text-to-speech produced no usable audio."""
