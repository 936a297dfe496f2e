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
from pathlib import Path

from speech import normalize as norm
from speech.lexicon import Lexicon
from speech.lexicon import load as load_lexicon

WORDS_PATH = Path(__file__).with_name("words.yaml")

log = logging.getLogger(__name__)

HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
# Pause marks and the punctuation espeak-ng turns into the same pause.
PAUSES = {"、": ",", "，": ",", "；": ",", "：": ",", "。": ".", "！": ".", "？": "?"}
NUMBER_CHARS = frozenset("零〇一二三四五六七八九十百千万亿两幺")
LARGE_UNITS = frozenset("百千万亿")  # 一百 yi4 bai3, 一万 yi2 wan4: sandhi as in words
# Where 一 keeps its own first tone: counting, dates, ordinals, the end of a word.
YI_KEEPS_TONE_BEFORE = frozenset("月日号楼层")
YI_KEEPS_TONE_AFTER = frozenset("第统唯之万初按")  # 按一: the key 1
# 儿 in these words is a syllable of its own (女儿), not the erhua suffix.
# Who something is done for: 为 before them is wei4.
BENEFICIARIES = frozenset(
    [
        "您",
        "你",
        "我",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "他们",
        "她们",
        "咱们",
        "大家",
        "自己",
        "人民",
        "群众",
        "市民",
        "百姓",
        "老百姓",
        "企业",
        "居民",
        "村民",
        "民",
        "社会",
        "国家",
    ]
)
DEGREE_ADVERBS = frozenset("很太更最真挺多较好越")
PLACE_BEFORE = frozenset("个的么哪这那些有")  # 这个地方, 什么地方: di4 fang5 (a place)
# Characters whose verb reading differs from their default, said before 了/着/过/一下.
VERB_READINGS = {
    "种": "zhong4",
    "数": "shu3",
    "量": "liang2",
    "背": "bei1",
    "中": "zhong4",
    "担": "dan1",
    "称": "cheng1",
    "磨": "mo2",
    "钻": "zuan1",
    "缝": "feng2",
}
# One-character verbs that reduplicate with a neutral second syllable: 看看, 问问.
REDUPLICATING_VERBS = frozenset("看想问说试查听走找谈聊算学写读坐歇尝催管修")
# 为 at the end of these words stays wei4 (because, only for).
WEI4_ENDINGS = frozenset({"因为", "只为", "专为", "不为", "特为", "广为"})
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


def _reduplicated(word: list[Syllable]) -> bool:
    """慢慢, 好好, 认认真真: reduplicated adjectives take 地 as a particle."""
    return len(word) >= 2 and word[0].char == word[1].char


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
        # After an adjective or adverb it links to the verb (认真地处理); after a noun or a
        # verb it is the place (登记地, 耕地地力).
        if prev_pos[:1] in ("a", "d", "z") or (prev and _reduplicated(prev)):
            return "de5"
        return "di4"
    if char == "得":
        if _is_verbal(prev_pos) and prev_last not in "不获取":
            return "de5"
        if prev_last in "还就总必须" or (prev_pos[:1] in ("r", "n") and next_pos[:1] in ("v", "d")):
            return "dei3"  # 我们得赶快处理, 这个问题得找开发商: must
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
        # 很长, 太长, 时间长。 are "long"; 正在长身体, 长了 are "grow" (zhang3).
        prev_last = prev[-1].char if prev else ""
        if prev_last in DEGREE_ADVERBS or not nxt or nxt[0].source == "pause":
            return "chang2"
        return "zhang3" if nxt[0].char in "了大出着高" or nxt[0].pos[:1] == "n" else "chang2"
    if char == "为":
        # 为您服务 wei4 (for whom), 为了; 以…为准, 时间为工作日 wei2 (is, as).
        if not prev or (nxt and nxt[0].word in BENEFICIARIES):
            return "wei4"
        return "wei4" if next_char in "了此何" else "wei2"
    if char in VERB_READINGS and nxt and (nxt[0].char in "了着过" or nxt[0].word == "一下"):
        return VERB_READINGS[char]  # 种了, 背着, 量一下: the verb's reading
    if char == "教" and nxt and nxt[0].pos[:1] in ("n", "r"):
        return "jiao1"  # 教学生: teach
    if char == "觉" and prev and prev[-1].char in "一睡午":
        return "jiao4"  # 睡了一觉
    if char == "儿" and prev and prev[-1].char in ERHUA_LIGHT_AFTER:
        return "er5"
    return None


CONTEXT_RULES = (particle, content)
# Inside a word pypinyin does not know (做得好, 好了), these are particles.
PARTICLE_READINGS = {"的": "de5", "得": "de5", "了": "le5", "着": "zhe5"}


def _apply_context(words: list[list[Syllable]]) -> None:
    for i, word in enumerate(words):
        if word[0].source in ("lexicon", "words", "pause"):
            continue
        if len(word) > 1:
            _inside_word(word)
            if (
                "".join(s.char for s in word) == "地方"
                and i
                and words[i - 1][-1].char in PLACE_BEFORE
            ):
                word[1].pinyin, word[1].source = "fang5", "rule"  # 这个地方: a place
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
    text = "".join(s.char for s in word)
    if len(word) == 2 and word[0].char == word[1].char and word[0].char in REDUPLICATING_VERBS:
        word[1].pinyin, word[1].source = word[1].pinyin[:-1] + "5", "rule"  # 看看, 问问
    if len(word) == 3 and word[1].char == "一" and word[0].char == word[2].char:
        reading = VERB_READINGS.get(word[0].char)  # 数一数, 量一量
        if reading:
            word[0].pinyin = word[2].pinyin = reading
        word[1].pinyin = "yi1"
        for s in word:
            s.source = "rule"
    if word[-1].char == "为" and word[-1].source != "phrase" and text not in WEI4_ENDINGS:
        word[-1].pinyin, word[-1].source = "wei2", "rule"  # 评为, 视为: "as"
    if word[0].source == "phrase":
        return
    for s in word[1:]:
        if s.char in PARTICLE_READINGS:
            s.pinyin, s.source = PARTICLE_READINGS[s.char], "rule"
    # A word of words.yaml inside a longer word: 看不清楚, 谢谢你们.
    for size in (3, 2):
        for start in range(len(word) - size + 1):
            readings = _words().entries.get(text[start : start + size])
            if readings:
                for s, reading in zip(word[start : start + size], readings, strict=True):
                    s.pinyin, s.source = reading, "words"


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
        after_number = prev and prev.source != "pause" and prev.char in NUMBER_CHARS
        counting = (
            not nxt_tone
            or after_number
            or (prev and prev.source != "pause" and prev.char in YI_KEEPS_TONE_AFTER)
            or (nxt.char in NUMBER_CHARS - LARGE_UNITS | YI_KEEPS_TONE_BEFORE)
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
