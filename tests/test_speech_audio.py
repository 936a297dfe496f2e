"""WAV decoding of real files written by sox, resampling with soxr, clear errors."""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from speech import audio
from speech.errors import (
    AudioTooLargeError,
    CorruptAudioError,
    EmptyAudioError,
    NotAudioError,
    UnsupportedAudioError,
)


def sox_wav(*fmt: str, seconds: float = 0.5, freq: int = 440, channels: int = 1) -> bytes:
    # Through a file, not stdout: sox can only write a correct header where it can seek.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tone.wav"
        subprocess.run(
            [
                "sox",
                "-n",
                "-c",
                str(channels),
                *fmt,
                str(path),
                "synth",
                str(seconds),
                "sine",
                str(freq),
                "vol",
                "0.5",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return path.read_bytes()


@pytest.mark.parametrize(
    "fmt",
    [
        ("-r", "8000", "-e", "signed", "-b", "16"),
        ("-r", "8000", "-e", "mu-law", "-b", "8"),
        ("-r", "8000", "-e", "a-law", "-b", "8"),
        ("-r", "44100", "-e", "signed", "-b", "24"),
        ("-r", "16000", "-e", "float", "-b", "32"),
        ("-r", "22050", "-e", "unsigned", "-b", "8"),
    ],
)
def test_decodes_every_telephone_encoding_to_the_same_tone(fmt):
    decoded = audio.decode_wav(sox_wav(*fmt))
    assert decoded.rate == int(fmt[1])
    assert decoded.duration == pytest.approx(0.5, abs=0.01)
    # A 440 Hz tone at half scale: peak ~0.5 and the spectrum's maximum at 440 Hz.
    assert float(np.max(np.abs(decoded.samples))) == pytest.approx(0.5, abs=0.03)
    spectrum = np.abs(np.fft.rfft(decoded.samples))
    peak_hz = np.argmax(spectrum) * decoded.rate / len(decoded.samples)
    assert peak_hz == pytest.approx(440, abs=4)


def test_mulaw_matches_sox_exactly():
    mulaw = sox_wav("-r", "8000", "-e", "mu-law", "-b", "8")
    pcm = subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "wav", "-e", "signed", "-b", "16", "-"],
        input=mulaw,
        check=True,
        capture_output=True,
    ).stdout
    np.testing.assert_array_equal(audio.decode_wav(mulaw).samples, audio.decode_wav(pcm).samples)


def test_stereo_is_mixed_to_mono():
    stereo = audio.decode_wav(sox_wav("-r", "8000", "-b", "16", channels=2))
    assert stereo.samples.ndim == 1 and stereo.duration == pytest.approx(0.5, abs=0.01)


def test_resampling_is_band_limited_not_sample_dropping():
    tone = audio.decode_wav(sox_wav("-r", "8000", "-b", "16", freq=1000, seconds=1))
    up = audio.resample(tone, 16000)
    assert up.rate == 16000 and len(up.samples) == 16000
    spectrum = np.abs(np.fft.rfft(up.samples))
    assert np.argmax(spectrum) == pytest.approx(1000, abs=2)  # 1 Hz bins
    # Nothing above the original Nyquist (4 kHz): an image at 7 kHz would betray zero-stuffing.
    assert spectrum[4100:].max() < spectrum.max() * 1e-3
    # A 6 kHz tone at 48 kHz resampled to 8 kHz must be filtered out, not aliased to 2 kHz.
    high = audio.decode_wav(sox_wav("-r", "48000", "-b", "16", freq=6000, seconds=1))
    assert np.max(np.abs(audio.resample(high, 8000).samples[100:-100])) < 0.01  # edges ring


def test_round_trip_and_loudness():
    tone = audio.decode_wav(sox_wav("-r", "8000", "-b", "16"))
    again = audio.decode_wav(audio.encode_wav(tone))
    np.testing.assert_allclose(again.samples, tone.samples, atol=1 / 16384)
    quiet = audio.Audio(tone.samples * 0.05, tone.rate)
    assert audio.rms_dbfs(audio.normalize_loudness(quiet)) == pytest.approx(-16, abs=0.1)


@pytest.mark.parametrize(
    "data, error, message",
    [
        (b"", EmptyAudioError, "no data"),
        (b"<html>Not Found</html>", NotAudioError, "not a WAV"),
        (b"RIFF\x24\x00\x00\x00WAVEjunk\x00\x00\x00\x00", CorruptAudioError, "no fmt chunk"),
        (b"RIFX" + b"\x00" * 4 + b"WAVE", UnsupportedAudioError, "big-endian"),
    ],
)
def test_bad_input_gets_a_clear_error(data, error, message):
    with pytest.raises(error, match=message):
        audio.decode_wav(data)


def test_corrupt_headers_and_truncation():
    good = sox_wav("-r", "8000", "-b", "16")
    # Truncated mid-download: whole frames are kept.
    assert audio.decode_wav(good[:-101]).duration == pytest.approx(0.5 - 50 / 8000, abs=1e-3)
    header_only = good[:44]
    with pytest.raises(EmptyAudioError):
        audio.decode_wav(header_only)
    bad_rate = good[:24] + struct.pack("<I", 3) + good[28:]
    with pytest.raises(CorruptAudioError, match="sample rate of 3 Hz"):
        audio.decode_wav(bad_rate)
    adpcm = good[:20] + struct.pack("<H", 2) + good[22:]
    with pytest.raises(UnsupportedAudioError, match="0x0002"):
        audio.decode_wav(adpcm)


def test_size_limits():
    tone = sox_wav("-r", "8000", "-b", "16", seconds=2)
    with pytest.raises(AudioTooLargeError, match="bytes"):
        audio.decode_wav(tone, max_bytes=1000)
    with pytest.raises(AudioTooLargeError, match="seconds") as info:
        audio.decode_wav(tone, max_seconds=1)
    assert (info.value.size, info.value.limit) == (2, 1)
