"""Chinese spoken numbers to digits: "二零一九一二" -> "201912", "幺" -> "1", "两" -> "2".

Callers read ticket numbers and phone numbers digit by digit, but also say
"十二" or "二十三"; both forms are handled. Full-width and ASCII digits pass through.
"""

from __future__ import annotations

import re

DIGITS = {
    "零": "0",
    "〇": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "么": "1",
    "壹": "1",
    "二": "2",
    "两": "2",
    "俩": "2",
    "贰": "2",
    "三": "3",
    "叁": "3",
    "四": "4",
    "肆": "4",
    "五": "5",
    "伍": "5",
    "六": "6",
    "陆": "6",
    "七": "7",
    "柒": "7",
    "拐": "7",
    "八": "8",
    "捌": "8",
    "九": "9",
    "玖": "9",
    "勾": "9",
}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10_000}
FILLERS = set(" \t,，、。.-—_嗯呃啊哦号杠")
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_RUN = re.compile("[0-9" + "".join(DIGITS) + "".join(UNITS) + "]+")


def _positional(run: str) -> str:
    """A run with units ("二十三", "一百零五", "两万") -> its value as digits."""
    total, section, digit = 0, 0, None
    for ch in run:
        if ch in UNITS:
            unit = UNITS[ch]
            if unit == 10_000:
                total += (section + (digit or 0)) * unit
                section, digit = 0, None
            else:
                section += (1 if digit is None else digit) * unit
                digit = None
        else:
            digit = int(DIGITS.get(ch, ch))
    return str(total + section + (digit or 0))


def to_digits(text: str) -> str:
    """Every number in `text` rewritten as ASCII digits; other characters kept."""
    text = text.translate(_FULLWIDTH)

    def convert(match: re.Match) -> str:
        run = match.group(0)
        if any(ch in UNITS for ch in run):
            return _positional(run)
        return "".join(DIGITS.get(ch, ch) for ch in run)

    return _RUN.sub(convert, text)


def spoken_digits(text: str) -> str | None:
    """The digit string of an answer that is only a number (fillers allowed), else None."""
    kept = "".join(ch for ch in text.translate(_FULLWIDTH) if ch not in FILLERS)
    if not kept or not _RUN.fullmatch(kept):
        return None
    return to_digits(kept)


MIN_SPOKEN_RUN = 4  # "一一" / "三三两两" are words; phone and ticket numbers are longer
# 两/俩 count things ("三三两两"); read-out numbers use 二, so they do not join a run here.
_DIGIT_RUN = re.compile("[" + "".join(d for d in DIGITS if d not in "两俩") + r"\s]+")


def digit_runs(text: str, min_len: int = MIN_SPOKEN_RUN) -> str:
    """Rewrite only long digit-by-digit runs (phone, ticket numbers) in free text.

    For transcripts: "电话幺三八零零一二" -> "电话1380012", while "一起" or "三三两两" stay.
    """

    def convert(match: re.Match) -> str:
        run = match.group(0)
        digits = [DIGITS[ch] for ch in run if ch in DIGITS]
        if len(digits) < min_len:
            return run
        tail = run[len(run.rstrip()) :]
        return run[: len(run) - len(run.lstrip())] + "".join(digits) + tail

    return _DIGIT_RUN.sub(convert, text)
