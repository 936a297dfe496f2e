"""Grapheme to pinyin in context: library, lexicon (which wins), particles, sandhi."""

from __future__ import annotations

import pytest

from speech import lexicon as lex
from speech.pinyin import read, to_pinyin

EMPTY = lex.Lexicon({})


@pytest.fixture(scope="module")
def shipped():
    return lex.load()


def test_library_phrase_data_reads_words_in_context(shipped):
    assert to_pinyin("银行", EMPTY) == ["yin2", "hang2"]
    assert to_pinyin("重新办理", EMPTY) == ["chong2", "xin1", "ban4", "li3"]


def test_lexicon_entry_wins_over_the_library():
    assert to_pinyin("调休", EMPTY) != ["tiao2", "xiu1"]  # pypinyin alone says diao4
    mine = lex.parse("调休: tiao2 xiu1\n")
    assert to_pinyin("春节调休安排", mine)[:2] == ["chun1", "jie2"]
    assert to_pinyin("春节调休安排", mine)[2:4] == ["tiao2", "xiu1"]
    silly = lex.parse("银行: yin2 xing2\n")  # even against the phrase dictionary
    assert to_pinyin("银行", silly) == ["yin2", "xing2"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("调休", "tiao2 xiu1"),
        ("还款", "huan2 kuan3"),
        ("重听", "chong2 ting1"),
        ("要求", "yao1 qiu2"),
        ("不应", "bu4 ying1"),
        ("东营", "dong1 ying2"),
        ("垦利", "ken3 li4"),
        ("利津", "li4 jin1"),
        ("广饶", "guang3 rao2"),
        ("河口", "he2 kou3"),
    ],
)
def test_shipped_lexicon_words(shipped, text, expected):
    assert " ".join(to_pinyin(text, shipped)) == expected


@pytest.mark.parametrize(
    ("text", "syllable", "expected"),
    [
        ("项目的进度", 2, "de5"),
        ("我们会认真地处理", 5, "de5"),
        ("这件事办得很好", 4, "de5"),
        ("问题已经解决了", 6, "le5"),
        ("请您稍等着", 4, "zhe5"),
        ("土地", 1, "di4"),
        ("目的", 1, "di4"),
        ("了解情况", 0, "liao3"),
        ("还有其他问题", 0, "hai2"),
        ("按时还钱", 2, "huan2"),
        ("等待时间很长", 5, "chang2"),
        ("服务时间为工作日", 4, "wei2"),
        ("我们为群众办实事", 2, "wei4"),
    ],
)
def test_context_rules(shipped, text, syllable, expected):
    assert to_pinyin(text, shipped)[syllable] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一个", ["yi2", "ge4"]),
        ("一天", ["yi4", "tian1"]),
        ("一年", ["yi4", "nian2"]),
        ("一起", ["yi4", "qi3"]),
        ("第一", ["di4", "yi1"]),
        ("十一月", ["shi2", "yi1", "yue4"]),
        ("统一", ["tong3", "yi1"]),
        ("满意请按1", ["man3", "yi4", "qing3", "an4", "yi1"]),
        ("不是", ["bu2", "shi4"]),
        ("不满意", ["bu4", "man3", "yi4"]),
        ("不能", ["bu4", "neng2"]),
    ],
)
def test_yi_and_bu_sandhi(shipped, text, expected):
    assert to_pinyin(text, shipped) == expected


def test_third_tone_is_left_to_the_engine(shipped):
    # espeak-ng's cmn-latn-pinyin applies 3-3 sandhi itself: the text keeps tone 3.
    assert to_pinyin("你好", shipped) == ["ni3", "hao3"]


def test_numbers_are_read_as_normalised(shipped):
    assert to_pinyin("拨打12345", shipped) == ["bo1", "da3", "yao1", "er4", "san1", "si4", "wu3"]
    assert to_pinyin("22元", shipped) == ["er4", "shi2", "er4", "yuan2"]


def test_umlaut_is_written_v(shipped):
    assert to_pinyin("绿色出行，女士", shipped)[0] == "lv4"
    assert "nv3" in to_pinyin("绿色出行，女士", shipped)


def test_engine_text_keeps_pauses_and_only_ascii(shipped):
    reading = read("您好，请稍候。有问题吗？", shipped)
    assert reading.engine_text == "nin2 hao3, qing3 shao1 hou4. you3 wen4 ti2 ma5?"
    assert reading.engine_text.isascii()


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "ABC", "——", "x" * 5000, "\x00\x07"])
def test_any_text_reads_without_error(shipped, text):
    reading = read(text, shipped)
    assert reading.engine_text.isascii()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("看不清楚", "kan4 bu4 qing1 chu5"),  # a words.yaml word inside a longer jieba word
        ("谢谢你们", "xie4 xie5 ni3 men5"),
        ("什么时候", "shen2 me5 shi2 hou5"),
        ("这个地方", "zhe4 ge5 di4 fang5"),  # a place
        ("地方政府", "di4 fang1 zheng4 fu3"),  # local
        ("这个问题得找开发商", "zhe4 ge5 wen4 ti2 dei3 zhao3 kai1 fa1 shang1"),
        ("他们被评为先进", "ta1 men5 bei4 ping2 wei2 xian1 jin4"),
        ("我想问问", "wo3 xiang3 wen4 wen5"),
        ("他种了树", "ta1 zhong4 le5 shu4"),
        ("请量一下", "qing3 liang2 yi2 xia4"),
    ],
)
def test_neutral_tones_and_verb_readings(shipped, text, expected):
    assert " ".join(to_pinyin(text, shipped)) == expected
