"""The Vosk model holder and recognition: full transcription and grammar mode.

One `vosk.Model` per process and path, loaded lazily on first use under a
lock and shared by every thread; each job gets its own KaldiRecognizer
(recognizers are cheap, models are hundreds of MB). Web workers never call
`ModelHolder.get()`: /healthz uses `files_status`, which only looks at files.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from speech.audio import Audio, resample, to_pcm16
from speech.errors import ModelBrokenError, ModelMissingError

log = logging.getLogger(__name__)

DEFAULT_MODEL_RATE = 16_000
# Audio handed to the recognizer per call. Files are decoded whole, not streamed: small
# chunks let Vosk endpoint and finalise many short segments, which costs ~10% more CPU.
FEED_SECONDS = 30.0
UNK = "[unk]"
# Files every Kaldi nnet3 model for Vosk has; the graph is either HCLG or lookahead HCLr+Gr.
REQUIRED_FILES = ("am/final.mdl", "conf/model.conf")
GRAPHS = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float | None
    words: list[Word] = field(default_factory=list)
    duration: float = 0.0

    def words_json(self) -> list[dict]:
        return [
            {"word": w.word, "start": w.start, "end": w.end, "conf": w.conf} for w in self.words
        ]


def files_status(path: str | Path) -> tuple[str, str]:
    """('present' | 'missing' | 'broken', detail) from the files alone, without loading."""
    root = Path(path)
    if not root.is_dir():
        return "missing", f"{root} does not exist"
    missing = [f for f in REQUIRED_FILES if not (root / f).is_file()]
    if not any(all((root / f).is_file() for f in graph) for graph in GRAPHS):
        missing.append("graph/HCLG.fst or graph/HCLr.fst+Gr.fst")
    if missing:
        return "broken", "missing " + ", ".join(missing)
    empty = [f for f in REQUIRED_FILES if (root / f).stat().st_size == 0]
    if empty:
        return "broken", "empty " + ", ".join(empty)
    return "present", str(root)


def model_rate(path: str | Path) -> int:
    """Sample rate the model expects (conf/mfcc.conf --sample-frequency, default 16 kHz)."""
    conf = Path(path) / "conf" / "mfcc.conf"
    try:
        for line in conf.read_text().splitlines():
            if line.strip().startswith("--sample-frequency="):
                return int(float(line.split("=", 1)[1]))
    except (OSError, ValueError):
        pass
    return DEFAULT_MODEL_RATE


class ModelHolder:
    """Loads one model lazily and hands the same instance to every thread."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._model = None
        self._error: Exception | None = None
        self._lock = threading.Lock()
        self.rate = model_rate(self.path)

    @property
    def status(self) -> str:
        if self._model is not None:
            return "loaded"
        if self._error is not None:
            return "broken"
        return files_status(self.path)[0]

    def get(self):
        """The loaded vosk.Model; ModelMissingError / ModelBrokenError if unusable."""
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self):
        state, detail = files_status(self.path)
        if state == "missing":
            raise ModelMissingError(str(self.path))
        if state == "broken":
            self._error = ModelBrokenError(str(self.path), detail)
            raise self._error
        import vosk

        vosk.SetLogLevel(-1)
        log.info("loading Vosk model %s", self.path)
        try:
            model = vosk.Model(str(self.path))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            self._error = ModelBrokenError(str(self.path), str(exc))
            raise self._error from exc
        self._error = None
        return model

    def has_word(self, word: str) -> bool:
        return self.get().vosk_model_find_word(word) >= 0


_holders: dict[str, ModelHolder] = {}
_holders_lock = threading.Lock()


def holder(path: str | Path) -> ModelHolder:
    """The process-wide holder for a model directory."""
    key = str(Path(path).resolve())
    with _holders_lock:
        if key not in _holders:
            _holders[key] = ModelHolder(key)
        return _holders[key]


def health_status(path: str | Path) -> tuple[str, str]:
    """'loaded' / 'broken' if this process tried to load the model, else from the files."""
    existing = _holders.get(str(Path(path).resolve()))
    if existing is not None and existing.status in ("loaded", "broken"):
        error = existing._error
        return existing.status, str(error) if error else str(existing.path)
    return files_status(path)


