"""Pronunciation figures: syllable accuracy on the labelled set, English switches, speed.

    .venv/bin/python bench/speech_pronunciation.py [--errors] [--labels PATH] [--audio]

- Syllable accuracy (tones included) of speech.pinyin against bench/data/
  speech_pronunciation.tsv (hand-checked) and speech_pronunciation_holdout.tsv
  (labelled before the converter saw them, never used for tuning). The tone of 一 and 不 and third-tone
  sandhi (3 3 -> 2 3) are forgiven: those are the engine's or a speaker's choice.
  Syllables are aligned on their toneless form, so a wrong number reading costs
  only the syllables it gets wrong.
- English switches: `(en)` in espeak-ng's phoneme output for what the engine
  receives, over every text the service can speak (bench/speech_texts.py) and
  the labelled set; and, for comparison, the same texts given as characters to
  espeak-ng's `cmn` voice (the route before pinyin).
- Converter load time and memory, conversion time per text, and with --audio the speaking rate and loudness of
  a few real synthesized prompts (pyttsx3, 8 kHz).
"""

from __future__ import annotations

import argparse
import difflib
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.speech_texts import spoken_texts  # noqa: E402
from speech.pronounce import ENGLISH_SWITCH, PINYIN_VOICE, Pronouncer, phonemes  # noqa: E402

LABELS = (
    ROOT / "bench" / "data" / "speech_pronunciation.tsv",
    ROOT / "bench" / "data" / "speech_pronunciation_holdout.tsv",  # never used for tuning
)
SANDHI_CHARS = "一不"
AUDIO_TEXTS = (
    "您好，欢迎致电12345政务服务便民热线。查询工单进度或常见问题，请按任意键。",
    "您的工单编号是：2 0 2 6 1 1 2 6 0 0 0 1 2 3。我们会尽快处理并回复您。",
    "满意请按1或说满意，基本满意请按2，不满意请按3。今后不希望接到回访电话请按9。",
)


def load_labels(path: Path) -> list[tuple[str, list[str]]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        text, sep, expected = line.partition("\t")
        if not sep:
            raise SystemExit(f"{path.name}:{number}: expected text<TAB>pinyin")
        rows.append((text, expected.split()))
    return rows


def _tone(syllable: str) -> str:
    return syllable[-1] if syllable[-1:].isdigit() else "5"


def _base(syllable: str) -> str:
    return syllable.rstrip("012345")


def same(expected: list[str], i: int, got: str, char: str) -> bool:
    """Is `got` right for expected[i], forgiving 一/不 tones and third-tone sandhi."""
    want = expected[i]
    if want == got:
        return True
    if _base(want) != _base(got):
        return False
    if char in SANDHI_CHARS:
        return True
    tones = {_tone(want), _tone(got)}
    following = expected[i + 1] if i + 1 < len(expected) else ""
    return tones == {"2", "3"} and _tone(following) == "3"


def score(expected: list[str], got: list[str], chars: list[str]) -> tuple[int, list[tuple]]:
    """(syllables right, [(position, expected, got)] of the wrong ones)."""
    matcher = difflib.SequenceMatcher(
        None, [_base(s) for s in expected], [_base(s) for s in got], autojunk=False
    )
    right, wrong = 0, []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                if same(expected, i1 + k, got[j1 + k], chars[j1 + k]):
                    right += 1
                else:
                    wrong.append((i1 + k, expected[i1 + k], got[j1 + k]))
        else:
            wrong.append((i1, " ".join(expected[i1:i2]) or "-", " ".join(got[j1:j2]) or "-"))
    return right, wrong


def accuracy(pronouncer: Pronouncer, rows, show_errors: bool) -> tuple[int, int, float]:
    total = right = 0
    times = []
    for text, expected in rows:
        start = time.perf_counter()
        reading = pronouncer.read(text)
        times.append(time.perf_counter() - start)
        syllables = [s for s in reading.syllables if s.source != "pause"]
        got = [s.pinyin for s in syllables]
        ok, wrong = score(expected, got, [s.char for s in syllables])
        total += len(expected)
        right += ok
        if show_errors and wrong:
            shown = ", ".join(f"{e}->{g}" for _, e, g in wrong)
            print(f"  {text}\n    {shown}")
    return right, total, statistics.median(times)


def english_switches(pronouncer: Pronouncer, texts: list[str]) -> tuple[int, int, int]:
    """(texts with (en) through the pinyin route, (en) count there, count via `cmn` + characters)."""
    texts_with, ours, before = 0, 0, 0
    for text in texts:
        found = phonemes(pronouncer.engine_text(text), PINYIN_VOICE).count(ENGLISH_SWITCH)
        ours += found
        texts_with += bool(found)
        before += phonemes(text, "cmn").count(ENGLISH_SWITCH)
    return texts_with, ours, before


def audio_figures(pronouncer: Pronouncer) -> None:
    from speech import tts
    from speech.audio import decode_wav, rms_dbfs

    synth = tts.Synthesizer()
    voice = tts.Voice(PINYIN_VOICE, 165)
    try:
        for text in AUDIO_TEXTS:
            reading = pronouncer.read(text)
            audio = decode_wav(synth.synthesize(reading.engine_text, voice))
            n = len(reading.pinyin)
            print(
                f"  {n:3d} syllables, {audio.duration:5.2f} s, {n / audio.duration:.2f} "
                f"syllables/s, {rms_dbfs(audio):.1f} dBFS RMS, {audio.rate} Hz: {text[:16]}…"
            )
    finally:
        synth.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, nargs="+", default=LABELS)
    parser.add_argument("--errors", action="store_true", help="print every wrong syllable")
    parser.add_argument("--audio", action="store_true", help="also synthesize a few prompts")
    args = parser.parse_args()

    pronouncer = Pronouncer()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    pronouncer.read("预热")  # load jieba and pypinyin before timing
    loaded = time.perf_counter() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"converter load: {loaded:.2f} s, peak RSS +{grown:.0f} MiB (jieba, pypinyin)")
    rows = []
    for path in args.labels:
        these = load_labels(path)
        rows += these
        right, total, median = accuracy(pronouncer, these, args.errors)
        print(
            f"{path.name}: {len(these)} sentences, {total} syllables: syllable accuracy "
            f"{right / total:.2%} ({right}/{total}; 一/不 and 3-3 sandhi forgiven), "
            f"median {median * 1000:.2f} ms per sentence"
        )

    service = [t.text for t in spoken_texts()]
    texts = list(dict.fromkeys(service + [text for text, _ in rows]))
    with_en, ours, before = english_switches(pronouncer, texts)
    print(
        f"English switches (espeak-ng -x '(en)'): {ours} in {with_en} of {len(texts)} texts "
        f"({len(service)} the service speaks + the labelled set); "
        f"characters through the `cmn` voice instead: {before}"
    )
    if args.audio:
        print("synthesized prompts (pyttsx3 + espeak-ng cmn-latn-pinyin, rate 165):")
        audio_figures(pronouncer)
    load = os.getloadavg()
    print(f"machine load: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
