"""Numbers written in Chinese characters as they are read aloud.

`cardinal` (22 -> 二十二, 2000 -> 两千), `count` (两 before measure words: 两个),
`digits` (one by one, 1 as 幺 for codes, or 一 for years), `decimal` (3.5 -> 三点五).
Used by speech.normalize, which decides which reading a number in a text gets.
"""

from __future__ import annotations

DIGIT_NAMES = "零一二三四五六七八九"
CODE_DIGIT_NAMES = "零幺二三四五六七八九"  # identifiers: 1 as 幺 so it is never heard as 7
SMALL_UNITS = ("", "十", "百", "千")
BIG_UNITS = ("", "万", "亿", "万亿")
# Measure words before which 2 is 两 (两个, 两天), not 二.
LIANG_BEFORE = frozenset("个位件条次天周年小时岁人户家名张台辆套间栋项份倍点万千百亿种元块斤吨亩米")


def cardinal(number: str) -> str:
    """'22' -> 二十二, '110' -> 一百一十, '10' -> 十, '2006' -> 两千零六 (up to 10^16)."""
    rest = number.lstrip("0")
    if not rest:
        return "零"
    groups = []
    while rest:
        groups.insert(0, rest[-4:])
        rest = rest[:-4]
    out, zero_pending = "", False
    for i, group in enumerate(groups):
        big = BIG_UNITS[len(groups) - 1 - i]
        group = group.rjust(4, "0")
        if group == "0000":
            zero_pending = bool(out)
            continue
        part = ""
        for j, ch in enumerate(group):
            unit = SMALL_UNITS[3 - j]
            if ch == "0":
                zero_pending = zero_pending or bool(out or part)
                continue
            if zero_pending:
                part += "零"
                zero_pending = False
            # 两百, 两千, 两万, 一万两千: 2 before a large unit is 两 in speech.
            leading = not out and not part
            name = (
                "两"
                if ch == "2"
                and (unit == "千" or (unit == "百" and leading) or (big and part == "" and j == 3))
                else None
            )
            part += (name or DIGIT_NAMES[int(ch)]) + unit
        out += part + big
        zero_pending = group.endswith("0")
    # 一十二 -> 十二 only at the very start (一百一十 keeps its inner 一).
    return out[1:] if out.startswith("一十") else out


def count(number: str, following: str = "") -> str:
    """A cardinal as it is said before `following`: 2个 -> 两个, 2月 -> 二月."""
    if number.lstrip("0") == "2" and following[:1] in LIANG_BEFORE:
        return "两"
    return cardinal(number)


def digits(number: str, names: str = CODE_DIGIT_NAMES) -> str:
    """'12345' -> 幺二三四五 (identifiers); with DIGIT_NAMES '2026' -> 二零二六 (years)."""
    return "".join(names[int(ch)] for ch in number if ch.isdigit())


def decimal(number: str) -> str:
    """'3.5' -> 三点五, '0.25' -> 零点二五."""
    whole, _, frac = number.partition(".")
    return cardinal(whole) + ("点" + digits(frac, DIGIT_NAMES) if frac else "")
