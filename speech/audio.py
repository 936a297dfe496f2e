"""Decoding recordings into mono float samples and resampling them for Vosk.

Reads RIFF/WAVE itself (the stdlib `wave` module knows PCM only, and
`audioop` is gone in Python 3.13): PCM 8/16/24/32-bit, IEEE float, μ-law and
A-law (Twilio and phone systems use both), WAVE_FORMAT_EXTENSIBLE, any rate,
any channel count (mixed down to mono). Resampling is soxr's band-limited
resampler, never sample dropping.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import soxr

from speech.errors import (
    AudioTooLargeError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    UnsupportedAudioError,
)

MAX_AUDIO_BYTES = (
    50 * 1024 * 1024
)  # a 10-minute 16-bit 44.1 kHz stereo WAV is ~106 MB; 8 kHz is 10 MB
MAX_AUDIO_SECONDS = 15 * 60  # Twilio's <Record> caps at 4 hours; our messages at minutes
MIN_RATE, MAX_RATE = 4_000, 192_000
MAX_CHANNELS = 8
MAX_BITS = 64  # float64 samples; 0 would make a frame of zero bytes

FORMAT_PCM, FORMAT_FLOAT, FORMAT_ALAW, FORMAT_MULAW, FORMAT_EXTENSIBLE = 1, 3, 6, 7, 0xFFFE


@dataclass(frozen=True)
class Audio:
    """Mono samples in [-1, 1] at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def _mulaw_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    value = np.where(sign, 0x84 - magnitude, magnitude - 0x84)
    return (value / 32768.0).astype(np.float32)


def _alaw_table() -> np.ndarray:
    codes = np.arange(256, dtype=np.int32) ^ 0x55
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = np.where(
        exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    )
    value = np.where(sign, magnitude, -magnitude)
    return (value / 32768.0).astype(np.float32)


MULAW = _mulaw_table()
ALAW = _alaw_table()


def _chunks(data: bytes):
    pos = 12
    while pos + 8 <= len(data):
        cid, size = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8 : pos + 8 + size]
        yield cid, body, len(body) < size
        pos += 8 + size + (size & 1)


