"""Warnings about prompts whose Mandarin reading is uncertain, for supervisors to settle.

`pronunciation_warnings(items)` takes (where, text) pairs, where `where` says
where the text lives ("flows.yaml:22 nodes.greeting"), and returns one warning
per doubt: a character with several readings that neither pypinyin's phrase
data, a context rule nor the lexicon settled; a Latin word outside an English
sentence (spelled letter by letter); emoji and symbols (silent); a text too long for one prompt. It never
raises for any text: a check that crashes would hide the flow's real errors.
Called by `flask flows check` and the flow studio.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from speech import pinyin
from speech.lexicon import DEFAULT_PATH, Lexicon
from speech.normalize import SILENT
from speech.pronounce import Pronouncer, split_languages

MAX_PROMPT_CHARS = 1_000  # speech.tts refuses longer texts; those fall back to <Say>
EXCERPT_CHARS = 6  # characters shown each side of the uncertain word
LATIN_RE = re.compile(r"[A-Za-z\uFF21-\uFF3A\uFF41-\uFF5A]{2,}")
# Single-character words whose reading depends on context and that no rule settles:
# the default may be wrong, so `flask flows check` asks for a lexicon entry.
UNCERTAIN = frozenset(
    "行重调应处数种只差间觉便传朝背称冲发干供空落卡量难曾强少系相血载参省当教假结解"
    "没蒙模宁散似提降露藏弹率折划奇乐分"
)
HINT = f"add the word to {DEFAULT_PATH.name} (word: pinyin) to settle it"


@dataclass(frozen=True)
class PronunciationWarning:
    where: str
    message: str
    word: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


def _readings(char: str) -> list[str]:
    from pypinyin import Style
    from pypinyin import pinyin as library

    found = library(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)
    return [r.replace("ü", "v") for r in found[0]] if found else []


def _excerpt(text: str, word: str) -> str:
    at = text.find(word)
    if at < 0:
        return word
    start, end = max(at - EXCERPT_CHARS, 0), at + len(word) + EXCERPT_CHARS
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def _symbols(text: str) -> list[str]:
    return sorted(
        {
            ch
            for ch in text
            if ch not in SILENT
            and unicodedata.category(ch)[0] == "S"
            and ch not in "%％#＃*＊~～+-=<>"
        }
    )


def text_warnings(where: str, text: str, lexicon: Lexicon) -> list[PronunciationWarning]:
    """The warnings for one text (see the module docstring)."""
    out: list[PronunciationWarning] = []
    if len(text) > MAX_PROMPT_CHARS:
        out.append(
            PronunciationWarning(
                where,
                f"{len(text)} characters: longer than {MAX_PROMPT_CHARS}, the telephone's "
                "own voice will read it; split it into shorter prompts",
            )
        )
        text = text[:MAX_PROMPT_CHARS]
    symbols = _symbols(text)
    # An English sentence is said by the English voice: only the Mandarin is checked.
    text = "，".join(stretch for language, stretch in split_languages(text) if language == "zh")
    for word in dict.fromkeys(LATIN_RE.findall(text)):
        out.append(
            PronunciationWarning(
                where,
                f"Latin word {word!r} will be spelled letter by letter; write it in Chinese "
                "characters if it is a word",
                word,
            )
        )
    if symbols:
        out.append(
            PronunciationWarning(where, f"{' '.join(symbols)} make no sound and are dropped")
        )
    try:
        reading = pinyin.read(text, lexicon)
    except Exception as exc:  # a check must report, not crash: the flow's errors come first
        return [*out, PronunciationWarning(where, f"cannot read this text: {exc}")]
    seen: set[tuple[str, str]] = set()
    for s in reading.syllables:
        # Words of several characters are read from pypinyin's phrase data, which lists
        # the words whose reading differs from the characters' defaults: trusted.
        if s.source != "char" or len(s.word) > 1 or s.char not in UNCERTAIN:
            continue
        if (s.word, s.char) in seen:
            continue
        seen.add((s.word, s.char))
        readings = _readings(s.char)
        if len(readings) < 2:
            continue
        out.append(
            PronunciationWarning(
                where,
                f"「{_excerpt(reading.spoken, s.word)}」: {s.char!r} in {s.word!r} can be "
                f"{' or '.join(readings[:4])}; it will be read {s.pinyin}. "
                f"If that is wrong, {HINT}",
                s.word,
            )
        )
    return out


def pronunciation_warnings(
    items: Iterable[tuple[str, str]], lexicon: Lexicon
) -> list[PronunciationWarning]:
    """Warnings for every (where, text), in order; duplicates of one text reported once."""
    out: list[PronunciationWarning] = []
    done: set[tuple[str, str]] = set()
    for where, text in items:
        if not isinstance(text, str) or not text.strip() or (where, text) in done:
            continue
        done.add((where, text))
        out.extend(text_warnings(where, text, lexicon))
    return out


def check_prompts(items: Iterable[tuple[str, str]], app=None) -> list[PronunciationWarning]:
    """Warnings for `items` with the app's lexicon (or the shipped one); its errors first."""
    prompts = app.extensions.get("speech_prompts") if app is not None else None
    pronouncer = prompts.pronouncer if prompts is not None else Pronouncer()
    lexicon = pronouncer.lexicon()
    out = []
    if pronouncer.error is not None:
        out.append(PronunciationWarning("", f"{pronouncer.error} (entries not used)"))
    return out + pronunciation_warnings(items, lexicon)