def _feed(recognizer, audio: Audio, rate: int) -> list[dict]:
    pcm = to_pcm16(resample(audio, rate).samples)
    step = int(rate * FEED_SECONDS) * 2
    segments = []
    for start in range(0, len(pcm), step):
        if recognizer.AcceptWaveform(pcm[start : start + step]):
            segments.append(json.loads(recognizer.Result()))
    segments.append(json.loads(recognizer.FinalResult()))
    return segments


def transcribe(model_holder: ModelHolder, audio: Audio) -> Transcript:
    """Free transcription with word timings and a mean word confidence."""
    import vosk

    recognizer = vosk.KaldiRecognizer(model_holder.get(), model_holder.rate)
    recognizer.SetWords(True)
    words = [
        Word(w["word"], round(w["start"], 2), round(w["end"], 2), round(w["conf"], 3))
        for seg in _feed(recognizer, audio, model_holder.rate)
        for w in seg.get("result", [])
    ]
    text = join_words(w.word for w in words)
    confidence = round(sum(w.conf for w in words) / len(words), 3) if words else None
    return Transcript(text, confidence, words, round(audio.duration, 2))


def join_words(words) -> str:
    """Join recognised words: no spaces between CJK words, spaces otherwise."""
    out = ""
    for w in words:
        if out and not (_is_cjk(out[-1]) and _is_cjk(w[0])):
            out += " "
        out += w
    return out


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def grammar_phrase(model_holder: ModelHolder, keyword: str) -> str | None:
    """The keyword as a sequence of model words, or None if the model cannot spell it.

    Chinese models list words, not characters: an unknown "暖气片" is split
    greedily into the longest known pieces ("暖气 片").
    """
    keyword = keyword.strip()
    if not keyword:
        return None
    if " " in keyword:
        parts = keyword.split()
        return keyword if all(model_holder.has_word(p) for p in parts) else None
    if model_holder.has_word(keyword):
        return keyword
    pieces, i = [], 0
    while i < len(keyword):
        for j in range(len(keyword), i, -1):
            if model_holder.has_word(keyword[i:j]):
                pieces.append(keyword[i:j])
                i = j
                break
        else:
            return None
    return " ".join(pieces)


def recognize_grammar(
    model_holder: ModelHolder, audio: Audio, keywords: list[str]
) -> tuple[str | None, float]:
    """Which keyword was said: (keyword or None, confidence), restricted to `keywords`."""
    import vosk

    phrases = {}
    for kw in keywords:
        phrase = grammar_phrase(model_holder, kw)
        if phrase is None:
            log.warning("keyword %r is not in the model's vocabulary; skipped", kw)
        else:
            phrases.setdefault(phrase, kw)
    if not phrases:
        return None, 0.0
    grammar = list(phrases)
    if model_holder.has_word(UNK):
        grammar.append(UNK)
    # ensure_ascii=False: Vosk looks the escaped form up literally and ignores every word.
    recognizer = vosk.KaldiRecognizer(
        model_holder.get(), model_holder.rate, json.dumps(grammar, ensure_ascii=False)
    )
    recognizer.SetWords(True)
    words = [
        w for seg in _feed(recognizer, audio, model_holder.rate) for w in seg.get("result", [])
    ]
    return best_phrase(words, phrases)


def best_phrase(words: list[dict], phrases: dict[str, str]) -> tuple[str | None, float]:
    """Pick the longest known phrase in the recognised words; confidence = mean word conf."""
    said = [w["word"] for w in words]
    best: tuple[str | None, float] = (None, 0.0)
    best_len = 0
    for phrase, keyword in phrases.items():
        parts = phrase.split()
        for i in range(len(said) - len(parts) + 1):
            if said[i : i + len(parts)] == parts and len(parts) > best_len:
                conf = sum(w["conf"] for w in words[i : i + len(parts)]) / len(parts)
                best, best_len = (keyword, round(conf, 3)), len(parts)
    return best
