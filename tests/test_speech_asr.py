"""The real Vosk decoder on the real Korean model, on Korean speech made here with espeak-ng."""

from __future__ import annotations

import threading

import pytest
from conftest import TEST_API_TOKEN
from speech_support import espeak_wav, korean_model, korean_model_path

from speech import asr
from speech.audio import decode_wav
from speech.errors import ModelBrokenError, ModelMissingError

HEALTH_DETAIL = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz detail

# Hotline-like topics (heating, noise, parking, bus, subway, hospital, school, garbage).
KEYWORDS = ["난방", "소음", "주차", "버스", "지하철", "병원", "학교", "쓰레기"]
# Two espeak-ng Korean voices; the default male voice is the least natural of the lot.
VOICES = ["ko+f2", "ko+f3"]


@pytest.fixture(scope="module")
def model():
    return korean_model()


def test_one_model_per_process_shared_by_threads(model):
    got = []
    threads = [
        threading.Thread(target=lambda: got.append(asr.holder(korean_model_path()).get()))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(m is model.get() for m in got)
    assert model.status == "loaded" and model.rate == 16000


def test_grammar_picks_the_word_said_out_of_eight(model):
    results = []
    for voice in VOICES:
        for word in KEYWORDS:
            heard, confidence = asr.recognize_grammar(
                model, decode_wav(espeak_wav(word, voice)), KEYWORDS
            )
            results.append((word, heard, confidence))
    right = sum(word == heard for word, heard, _ in results)
    print(f"grammar: {right}/{len(results)} right out of {len(KEYWORDS)} candidates")
    assert len(results) >= 12 and right / len(results) >= 0.6, results
    assert all(0 < conf <= 1 for word, heard, conf in results if heard)


def test_unknown_keywords_are_skipped_and_compounds_split(model):
    assert asr.grammar_phrase(model, "지하철소음") == "지하철 소음"
    assert asr.grammar_phrase(model, "qqzx") is None
    speech = decode_wav(espeak_wav("병원", "ko+f2"))
    assert asr.recognize_grammar(model, speech, ["qqzx", "병원", "학교"])[0] == "병원"
    assert asr.recognize_grammar(model, speech, ["qqzx"]) == (None, 0.0)


def test_transcription_has_word_timings_and_confidence(model):
    speech = decode_wav(espeak_wav("오늘 지하철 소음 문제로 전화했습니다", "ko+f2"))
    transcript = asr.transcribe(model, speech)
    assert transcript.words and transcript.text
    assert transcript.text == " ".join(w.word for w in transcript.words)
    assert transcript.duration == pytest.approx(speech.duration, abs=0.01)
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert all(0 <= w.start < w.end <= speech.duration + 0.1 for w in transcript.words)
    assert all(0 < w.conf <= 1 for w in transcript.words)
    assert 0 < transcript.confidence <= 1
    assert transcript.words_json()[0].keys() == {"word", "start", "end", "conf"}


def test_silence_gives_an_empty_transcript(model):
    import numpy as np

    from speech.audio import Audio

    transcript = asr.transcribe(model, Audio(np.zeros(16000, np.float32), 16000))
    assert (transcript.text, transcript.confidence, transcript.words) == ("", None, [])


def test_join_words_keeps_chinese_together():
    assert asr.join_words(["我", "要", "投诉", "噪音"]) == "我要投诉噪音"
    assert asr.join_words(["오늘", "소음"]) == "오늘 소음"
    assert asr.join_words(["打", "12345", "热线"]) == "打 12345 热线"


def _linked_copy(tmp_path):
    """A model directory of symlinks: same files, a path no holder has seen."""
    target = tmp_path / "model"
    target.mkdir()
    for part in korean_model_path().iterdir():
        (target / part.name).symlink_to(part)
    return target


def test_status_from_files_without_loading(tmp_path, make_app):
    assert asr.files_status(tmp_path / "none")[0] == "missing"
    copy = _linked_copy(tmp_path)
    assert asr.files_status(copy) == ("present", str(copy))
    app = make_app(VOSK_MODEL_PATH=str(copy))
    body = app.test_client().get("/healthz", headers=HEALTH_DETAIL).get_json()["checks"]["speech"]
    assert body["model"] == "present" and body["ok"]
    assert str(copy.resolve()) not in asr._holders  # the web process did not load it
    (copy / "am").unlink()
    assert asr.files_status(copy) == ("broken", "missing am/final.mdl")
    body = app.test_client().get("/healthz", headers=HEALTH_DETAIL).get_json()["checks"]["speech"]
    assert (body["model"], body["ok"]) == ("broken", False)


def test_missing_and_broken_models_raise_clear_errors(tmp_path):
    with pytest.raises(ModelMissingError, match="flask speech download-model"):
        asr.ModelHolder(tmp_path / "none").get()
    broken = tmp_path / "broken"
    for name in ("am/final.mdl", "conf/model.conf", "graph/HCLG.fst"):
        (broken / name).parent.mkdir(parents=True, exist_ok=True)
        (broken / name).write_bytes(b"not a kaldi file")
    holder = asr.ModelHolder(broken)
    assert holder.status == "present"
    with pytest.raises(ModelBrokenError):
        holder.get()
    assert holder.status == "broken"