def _parse_fmt(fmt: bytes) -> tuple[int, int, int, int]:
    if len(fmt) < 16:
        raise CorruptAudioError("WAV fmt chunk is truncated")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == FORMAT_EXTENSIBLE:
        if len(fmt) < 40:
            raise CorruptAudioError("WAVE_FORMAT_EXTENSIBLE fmt chunk is truncated")
        tag = struct.unpack_from("<H", fmt, 24)[0]  # first two bytes of the SubFormat GUID
    if not 1 <= channels <= MAX_CHANNELS:
        raise CorruptAudioError(f"WAV claims {channels} channels")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise CorruptAudioError(f"WAV claims a sample rate of {rate} Hz")
    if not 1 <= bits <= MAX_BITS:
        raise CorruptAudioError(f"WAV claims {bits} bits per sample")
    if block_align != channels * ((bits + 7) // 8):
        raise CorruptAudioError(
            f"WAV block align {block_align} does not match {channels} channels of {bits} bits"
        )
    return tag, channels, rate, bits


def _samples(tag: int, bits: int, raw: bytes) -> np.ndarray:
    if tag == FORMAT_PCM and bits == 16:
        return np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    if tag == FORMAT_PCM and bits == 8:
        return (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    if tag == FORMAT_PCM and bits == 24:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        value = np.where(value & 0x800000, value - 0x1000000, value)
        return value.astype(np.float32) / 8388608.0
    if tag == FORMAT_PCM and bits == 32:
        return (np.frombuffer(raw, "<i4").astype(np.float64) / 2147483648.0).astype(np.float32)
    if tag == FORMAT_FLOAT and bits in (32, 64):
        values = np.frombuffer(raw, "<f4" if bits == 32 else "<f8").astype(np.float32)
        return np.clip(np.nan_to_num(values), -1.0, 1.0)
    if tag == FORMAT_MULAW and bits == 8:
        return MULAW[np.frombuffer(raw, np.uint8)]
    if tag == FORMAT_ALAW and bits == 8:
        return ALAW[np.frombuffer(raw, np.uint8)]
    raise UnsupportedAudioError(
        f"WAV encoding {tag:#06x} with {bits} bits is not supported "
        "(PCM, float, μ-law and A-law are)"
    )


def decode_wav(
    data: bytes, *, max_bytes: int = MAX_AUDIO_BYTES, max_seconds: float = MAX_AUDIO_SECONDS
) -> Audio:
    """Decode a WAV file into mono float32 samples; AudioError subclasses for bad input."""
    if len(data) > max_bytes:
        raise AudioTooLargeError(len(data), max_bytes)
    if not data:
        raise EmptyAudioError("no data")
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX") or data[8:12] != b"WAVE":
        raise NotAudioError("not a WAV file (no RIFF/WAVE header)")
    if data[:4] == b"RIFX":
        raise UnsupportedAudioError("big-endian WAV (RIFX) is not supported")
    fmt = raw = None
    truncated = False
    for cid, body, short in _chunks(data):
        if cid == b"fmt ":
            fmt = body
        elif cid == b"data":
            raw, truncated = body, short
            break
    if fmt is None:
        raise CorruptAudioError("WAV has no fmt chunk")
    tag, channels, rate, bits = _parse_fmt(fmt)
    if raw is None:
        raise CorruptAudioError("WAV has no data chunk")
    frame = channels * ((bits + 7) // 8)
    # A recording cut off mid-download keeps its whole frames; a lying header must not crash us.
    usable = len(raw) - len(raw) % frame
    if usable == 0:
        raise EmptyAudioError("WAV has no samples" + (" (truncated)" if truncated else ""))
    if usable / frame / rate > max_seconds:
        raise AudioTooLargeError(int(usable / frame / rate), int(max_seconds), "seconds")
    samples = _samples(tag, bits, raw[:usable])
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return Audio(np.ascontiguousarray(samples, dtype=np.float32), rate)


def resample(audio: Audio, rate: int) -> Audio:
    """Band-limited resampling to `rate` (soxr high quality)."""
    if audio.rate == rate:
        return audio
    out = soxr.resample(audio.samples, audio.rate, rate, quality="HQ")
    return Audio(np.ascontiguousarray(out, dtype=np.float32), rate)


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples -> little-endian 16-bit PCM bytes (clipped)."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def encode_wav(audio: Audio) -> bytes:
    """A mono 16-bit PCM WAV file of `audio`."""
    pcm = to_pcm16(audio.samples)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(pcm),
        b"WAVE",
        b"fmt ",
        16,
        FORMAT_PCM,
        1,
        audio.rate,
        audio.rate * 2,
        2,
        16,
        b"data",
        len(pcm),
    )
    return header + pcm


def normalize_loudness(audio: Audio, target_dbfs: float = -16.0, peak: float = 0.95) -> Audio:
    """Scale to a target RMS level (dBFS) without letting peaks clip: consistent prompts."""
    samples = audio.samples
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    if rms < 1e-6:
        return audio
    gain = 10 ** (target_dbfs / 20) / rms
    top = float(np.max(np.abs(samples)))
    gain = min(gain, peak / top) if top > 0 else gain
    return Audio((samples * gain).astype(np.float32), audio.rate)


def rms_dbfs(audio: Audio) -> float:
    """Loudness of the signal as RMS in dBFS (-inf for silence)."""
    rms = float(np.sqrt(np.mean(np.square(audio.samples, dtype=np.float64))))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def trim_silence(
    audio: Audio, threshold_dbfs: float = -45.0, pad_seconds: float = 0.05, frame_seconds=0.01
) -> Audio:
    """Drop leading and trailing silence (frames under `threshold_dbfs` below full scale).

    Prompts follow one another on a call: the engine's own lead-in and tail would add up
    to audible gaps. `pad_seconds` of the quiet is kept so no consonant is clipped.
    """
    samples = audio.samples
    frame = max(int(audio.rate * frame_seconds), 1)
    usable = len(samples) - len(samples) % frame
    if usable == 0:
        return audio
    frames = samples[:usable].reshape(-1, frame)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    loud = np.flatnonzero(rms > 10 ** (threshold_dbfs / 20))
    if len(loud) == 0:
        return audio
    pad = int(audio.rate * pad_seconds)
    start = max(loud[0] * frame - pad, 0)
    end = min((loud[-1] + 1) * frame + pad, len(samples))
    return Audio(np.ascontiguousarray(samples[start:end]), audio.rate)
