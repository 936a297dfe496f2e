"""The office's pronunciation lexicon: words whose reading the hotline decides itself.

`lexicon.yaml` is a flat mapping `word: pinyin`, one tone-numbered syllable per
Chinese character (1-4, 5 for the neutral tone, ü written v):

    调休: tiao2 xiu1
    还款: huan2 kuan3

An entry always wins over the pinyin library. A file that cannot be used is
reported as `lexicon.yaml:LINE: message` (LexiconError), never a traceback; it is
read with core.safeyaml (no anchors, aliases or tags; bounded size).
The file is re-read when it changes on disk.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from core import safeyaml
from speech.errors import SpeechError

DEFAULT_PATH = Path(__file__).with_name("lexicon.yaml")
MAX_WORD_CHARS = 12
SYLLABLE_RE = re.compile(r"^([a-z]+)([1-5])$")
HAN_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]+$")


class LexiconError(SpeechError, ValueError):
    """An unusable lexicon file, with the line of the problem."""

    def __init__(self, file: str, line: int | None, message: str):
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")
        self.file, self.line, self.message = file, line, message


@functools.cache
def valid_syllables() -> frozenset[str]:
    """Every toneless Mandarin syllable pypinyin knows (ü as v), plus the erhua 'r'."""
    from pypinyin import Style
    from pypinyin.constants import PINYIN_DICT
    from pypinyin.style import convert

    out = {"r"}
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            out.add(convert(reading, Style.NORMAL, strict=True).replace("ü", "v"))
    return frozenset(out)


@dataclass(frozen=True)
class Lexicon:
    """Word -> tuple of tone-numbered syllables; `longest` bounds the word scan."""

    entries: dict[str, tuple[str, ...]]
    source: str = "lexicon.yaml"

    @property
    def longest(self) -> int:
        return max((len(w) for w in self.entries), default=0)

    def fingerprint(self) -> str:
        """Changes whenever any entry does (for logs and health)."""
        import hashlib

        material = "\n".join(f"{w}\t{' '.join(p)}" for w, p in sorted(self.entries.items()))
        return hashlib.sha256(material.encode()).hexdigest()[:12]


def check_entry(word: object, reading: object) -> tuple[str, ...]:
    """The syllables of one entry, or ValueError saying what is wrong with it."""
    if not isinstance(word, str) or not HAN_RE.match(word):
        raise ValueError(f"{word!r}: a word is written in Chinese characters only")
    if len(word) > MAX_WORD_CHARS:
        raise ValueError(f"{word}: longer than {MAX_WORD_CHARS} characters")
    if not isinstance(reading, str):
        raise ValueError(f"{word}: the reading must be text such as 'tiao2 xiu1'")
    syllables = tuple(reading.lower().replace("ü", "v").split())
    if len(syllables) != len(word):
        raise ValueError(
            f"{word}: {len(word)} character(s) but {len(syllables)} syllable(s) in {reading!r}"
        )
    for syllable in syllables:
        m = SYLLABLE_RE.match(syllable)
        if not m:
            raise ValueError(f"{word}: {syllable!r} needs a tone number 1-5 (e.g. 'xiu1')")
        if m.group(1) not in valid_syllables():
            raise ValueError(f"{word}: {syllable!r} is not a Mandarin syllable")
    return syllables


def parse(text: str, source: str = "lexicon.yaml") -> Lexicon:
    """A Lexicon from YAML text; LexiconError with the line of the first problem."""
    try:
        data = safeyaml.load(text, source, round_trip=True)
    except safeyaml.YAMLRefused as exc:
        raise LexiconError(source, exc.line, exc.message) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise LexiconError(source, line, str(exc.problem or exc.context)) from None
    except YAMLError as exc:
        raise LexiconError(source, None, str(exc)) from None
    if data is None:
        return Lexicon({}, source)
    if not isinstance(data, CommentedMap):
        raise LexiconError(source, 1, "expected a mapping of word: pinyin")
    entries: dict[str, tuple[str, ...]] = {}
    for word, reading in data.items():
        try:
            entries[word] = check_entry(word, reading)
        except ValueError as exc:
            raise LexiconError(source, data.lc.key(word)[0] + 1, str(exc)) from None
    return Lexicon(entries, source)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float, size: int) -> Lexicon:
    try:
        text = safeyaml.read_text(path)
    except safeyaml.YAMLRefused as exc:
        raise LexiconError(exc.file, exc.line, exc.message) from None
    except OSError as exc:
        raise LexiconError(Path(path).name, None, f"cannot read: {exc}") from None
    return parse(text, Path(path).name)


def load(path: str | os.PathLike | None = None) -> Lexicon:
    """The lexicon at `path` (default: the shipped one), cached until the file changes."""
    path = Path(path or DEFAULT_PATH)
    try:
        stat = path.stat()
    except OSError as exc:
        raise LexiconError(path.name, None, f"cannot read: {exc.strerror}") from None
    return _load(str(path), stat.st_mtime_ns, stat.st_size)
