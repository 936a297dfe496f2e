"""The office lexicon file: shipped entries valid, every mistake reported with its line."""

from __future__ import annotations

import pytest

from speech import lexicon as lex


def test_shipped_lexicon_loads_and_has_the_hotline_words():
    entries = lex.load().entries
    for word in ("调休", "还款", "重听", "要求", "不应", "东营", "垦利", "利津", "广饶", "河口"):
        assert word in entries


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "调休: tiao2 xiu1\n还款: huan2\n",
            "lexicon.yaml:2: 还款: 2 character(s) but 1 syllable(s)",
        ),
        ("# c\n调休: tiao2 xiu\n", "lexicon.yaml:2: 调休: 'xiu' needs a tone number 1-5"),
        ("调休: tiao2 xyz1\n", "lexicon.yaml:1: 调休: 'xyz1' is not a Mandarin syllable"),
        ("调休: tiao2 xiu1\n调休: tiao2 xiu1\n", "lexicon.yaml:2: found duplicate key"),
        ("ab: a1 b1\n", "lexicon.yaml:1: 'ab': a word is written in Chinese characters only"),
        ("调休: [tiao2]\n", "lexicon.yaml:1: 调休: the reading must be text"),
        ("调休: &a tiao2 xiu1\n还款: *a\n", "lexicon.yaml:1: anchor '&a' not allowed"),
        ("调休: !!python/name:os.system x\n", "lexicon.yaml:1: tag '!!python/name:os.system'"),
        ("- 调休\n", "lexicon.yaml:1: expected a mapping of word: pinyin"),
        ("调休: 'tiao2\n", "lexicon.yaml:"),
    ],
)
def test_malformed_lexicon_says_file_line_and_what(text, message):
    with pytest.raises(lex.LexiconError) as info:
        lex.parse(text)
    assert str(info.value).startswith(message)


def test_too_large_file_is_refused():
    with pytest.raises(lex.LexiconError, match="at most"):
        lex.parse("# " + "x" * 300 * 1024)


def test_reading_accepts_u_umlaut_and_capitals():
    assert lex.parse("绿色: LÜ4 se4\n").entries["绿色"] == ("lv4", "se4")


def test_reload_after_edit(tmp_path):
    path = tmp_path / "lexicon.yaml"
    path.write_text("调休: tiao2 xiu1\n", encoding="utf-8")
    first = lex.load(path)
    path.write_text("调休: tiao2 xiu1\n还款: huan2 kuan3\n", encoding="utf-8")
    assert "还款" in lex.load(path).entries and "还款" not in first.entries
