"""What the engine is given to say a Mandarin text, and what it makes of it.

espeak-ng's `cmn` voice knows few characters and reads the pinyin it falls back
to with English rules ("huan five ying two"). So Mandarin prompts never reach
the engine as characters: speech.pinyin decides every syllable, and the
`cmn-latn-pinyin` voice, which reads tone-numbered pinyin, says them.

An English sentence inside a Mandarin prompt ("For English, press 8.") is said
by the English voice, not spelled: a prompt is cut into Parts, one per voice.

A Pronouncer holds the office lexicon: re-read when the file changes; a broken
edit is logged and the last good lexicon stays in use, so a typo never silences
the line (`flask speech pronounce` and `flask flows check` show the error).
"""

from __future__ import annotations

import logging
import re
import subprocess
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from speech import lexicon as lex
from speech.errors import SpeechError
from speech.pinyin import Reading, read

log = logging.getLogger(__name__)

PINYIN_VOICE = "cmn-latn-pinyin"
# Voice names that mean "Mandarin": all are spoken through the pinyin voice.
MANDARIN_VOICES = frozenset({"cmn", "zh", "zh-cmn", "cmn-latn-pinyin", "sit/cmn"})
PHONEME_TIMEOUT = 20.0
ENGLISH_SWITCH = "(en)"
MEMO_SIZE = 4096  # prompt texts a process keeps the engine text of (cache-hit path)
ENGLISH_VOICE = "en-us"
# An English sentence inside a Mandarin prompt ("For English, press 8."): Latin words with
# the digits and punctuation between them. Two words at least, one not in capitals, so an
# acronym (APP, ETC) stays in the Mandarin part and is spelled there.
ENGLISH_RE = re.compile(r"[A-Za-z][A-Za-z'-]*(?:[\s,.;:!?'-]+[A-Za-z0-9][A-Za-z0-9'-]*)+[.!?]?")
MIN_ENGLISH_WORDS = 2


@dataclass(frozen=True)
class Part:
    """One stretch of a prompt for one voice: 'zh' (pinyin with pauses) or 'en' (words)."""

    language: str
    text: str


def split_languages(text: str) -> list[tuple[str, str]]:
    """[('zh', …), ('en', 'For English, press 8.'), …] in order; blank stretches dropped."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in ENGLISH_RE.finditer(text):
        words = re.findall(r"[A-Za-z]+", m.group(0))
        if len(words) < MIN_ENGLISH_WORDS or all(w.isupper() for w in words):
            continue
        if text[pos : m.start()].strip():
            out.append(("zh", text[pos : m.start()]))
        out.append(("en", m.group(0).strip()))
        pos = m.end()
    if text[pos:].strip():
        out.append(("zh", text[pos:]))
    return out


def mandarin_voice(configured: str) -> str:
    """The espeak-ng voice for Mandarin prompts: the pinyin voice, keeping any variant."""
    base, plus, variant = (configured or "cmn").partition("+")
    if base.lower() in MANDARIN_VOICES:
        return PINYIN_VOICE + plus + variant
    return configured


class Pronouncer:
    """Mandarin text -> Reading, with the office lexicon at `path`."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path or lex.DEFAULT_PATH)
        self._good = lex.Lexicon({})
        self._lock = threading.Lock()
        self.error: lex.LexiconError | None = None
        self._memo: OrderedDict[tuple[int, str], tuple[Part, ...]] = OrderedDict()

    def lexicon(self) -> lex.Lexicon:
        """The current lexicon (the last good one if the file is broken now)."""
        with self._lock:
            try:
                self._good = lex.load(self.path)
                self.error = None
            except lex.LexiconError as exc:
                if str(exc) != str(self.error):
                    log.error("pronunciation lexicon not used: %s", exc)
                self.error = exc
            return self._good

    def read(self, text: str) -> Reading:
        return read(text, self.lexicon())

    def engine_text(self, text: str) -> str:
        """Tone-numbered pinyin with pause marks: what the pinyin voice receives."""
        return " ".join(p.text for p in self.parts(text) if p.language == "zh")

    def parts(self, text: str) -> tuple[Part, ...]:
        """The prompt as the voices receive it: Mandarin as pinyin, English sentences as is."""
        lexicon = self.lexicon()
        key = (id(lexicon), text)
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        parts = []
        for language, stretch in split_languages(text):
            spoken = read(stretch, lexicon).engine_text if language == "zh" else stretch
            if spoken:
                parts.append(Part(language, spoken))
        parts = tuple(parts)
        with self._lock:
            self._memo[key] = parts
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return parts


def phonemes(engine_text: str, voice: str = PINYIN_VOICE) -> str:
    """espeak-ng's phoneme mnemonics (`espeak-ng -x`) for `engine_text`, on one line."""
    try:
        result = subprocess.run(
            ["espeak-ng", "-q", "-x", "-v", voice, "--stdin"],
            input=engine_text,
            capture_output=True,
            text=True,
            timeout=PHONEME_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SpeechError(f"espeak-ng could not be run: {exc}") from exc
    if result.returncode != 0:
        raise SpeechError(f"espeak-ng failed: {result.stderr.strip()[:200]}")
    return " ".join(result.stdout.split())
