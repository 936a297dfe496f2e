"""What the engine is given to say a Mandarin text, and what it makes of it.

espeak-ng's `cmn` voice knows few characters and reads the pinyin it falls back
to with English rules ("huan five ying two"). So Mandarin prompts never reach
the engine as characters: speech.pinyin decides every syllable, and the
`cmn-latn-pinyin` voice, which reads tone-numbered pinyin, says them.

A Pronouncer holds the office lexicon: re-read when the file changes; a broken
edit is logged and the last good lexicon stays in use, so a typo never silences
the line (`flask speech pronounce` and `flask flows check` show the error).
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections import OrderedDict
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
        self._memo: OrderedDict[tuple[int, str], str] = OrderedDict()

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
        """Tone-numbered pinyin with pause marks: exactly what the engine receives."""
        lexicon = self.lexicon()
        key = (id(lexicon), text)
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        spoken = read(text, lexicon).engine_text
        with self._lock:
            self._memo[key] = spoken
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return spoken


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
