"""What the engine receives and says: the pronounce CLI, English switches, real audio, cache."""

from __future__ import annotations

import pytest
from conftest import TEST_API_TOKEN

from bench.speech_texts import spoken_texts
from speech import tts
from speech.audio import decode_wav
from speech.prompts import PART_GAP_SECONDS
from speech.pronounce import (
    ENGLISH_SWITCH,
    PINYIN_VOICE,
    Pronouncer,
    mandarin_voice,
    phonemes,
    split_languages,
)

HEALTH_DETAIL = {"Authorization": f"Bearer {TEST_API_TOKEN}"}  # /healthz detail

GREETING = "您好，欢迎致电12345政务服务便民热线。"
GREETING_PINYIN = (
    "nin2 hao3 huan1 ying2 zhi4 dian4 yao1 er4 san1 si4 wu3 zheng4 wu4 fu2 wu4 bian4 min2 re4 xian4"
)


@pytest.fixture(scope="module")
def synth():
    synthesizer = tts.Synthesizer()
    yield synthesizer
    synthesizer.close()


def test_pronounce_prints_one_line_of_syllables_per_text(app):
    result = app.test_cli_runner().invoke(args=["speech", "pronounce", GREETING, "尾号5678"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [GREETING_PINYIN, "wei3 hao4 wu3 liu4 qi1 ba1"]


def test_pronounce_file_one_text_a_line(app, tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text(f"{GREETING}\n调休\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["speech", "pronounce", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [GREETING_PINYIN, "tiao2 xiu1"]


def test_pronounce_phonemes_are_espeak_mnemonics_of_the_engine_input(app):
    result = app.test_cli_runner().invoke(args=["speech", "pronounce", "--phonemes", "你好"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines == [phonemes("ni3 hao3", PINYIN_VOICE)]
    assert lines[0].startswith("n'i35") and ENGLISH_SWITCH not in lines[0]  # 3-3 sandhi: 35


def test_pronounce_without_text_is_a_usage_error(app):
    result = app.test_cli_runner().invoke(args=["speech", "pronounce"])
    assert result.exit_code == 2 and "--file" in result.output


def test_broken_lexicon_is_reported_with_its_line_not_a_traceback(make_app, tmp_path):
    path = tmp_path / "lexicon.yaml"
    path.write_text("调休: tiao2 xiu1\n还款: huan2\n", encoding="utf-8")
    app = make_app(SPEECH_LEXICON=str(path))
    result = app.test_cli_runner().invoke(args=["speech", "pronounce", "还款"])
    assert result.exit_code == 1
    assert "lexicon.yaml:2: 还款: 2 character(s) but 1 syllable(s)" in result.output
    assert "Traceback" not in result.output


def test_every_shipped_prompt_reaches_the_engine_without_a_language_switch():
    pronouncer = Pronouncer()
    texts = [t.text for t in spoken_texts()]
    sources = {t.source for t in spoken_texts()}
    assert {"flows.yaml", "tickets/data/kb.yaml"} <= sources and len(texts) > 50
    switched = [t for t in texts if ENGLISH_SWITCH in phonemes(pronouncer.engine_text(t))]
    assert switched == []
    # The route this replaces: characters through the cmn voice switch to English.
    assert ENGLISH_SWITCH in phonemes(GREETING, "cmn")


def test_mandarin_voice_names_map_to_the_pinyin_voice():
    assert mandarin_voice("cmn") == PINYIN_VOICE
    assert mandarin_voice("cmn+f2") == PINYIN_VOICE + "+f2"
    assert mandarin_voice("yue") == "yue"


def test_real_wav_has_a_plausible_duration_for_its_syllables(make_app, synth, tmp_path):
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"))
    prompts = app.extensions["speech_prompts"]
    prompts._synth = synth
    key = prompts.ensure(GREETING, "zh-CN")
    audio = decode_wav(prompts.cache.get(key).read_bytes())
    syllables = len(GREETING_PINYIN.split())
    assert audio.rate == 8000
    # A Mandarin speaker says 3-6 syllables a second; espeak-ng at rate 165 about 3.5.
    assert 2.5 <= syllables / audio.duration <= 6.0
    # Trimmed: the first and last 50 ms are not silence padding of the engine.
    edge = int(0.1 * audio.rate)
    assert abs(audio.samples[:edge]).max() > 0.01 and abs(audio.samples[-edge:]).max() > 0.01


def test_lexicon_edit_renders_the_prompts_it_affects_again(make_app, synth, tmp_path):
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("调休: tiao2 xiu1\n", encoding="utf-8")
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"), SPEECH_LEXICON=str(lexicon))
    prompts = app.extensions["speech_prompts"]
    prompts._synth = synth
    affected, other = "春节调休安排已经公布。", "请稍候。"
    first, untouched = prompts.ensure(affected, "zh-CN"), prompts.ensure(other, "zh-CN")
    old_audio = prompts.cache.get(first).read_bytes()

    lexicon.write_text("调休: diao4 xiu1\n", encoding="utf-8")  # a new reading
    second = prompts.ensure(affected, "zh-CN")
    assert second != first and prompts.cache.get(second) is not None
    assert prompts.cache.get(second).read_bytes() != old_audio
    assert prompts.ensure(other, "zh-CN") == untouched  # prompts without the word keep their audio
    assert prompts.pronouncer.read(affected).pinyin[2:4] == ["diao4", "xiu1"]


def test_broken_lexicon_edit_keeps_the_last_good_one(make_app, tmp_path, caplog):
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("调休: tiao2 xiu1\n", encoding="utf-8")
    app = make_app(SPEECH_LEXICON=str(lexicon))
    pronouncer = app.extensions["speech_prompts"].pronouncer
    assert pronouncer.read("调休").pinyin == ["tiao2", "xiu1"]
    lexicon.write_text("调休: tiao2\n", encoding="utf-8")
    assert pronouncer.read("调休").pinyin == ["tiao2", "xiu1"]
    assert "lexicon.yaml:1:" in str(pronouncer.error)
    assert "pronunciation lexicon not used: lexicon.yaml:1:" in caplog.text


def test_health_shows_the_lexicon_and_its_error(make_app, tmp_path):
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("调休: tiao2 xiu1\n", encoding="utf-8")
    app = make_app(SPEECH_LEXICON=str(lexicon))
    speech = app.test_client().get("/healthz", headers=HEALTH_DETAIL).get_json()["checks"]["speech"]
    assert speech["lexicon"] == "1 entries"
    lexicon.write_text("调休: tiao2 xiu1\n还款: huan2\n", encoding="utf-8")
    speech = app.test_client().get("/healthz", headers=HEALTH_DETAIL).get_json()["checks"]["speech"]
    assert (
        speech["lexicon"].startswith("lexicon.yaml:2: 还款") and "last good: 1" in speech["lexicon"]
    )


MIXED = "咨询请按1，投诉请按2。For English, press 8."


def test_english_sentence_in_a_mandarin_prompt_goes_to_the_english_voice():
    assert split_languages(MIXED) == [
        ("zh", "咨询请按1，投诉请按2。"),
        ("en", "For English, press 8."),
    ]
    assert split_languages("请下载APP办理") == [("zh", "请下载APP办理")]  # an acronym is spelled
    parts = Pronouncer().parts(MIXED)
    assert [p.language for p in parts] == ["zh", "en"]
    assert parts[1].text == "For English, press 8."
    assert ENGLISH_SWITCH not in phonemes(parts[0].text)


def test_pronounce_shows_the_english_words_of_a_mixed_prompt(app):
    result = app.test_cli_runner().invoke(args=["speech", "pronounce", MIXED])
    assert result.output.splitlines() == [
        "zi1 xun2 qing3 an4 yi1 tou2 su4 qing3 an4 er4 For English press 8"
    ]


def test_mixed_prompt_is_one_wav_with_both_voices(make_app, synth, tmp_path):
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"))
    prompts = app.extensions["speech_prompts"]
    prompts._synth = synth
    mixed = decode_wav(prompts.cache.get(prompts.ensure(MIXED, "zh-CN")).read_bytes())
    mandarin = decode_wav(
        prompts.cache.get(prompts.ensure("咨询请按1，投诉请按2。", "zh-CN")).read_bytes()
    )
    english = decode_wav(synth.synthesize("For English, press 8.", tts.Voice("en-us", 165)))
    assert mixed.rate == 8000
    expected = mandarin.duration + PART_GAP_SECONDS + english.duration
    assert mixed.duration == pytest.approx(expected, abs=0.05)


def test_warm_up_loads_the_converter_in_the_background(app):
    prompts = app.extensions["speech_prompts"]
    thread = prompts.warm_up()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert prompts.pronouncer.engine_text("您好") == "nin2 hao3"
