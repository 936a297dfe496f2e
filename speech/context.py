"""Context rules: the readings a dictionary cannot settle, decided from the neighbours.

speech.pinyin reads each word with the lexicon, words.yaml or pypinyin; then
`apply` looks at single-character words next to their neighbours (的/地/得/了/着
as particles, 还 before money, 长 long or growing, 为 "for" or "is", verb readings
such as 种了 and 量一下, light 儿) and inside words pypinyin does not know (做得好,
看看, 评为); `sandhi` changes the tone of 一 and 不 before the next syllable, which
espeak-ng does not do (it does apply third-tone sandhi itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from speech.lexicon import Lexicon

NUMBER_CHARS = frozenset("零〇一二三四五六七八九十百千万亿两幺")
LARGE_UNITS = frozenset("百千万亿")  # 一百 yi4 bai3, 一万 yi2 wan4: sandhi as in words
# Where 一 keeps its own first tone: counting, dates, ordinals, the end of a word.
YI_KEEPS_TONE_BEFORE = frozenset("月日号楼层")
YI_KEEPS_TONE_AFTER = frozenset("第统唯之万初按")  # 按一: the key 1
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
# 儿 after these is the light erhua suffix (哪儿, 一点儿); elsewhere a syllable (女儿).
ERHUA_LIGHT_AFTER = frozenset("这那哪点会块玩事活空边头儿片")


@dataclass
class Syllable:
    """One spoken syllable and where its reading came from."""

    char: str
    pinyin: str
    source: str  # lexicon | phrase | rule | char | pause
    word: str = ""
    pos: str = ""


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


def apply(words: list[list[Syllable]], everyday: Lexicon) -> None:
    """Settle readings in place; `everyday` is words.yaml (neutral-tone words)."""
    for i, word in enumerate(words):
        if word[0].source in ("lexicon", "words", "pause"):
            continue
        if len(word) > 1:
            _inside_word(word, everyday)
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


def _inside_word(word: list[Syllable], everyday: Lexicon) -> None:
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
            readings = everyday.entries.get(text[start : start + size])
            if readings:
                for s, reading in zip(word[start : start + size], readings, strict=True):
                    s.pinyin, s.source = reading, "words"


def _tone(syllable: Syllable | None) -> str:
    return syllable.pinyin[-1] if syllable and syllable.source != "pause" else ""


def sandhi(syllables: list[Syllable]) -> None:
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
