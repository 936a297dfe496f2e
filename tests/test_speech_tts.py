"""The pyttsx3 wrapper on the real espeak-ng engine: format, loudness, hangs, round trip to Vosk."""

from __future__ import annotations

import os
import signal
import struct

import pytest
from speech_support import korean_model

from speech import asr, tts
from speech.audio import Audio, decode_wav, encode_wav, rms_dbfs
from speech.errors import SynthesisError

ZH = tts.Voice("cmn", 165)
LONG_ZH = (
    "您好，欢迎致电12345政务服务便民热线。咨询供暖问题请说供暖或者暖气，"
    "查询工单进度请按2，其他问题请按0转人工服务。"
)


@pytest.fixture(scope="module")
def synth():
    synthesizer = tts.Synthesizer(timeout=5)
    yield synthesizer
    synthesizer.close()


def _header(wav: bytes) -> tuple:
    return struct.unpack_from("<HHIIHH", wav, 20)


def test_long_first_text_twilio_format_and_even_loudness():
    fresh = tts.Synthesizer()
    try:
        # The first utterance of a new engine is long: the pyttsx3 2.99 trap.
        long_wav = fresh.synthesize(LONG_ZH, ZH)
        short_wav = fresh.synthesize("您的工单号是 2 0 2 6 1 1 2 6", ZH)
    finally:
        fresh.close()
    for wav in (long_wav, short_wav):
        assert _header(wav) == (1, 1, 8000, 16000, 2, 16)  # PCM, mono, 8 kHz, 16-bit
        assert rms_dbfs(decode_wav(wav)) == pytest.approx(tts.LOUDNESS_DBFS, abs=1.0)
    long_audio, short_audio = decode_wav(long_wav), decode_wav(short_wav)
    assert long_audio.duration > 3 * short_audio.duration > 3


def test_hung_engine_is_killed_and_replaced(synth):
    synth.synthesize("你好", ZH)
    pid = synth._process.pid
    os.kill(pid, signal.SIGSTOP)  # a real hang: the engine stops answering
    restarts = synth.restarts
    wav = synth.synthesize("谢谢您的来电", ZH)
    assert decode_wav(wav).duration > 0.5
    assert synth.restarts == restarts + 1 and synth._process.pid != pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the hung process is gone, not leaked


def test_a_wait_bounds_the_engines_answer_too(synth):
    """A webhook's wait covers a hung engine's answer: it gets SynthesisTimeout, not audio
    after the engine's own timeout and a restart; the hung engine is gone."""
    synth.synthesize("你好", ZH)
    pid = synth._process.pid
    os.kill(pid, signal.SIGSTOP)
    with pytest.raises(tts.SynthesisTimeout):
        synth.synthesize("谢谢您的来电", ZH, wait=0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert decode_wav(synth.synthesize("再见", ZH)).duration > 0.3  # a fresh engine


def test_dead_engine_is_restarted(synth):
    synth.synthesize("你好", ZH)
    synth._process.kill()
    synth._process.wait()
    assert decode_wav(synth.synthesize("再见", ZH)).duration > 0.3


def test_engine_busy_beyond_wait_budget(synth):
    synth._lock.acquire()
    try:
        with pytest.raises(tts.SynthesisTimeout, match="busy"):
            synth.synthesize("你好", ZH, wait=0.1)
    finally:
        synth._lock.release()


def test_bad_requests_are_errors(synth):
    with pytest.raises(SynthesisError, match="nothing to say"):
        synth.synthesize(" 。，", ZH)
    with pytest.raises(SynthesisError, match="longer than"):
        synth.synthesize("好" * (tts.MAX_TEXT_CHARS + 1), ZH)
    with pytest.raises(SynthesisError, match="no espeak-ng voice"):
        synth.synthesize("你好", tts.Voice("no-such-voice", 160))


def test_output_checks(tmp_path):
    import numpy as np

    path = tmp_path / "x.wav"
    with pytest.raises(SynthesisError, match="no audio"):
        tts.check_output(path, "你好")
    path.write_bytes(encode_wav(Audio(np.full(800, 0.3, np.float32), 8000)))  # 0.1 s
    with pytest.raises(SynthesisError, match="implausible duration"):
        tts.check_output(path, LONG_ZH)
    path.write_bytes(encode_wav(Audio(np.zeros(16000, np.float32), 8000)))
    with pytest.raises(SynthesisError, match="silence"):
        tts.check_output(path, "你好")
    path.write_bytes(b"RIFF\x40\x00\x00\x00WAVE" + b"junk" * 20)
    with pytest.raises(SynthesisError, match="unusable"):
        tts.check_output(path, "你好")


PHRASES = [
    "지하철 소음",
    "버스 주차",
    "병원 학교",
    "쓰레기 난방",
    "학교 버스",
    "소음 병원",
    "난방 지하철",
    "주차 쓰레기",
]
WORDS = ["난방", "소음", "주차", "버스", "지하철", "병원", "학교", "쓰레기"]


def test_pyttsx3_to_vosk_round_trip(synth):
    """What the wrapper says in Korean, the real decoder hears (restricted to the phrase set)."""
    model = korean_model()
    voice = tts.Voice("ko+f2", 150)
    heard = []
    for phrase in PHRASES:
        wav = synth.synthesize(phrase, voice, rate=model.rate)
        heard.append(asr.recognize_grammar(model, decode_wav(wav), PHRASES)[0])
    right = sum(h == p for h, p in zip(heard, PHRASES, strict=True))
    words_right = sum(
        w in (h or "").split() for p, h in zip(PHRASES, heard, strict=True) for w in p.split()
    )
    print(f"round trip: {right}/{len(PHRASES)} phrases, {words_right}/{2 * len(PHRASES)} words")
    assert right / len(PHRASES) > 0.5, list(zip(PHRASES, heard, strict=True))


def test_pyttsx3_grammar_keywords(synth):
    """Single keywords said by the wrapper, picked out of eight by grammar recognition."""
    model = korean_model()
    heard = [
        asr.recognize_grammar(
            model, decode_wav(synth.synthesize(w, tts.Voice("ko+f2", 150), rate=model.rate)), WORDS
        )[0]
        for w in WORDS
    ]
    right = sum(h == w for h, w in zip(heard, WORDS, strict=True))
    print(f"pyttsx3 keywords: {right}/{len(WORDS)}")
    assert right / len(WORDS) > 0.5
