"""Chinese text to the tone-numbered pinyin the engine says, decided in context.

Pipeline: speech.normalize writes numbers and symbols in words; the office
lexicon claims its words first (longest match: an entry always wins); jieba
segments the rest and tags parts of speech; a word of words.yaml (everyday words
with a neutral tone: 时候 shi2 hou5) takes that reading, any other word pypinyin's
with its phrase dictionary; speech.context settles what a dictionary cannot
(的/地/得/了/着 as particles, 还, 长, 为, 儿化) and changes the tone of 一 and 不
before the next syllable. Third-tone sandhi is left to espeak-ng,
which applies it itself, so the syllables keep their dictionary tone 3.

Syllables are ASCII: letters, a tone digit 1-5 (5 neutral), ü as v.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from speech import context
from speech import normalize as norm
from speech.context import Syllable
from speech.lexicon import Lexicon
from speech.lexicon import load as load_lexicon

WORDS_PATH = Path(__file__).with_name("words.yaml")

log = logging.getLogger(__name__)

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Pause marks and the punctuation espeak-ng turns into the same pause.
PAUSES = {"、": ",", "，": ",", "；": ",", "：": ",", "。": ".", "！": ".", "？": "?"}


@dataclass
class Reading:
    """The result for one text: syllables and the engine's input."""

    text: str
    spoken: str  # after normalisation
    syllables: list[Syllable] = field(default_factory=list)

    @property
    def pinyin(self) -> list[str]:
        return [s.pinyin for s in self.syllables if s.source != "pause"]

    @property
    def engine_text(self) -> str:
        """What espeak-ng's cmn-latn-pinyin voice receives: syllables and pause marks."""
        out: list[str] = []
        for s in self.syllables:
            if s.source == "pause":
                if out and out[-1][-1] not in ",.?":
                    out[-1] += s.pinyin
            else:
                out.append(s.pinyin)
        return " ".join(out)


@functools.cache
def _tokenizer():
    """jieba's shared part-of-speech tokenizer (one dictionary in memory for the process;
    nothing here adds words to it: the lexicon is matched before jieba sees the text)."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg.dt


_tokenizer_lock = threading.Lock()  # jieba's lazy structures are not thread-safe


def _tag(word: str) -> str:
    """jieba's part of speech of a whole word (lexicon words: the neighbours' rules use it)."""
    with _tokenizer_lock:
        return _tokenizer().word_tag_tab.get(word, "n")


def _segment(text: str) -> list[tuple[str, str]]:
    with _tokenizer_lock:
        return [(w.word, w.flag) for w in _tokenizer().cut(text, HMM=False)]


@functools.cache
def _words() -> Lexicon:
    """Shipped readings of everyday words the library lacks (mostly neutral tones)."""
    return load_lexicon(WORDS_PATH)


def _library(word: str) -> tuple[list[str], str]:
    """pypinyin's reading of one word and whether its phrase data decided it."""
    from pypinyin import Style, lazy_pinyin
    from pypinyin.constants import PHRASES_DICT

    syllables = lazy_pinyin(
        word, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda chars: [""] * len(chars)
    )
    source = "phrase" if len(word) > 1 and word in PHRASES_DICT else "char"
    if len(word) > 1 and source == "char":
        # Several characters pypinyin did not know as one phrase: still "phrase" if it read
        # every polyphone inside from a shorter phrase of its dictionary.
        source = "phrase" if not any(_polyphonic(c) for c in word) else "word"
    return [s.replace("ü", "v") for s in syllables], source


@functools.cache
def _polyphonic(char: str) -> bool:
    from pypinyin.constants import PINYIN_DICT

    return "," in PINYIN_DICT.get(ord(char), "")


def _lexicon_spans(text: str, lexicon: Lexicon) -> list[tuple[str, bool]]:
    """Split `text` into (span, is_lexicon_word) by longest match of lexicon words."""
    spans: list[tuple[str, bool]] = []
    longest, i, plain = lexicon.longest, 0, ""
    while i < len(text):
        for n in range(min(longest, len(text) - i), 0, -1):
            if text[i : i + n] in lexicon.entries:
                if plain:
                    spans.append((plain, False))
                    plain = ""
                spans.append((text[i : i + n], True))
                i += n
                break
        else:
            plain += text[i]
            i += 1
    if plain:
        spans.append((plain, False))
    return spans


def _read_words(text: str, lexicon: Lexicon) -> list[list[Syllable]]:
    words: list[list[Syllable]] = []
    for span, known in _lexicon_spans(text, lexicon):
        if known:
            pos = _tag(span)
            words.append(
                [
                    Syllable(c, p, "lexicon", span, pos)
                    for c, p in zip(span, lexicon.entries[span], strict=True)
                ]
            )
            continue
        for word, pos in _segment(span):
            if word in PAUSES:
                words.append([Syllable(word, PAUSES[word], "pause", word, pos)])
                continue
            chars = [c for c in word if HAN_RE.match(c)]
            if not chars:
                continue  # spaces and anything normalisation left without a sound
            word = "".join(chars)
            if word in _words().entries:
                readings = _words().entries[word]
                words.append(
                    [
                        Syllable(c, r, "words", word, pos)
                        for c, r in zip(word, readings, strict=True)
                    ]
                )
                continue
            syllables, source = _library(word)
            if len(syllables) != len(word):  # never seen; read character by character then
                syllables, source = [_library(c)[0][0] for c in word], "char"
            words.append(
                [
                    Syllable(c, p, source, word, pos)
                    for c, p in zip(word, syllables, strict=True)
                    if p
                ]
            )
    return [w for w in words if w]


# -- context rules: each looks at one single-character word and its neighbours --------------


def read(text: str, lexicon: Lexicon) -> Reading:
    """The full reading of `text`: normalised words, syllables with their sources."""
    spoken = norm.normalize(text.strip())
    words = _read_words(spoken, lexicon)
    context.apply(words, _words())
    syllables = [s for w in words for s in w]
    context.sandhi(syllables)
    return Reading(text, spoken, syllables)


def to_pinyin(text: str, lexicon: Lexicon) -> list[str]:
    """Tone-numbered syllables of `text`, punctuation omitted: ['nin2', 'hao3', ...]."""
    return read(text, lexicon).pinyin
