"""Chinese text to the tone-numbered pinyin the engine says, decided in context.

Pipeline: speech.normalize writes numbers and symbols in words; the office
lexicon claims its words first (longest match: an entry always wins); jieba
segments the rest and tags parts of speech; pypinyin reads each word with its
phrase dictionary; context rules settle the characters a dictionary cannot
(的/地/得/了/着 as particles, 还 before money, 长 alone, 儿化); then 一 and 不
change tone before the next syllable. Third-tone sandhi is left to espeak-ng,
which applies it itself, so the syllables keep their dictionary tone 3.

Syllables are ASCII: letters, a tone digit 1-5 (5 neutral), ü as v.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass, field

from speech import normalize as norm
from speech.lexicon import Lexicon

log = logging.getLogger(__name__)

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Pause marks and the punctuation espeak-ng turns into the same pause.
PAUSES = {"、": ",", "，": ",", "；": ",", "：": ",", "。": ".", "！": ".", "？": "?"}
NUMBER_CHARS = frozenset("零〇一二三四五六七八九十百千万亿两幺")
# Where 一 keeps its own first tone: counting, dates, ordinals, the end of a word.
YI_KEEPS_TONE_BEFORE = frozenset("月日号楼层")
YI_KEEPS_TONE_AFTER = frozenset("第统唯之万初按")  # 按一: the key 1
# 儿 in these words is a syllable of its own (女儿), not the erhua suffix.
ERHUA_LIGHT_AFTER = frozenset("这那哪点会块玩事活空边头儿片")
# Single-character words whose reading depends on context and that no rule settles:
# the default may be wrong, so `flask flows check` asks for a lexicon entry.
UNCERTAIN = frozenset(
    "行重调应处数种只差间觉便传朝背称冲发干供空落卡量难曾强少系相血载参省当教假结解"
    "没蒙模宁散似提降露藏弹率折划奇乐分"
)


@dataclass
class Syllable:
    """One spoken syllable and where its reading came from."""

    char: str
    pinyin: str
    source: str  # lexicon | phrase | rule | char | pause
    word: str = ""
    pos: str = ""


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
    """Our own jieba tokenizer (the shared one belongs to the ticket classifier)."""
    import jieba
    import jieba.posseg

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return jieba.posseg.POSTokenizer(tokenizer)


_tokenizer_lock = threading.Lock()  # jieba's lazy structures are not thread-safe


def _segment(text: str) -> list[tuple[str, str]]:
    with _tokenizer_lock:
        return [(w.word, w.flag) for w in _tokenizer().cut(text, HMM=False)]


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
            words.append(
                [
                    Syllable(c, p, "lexicon", span)
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


def _is_verbal(pos: str) -> bool:
    return pos[:1] in ("v", "a") or pos in ("d", "ad", "ud", "uv")


def particle(prev: list[Syllable] | None, word: list[Syllable], nxt: list[Syllable] | None):
    """的/地/得/了/着 as structural particles are neutral (项目的 de5, 更好地 de5, 做得好)."""
    char = word[0].char
    prev_pos = prev[0].pos if prev else ""
    next_pos = nxt[0].pos if nxt else ""
    prev_last = prev[-1].char if prev else ""
    if char == "的":
        return "de5"
    if char == "地":
        if word[0].pos == "uv" or (_is_verbal(prev_pos) and next_pos[:1] == "v"):
            return "de5"
        return "di4"
    if char == "得":
        if _is_verbal(prev_pos) and prev_last not in "不获取":
            return "de5"
        if prev_last in "还就总必须":
            return "dei3"
        return "de2"
    if char == "了":
        return "liao3" if prev_last in "不得" and nxt and nxt[0].source == "pause" else "le5"
    if char == "着":
        return "zhe5"
    return None


def content(prev: list[Syllable] | None, word: list[Syllable], nxt: list[Syllable] | None):
    """还 before money is huan2 (还贷), 长 alone is chang2 (很长), 为 "is" wei2, light 儿."""
    char = word[0].char
    next_char = nxt[0].char if nxt else ""
    if char == "还":
        return "huan2" if next_char in "款钱贷清账" else "hai2"
    if char == "长" and word[0].pos != "n":
        return "chang2"
    if char == "为":
        # 为您服务 wei4 (for); 服务时间为工作日 wei2 (is): a noun before it makes it "is".
        prev_pos = prev[0].pos if prev else ""
        next_pos = nxt[0].pos if nxt else ""
        if next_pos[:1] == "r" or next_char in "了此":
            return "wei4"
        return "wei2" if prev_pos[:1] in ("n", "t", "f", "m") or prev_pos == "vn" else "wei4"
    if char == "儿" and prev and prev[-1].char in ERHUA_LIGHT_AFTER:
        return "er5"
    return None


CONTEXT_RULES = (particle, content)
# Inside a word pypinyin does not know (做得好, 好了), these are particles.
PARTICLE_READINGS = {"的": "de5", "得": "de5", "了": "le5", "着": "zhe5"}


def _apply_context(words: list[list[Syllable]]) -> None:
    for i, word in enumerate(words):
        if word[0].source in ("lexicon", "pause"):
            continue
        if len(word) > 1:
            _inside_word(word)
            continue
        prev = words[i - 1] if i and words[i - 1][0].source != "pause" else None
        nxt = words[i + 1] if i + 1 < len(words) else None
        for rule in CONTEXT_RULES:
            reading = rule(prev, word, nxt)
            if reading:
                word[0].pinyin, word[0].source = reading, "rule"
                break


def _inside_word(word: list[Syllable]) -> None:
    """Words jieba joined that pypinyin does not know as phrases: 做得好, 哪儿, 好了."""
    if word[-1].char == "儿" and word[-2].char in ERHUA_LIGHT_AFTER:
        word[-1].pinyin, word[-1].source = "er5", "rule"  # erhua: 一点儿, 哪儿
    if word[0].source == "phrase":
        return
    for s in word[1:]:
        if s.char in PARTICLE_READINGS:
            s.pinyin, s.source = PARTICLE_READINGS[s.char], "rule"


def _tone(syllable: Syllable | None) -> str:
    return syllable.pinyin[-1] if syllable and syllable.source != "pause" else ""


def _sandhi(syllables: list[Syllable]) -> None:
    """一 and 不 before the next syllable (espeak-ng leaves them alone)."""
    for i, s in enumerate(syllables):
        if s.char not in "一不" or s.source == "lexicon":
            continue
        prev = syllables[i - 1] if i else None
        nxt = syllables[i + 1] if i + 1 < len(syllables) else None
        nxt_tone = _tone(nxt)
        if s.char == "不":
            if s.pinyin in ("bu4", "bu2"):
                s.pinyin = "bu2" if nxt_tone == "4" else "bu4"
            continue
        if s.pinyin not in ("yi1", "yi2", "yi4"):
            continue
        counting = (
            not nxt_tone
            or (prev and prev.source != "pause" and prev.char in NUMBER_CHARS | YI_KEEPS_TONE_AFTER)
            or (nxt.char in NUMBER_CHARS | YI_KEEPS_TONE_BEFORE)
        )
        if counting:
            s.pinyin = "yi1"
        elif nxt_tone in ("4", "5"):
            s.pinyin = "yi2"
        else:
            s.pinyin = "yi4"


def read(text: str, lexicon: Lexicon) -> Reading:
    """The full reading of `text`: normalised words, syllables with their sources."""
    spoken = norm.normalize(text.strip())
    words = _read_words(spoken, lexicon)
    _apply_context(words)
    syllables = [s for w in words for s in w]
    _sandhi(syllables)
    return Reading(text, spoken, syllables)


def to_pinyin(text: str, lexicon: Lexicon) -> list[str]:
    """Tone-numbered syllables of `text`, punctuation omitted: ['nin2', 'hao3', ...]."""
    return read(text, lexicon).pinyin
