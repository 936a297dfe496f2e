"""Hotline text as a Mandarin speaker reads it aloud: digits, dates, times, symbols in words.

`normalize(text)` runs the RULES in order; each rule is one function over one
regular expression and rewrites what it matches into Chinese characters. The
order decides context: identifiers (拨打110, 尾号5678, 12345) are read digit
by digit before quantities (110元) are read as cardinals. Data that an office
may want to extend (service numbers, keywords that announce an identifier,
measure words) are the tables at the top. Pauses are kept as Chinese
punctuation (、，。；：？！); anything else that makes no sound is dropped.
Pure text in, text out: no pinyin here (speech.pinyin), no audio.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from speech.numerals import (
    DIGIT_NAMES,
    cardinal,
    count,
    decimal,
    digits,
)

# Service numbers a caller dials: always digit by digit unless a unit follows (110元).
SERVICE_NUMBERS = frozenset(
    re.findall(
        r"\d+",
        """
        110 114 119 120 122 12110 12306 12315 12318 12319 12320 12328 12333 12338 12345
        12348 12351 12355 12356 12358 12365 12366 12369 12377 12388 12390 12393 95598
        95588
        """,
    )
)
# Words after which a number is an identifier (phone, ticket, plate, code): digit by digit.
IDENTIFIER_WORDS = (
    "拨打|致电|来电|电话|热线|号码|手机号|手机|座机|尾号|工单号|工单编号|编号|单号|编码|"
    "受理号|验证码|身份证号|身份证|账号|户号|卡号|门牌号|房号|分机|传真|邮编|转"
)
# Characters after a number that make it a quantity read as a cardinal (not an identifier).
UNITS = (
    "元|块|角|分钟|分|个|位|件|条|次|天|日|周|月|年|小时|秒|岁|人|户|家|名|张|台|辆|套|间|栋|"
    "层|楼|米|公里|千米|厘米|平方米|平米|亩|吨|公斤|千克|克|斤|度|摄氏度|倍|项|期|批|份|"
    "号|点|万|亿|千|百|多|余|以上|以下|以内|左右|工作日|个工作日"
)
MIN_IDENTIFIER_DIGITS = 5  # a bare number this long with no unit is a code, not an amount

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"  # plates: 鲁E12345
UNIT_SYMBOLS = {
    "℃": "摄氏度",
    "°C": "摄氏度",
    "km": "公里",
    "kg": "公斤",
    "cm": "厘米",
    "mm": "毫米",
    "m²": "平方米",
    "㎡": "平方米",
    "m": "米",
}

PAUSES = {
    ",": "，",
    ".": "。",
    ";": "；",
    ":": "：",
    "?": "？",
    "!": "！",
    "…": "。",
    "—": "，",
    "\n": "。",
    "/": "、",
}
SILENT = "\"'“”‘’「」『』《》〈〉【】[]()（）{}<>_=|~`^·•"


# -- rules: one function each, applied in RULES order ----------------------------------------


def full_width(m: re.Match) -> str:
    """Full-width digits, letters and signs as ASCII so the other rules see one form."""
    return m.group(0).translate(_FULL_WIDTH)


def phone_number(m: re.Match) -> str:
    """0546-8381234, 400-123-4567, 138 0013 8000: digit by digit, groups as short pauses."""
    return "，".join(digits(g) for g in re.split(r"[-\s]+", m.group(0)))


def thousands(m: re.Match) -> str:
    """12,345 -> 12345 (the comma groups digits, it is no pause)."""
    return m.group(0).replace(",", "")


def plate(m: re.Match) -> str:
    """鲁E12345, 鲁E·5678A: the province, then letters and digits one by one."""
    rest = "".join(LETTER_NAMES[c] if c.isalpha() else digits(c) for c in m.group("rest"))
    return m.group("p") + LETTER_NAMES[m.group("l")] + rest


def multiply(m: re.Match) -> str:
    """7×24小时, 3*4 -> 七乘二十四小时 (not the keypad's star)."""
    return "乘"


def unit_symbol(m: re.Match) -> str:
    """18℃, 5km, 90㎡ -> 摄氏度, 公里, 平方米 after the number."""
    return UNIT_SYMBOLS[m.group(0)]


def below_zero(m: re.Match) -> str:
    """-5℃ -> 零下5 (the number and the unit are read by the following rules)."""
    return "零下" + m.group("n")


def yuan_sign(m: re.Match) -> str:
    """¥50 -> 50元."""
    return m.group("n") + "元"


def per_unit(m: re.Match) -> str:
    """元/月, 元/平方米: the slash between units is 每."""
    return "每"


def room_number(m: re.Match) -> str:
    """501室, 1203房间, 101路: room and bus-route numbers digit by digit."""
    return digits(m.group(0))


def fraction(m: re.Match) -> str:
    """1/3 -> 三分之一 (only a proper fraction: 12/1 is no fraction)."""
    if int(m.group("a")) >= int(m.group("b")):
        return m.group(0)
    return cardinal(m.group("b")) + "分之" + cardinal(m.group("a"))


def service_number(m: re.Match) -> str:
    """12345, 110, 12315 … : digit by digit (110元 is a quantity and stays for that rule)."""
    return digits(m.group(0)) if m.group(0) in SERVICE_NUMBERS else m.group(0)


def keypad_symbol(m: re.Match) -> str:
    """# and * on the keypad: 井号, 星号 (按#号键 -> 按井号键)."""
    name = "井" if m.group(0) == "#" else "星"
    return name if m.string[m.end() : m.end() + 1] == "号" else name + "号"


def identifier_after_word(m: re.Match) -> str:
    """拨打110, 尾号5678, 工单号2026… : the number after the word, digit by digit."""
    return m.group("word") + m.group("sep") + digits(m.group("number"))


def spaced_digits(m: re.Match) -> str:
    """'2 0 2 6 1 1' (a ticket number spelled out for the engine): digit by digit."""
    return digits(m.group(0))


def iso_date(m: re.Match) -> str:
    """2026-12-01 or 2026/12/1 -> 二零二六年十二月一日."""
    year, month, day = m.group("y"), m.group("m"), m.group("d")
    return f"{digits(year, DIGIT_NAMES)}年{cardinal(month)}月{cardinal(day)}日"


def date_range(m: re.Match) -> str:
    """2020-2025年 -> 二零二零到二零二五年 (the unit stays), 1—3月 -> 一到三月."""
    a, b, unit = m.group("a"), m.group("b"), m.group("unit")
    if unit == "年" and len(a) == 4:
        return digits(a, DIGIT_NAMES) + "到" + digits(b, DIGIT_NAMES)
    return cardinal(a) + "到" + cardinal(b)


def zero_minutes(m: re.Match) -> str:
    """12点05分 -> 12点零五分."""
    return "零" + DIGIT_NAMES[int(m.group("d"))] + "分"


def year(m: re.Match) -> str:
    """2026年 -> 二零二六年 (years digit by digit, 1 as 一)."""
    return digits(m.group("y"), DIGIT_NAMES) + "年"


def month_day(m: re.Match) -> str:
    """12月1日, 11月3号, 3月 -> 十二月一日, 十一月三号, 三月."""
    out = cardinal(m.group("m")) + "月"
    if m.group("d"):
        out += cardinal(m.group("d")) + m.group("dw")
    return out


def clock_range(m: re.Match) -> str:
    """08:00-20:00 -> 八点到二十点."""
    return _clock(m.group("h1"), m.group("m1")) + "到" + _clock(m.group("h2"), m.group("m2"))


def clock(m: re.Match) -> str:
    """9:30 -> 九点三十分, 20:00 -> 二十点, 8:05 -> 八点零五分."""
    return _clock(m.group("h"), m.group("m"))


def _clock(hour: str, minute: str) -> str:
    spoken = count(hour, "点") + "点"
    minute = minute.lstrip("0")
    if not minute:
        return spoken
    return spoken + ("零" if len(minute) == 1 else "") + cardinal(minute) + "分"


def percent_range(m: re.Match) -> str:
    """10%-20% or 10-20% -> 百分之十到百分之二十."""
    return f"百分之{_number(m.group('a'))}到百分之{_number(m.group('b'))}"


def percent(m: re.Match) -> str:
    """95% -> 百分之九十五, 2.5% -> 百分之二点五."""
    return "百分之" + _number(m.group("n"))


def number_range(m: re.Match) -> str:
    """3-5天, 3~5个, 3至5 -> 三到五天 (the unit stays for the cardinal rule)."""
    unit = m.group("unit") or ""
    return _number(m.group("a")) + "到" + count(m.group("b"), unit) + unit


def decimal_number(m: re.Match) -> str:
    """3.5 -> 三点五."""
    return decimal(m.group(0))


def ordinal(m: re.Match) -> str:
    """第2 -> 第二 (never 两)."""
    return "第" + cardinal(m.group("n"))


def long_code(m: re.Match) -> str:
    """A bare number of MIN_IDENTIFIER_DIGITS or more with no unit: a code, digit by digit."""
    return digits(m.group(0))


def quantity(m: re.Match) -> str:
    """22元, 13个工作日, 3天 and any other number left: a cardinal (两 before measure words)."""
    number = m.group(0)
    following = m.string[m.end() : m.end() + 1]
    return count(number, following)


def latin(m: re.Match) -> str:
    """Latin letters (APP, WiFi, ETC) spelled one by one as a Chinese speaker names them."""
    return "".join(LETTER_NAMES[ch] for ch in m.group(0).upper())


def pause(m: re.Match) -> str:
    """ASCII and other punctuation as the Chinese pause marks the pinyin step keeps."""
    return PAUSES.get(m.group(0), "")


def silent(m: re.Match) -> str:
    """Quotes, brackets, symbols and emoji make no sound."""
    return ""


# Letters as Chinese speakers name them, written in characters that pypinyin reads reliably.
LETTER_NAMES = dict(
    zip(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [
            "诶",
            "必",
            "西",
            "弟",
            "亿",
            "艾弗",
            "记",
            "艾尺",
            "爱",
            "杰",
            "开",
            "艾勒",
            "艾姆",
            "恩",
            "欧",
            "屁",
            "扣",
            "阿",
            "艾丝",
            "踢",
            "优",
            "维",
            "达布溜",
            "艾克斯",
            "歪",
            "贼",
        ],
        strict=True,
    )
)
_FULL_WIDTH = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF1A)}
    | {chr(c): chr(c - 0xFEE0) for c in range(0xFF21, 0xFF3B)}
    | {chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)}
    | {"％": "%", "－": "-", "～": "~", "．": ".", "／": "/", "　": " "}
)
_N = r"\d+(?:\.\d+)?"


def _number(text: str) -> str:
    return decimal(text) if "." in text else cardinal(text)


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    apply: Callable[[re.Match], str]


def _rule(fn: Callable[[re.Match], str], pattern: str) -> Rule:
    return Rule(fn.__name__, re.compile(pattern), fn)


_NOT_UNIT = rf"(?!\d|\.\d|{UNITS}|%)"
RULES: tuple[Rule, ...] = (
    _rule(full_width, r"[\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A％－～．／　]+"),
    _rule(thousands, r"(?<![\d.,])\d{1,3}(?:,\d{3})+(?![\d,])"),
    _rule(
        plate, rf"(?P<p>[{PROVINCES}])(?P<l>[A-Z])[·\s]?(?P<rest>[A-Z0-9]{{5,6}})(?![A-Za-z0-9])"
    ),
    _rule(multiply, r"(?<=\d)\s*[×xX*＊]\s*(?=\d)"),
    _rule(below_zero, r"(?<![\d])-(?P<n>\d+(?:\.\d+)?)(?=\s*(?:℃|°C|摄氏度|度))"),
    _rule(unit_symbol, r"(?<=\d)(?:℃|°C|km|kg|cm|mm|m²|㎡|m)(?![A-Za-z])|(?<=\d)\s*[㎡℃]"),
    _rule(yuan_sign, r"[¥￥]\s*(?P<n>\d+(?:\.\d+)?)"),
    _rule(per_unit, r"(?<=[元个次人天件吨斤米亩度户时])/(?=[\u4e00-\u9fff])"),
    _rule(
        room_number, r"(?<![\d.])\d{3,4}(?=室|房间|号房|路公交|路车|路汽车|路(?!口|段|面|边|上))"
    ),
    _rule(
        fraction,
        r"(?<![\d/.])(?P<a>\d+)/(?P<b>\d+)(?![\d/.])",
    ),
    _rule(
        phone_number,
        r"(?<!\d)(?:0\d{2,3}-\d{7,8}|400-?\d{3}-?\d{4}|1[3-9]\d[ -]\d{4}[ -]\d{4})(?!\d)",
    ),
    _rule(service_number, rf"(?<![\d.])\d{{3,5}}{_NOT_UNIT}"),
    _rule(keypad_symbol, r"[#*＃＊]"),
    _rule(
        identifier_after_word,
        rf"(?P<word>{IDENTIFIER_WORDS})(?P<sep>[是为：:\s]*)(?P<number>\d(?: ?\d)*){_NOT_UNIT}",
    ),
    _rule(spaced_digits, r"(?<![\d.])\d(?: \d){3,}(?![\d.])"),
    _rule(
        iso_date, r"(?<!\d)(?P<y>(?:19|20)\d\d)[-/.](?P<m>1[0-2]|0?[1-9])[-/.](?P<d>[0-3]?\d)(?!\d)"
    ),
    _rule(
        date_range,
        r"(?<![\d.])(?P<a>\d{1,4})\s*[-~—至到]\s*(?P<b>\d{1,4})(?=(?P<unit>[年月日号]))",
    ),
    _rule(zero_minutes, r"(?<=点)0(?P<d>\d)分"),
    _rule(year, r"(?<!\d)(?P<y>\d{4})年"),
    _rule(month_day, r"(?<!\d)(?P<m>1[0-2]|0?[1-9])月(?:(?P<d>[0-3]?\d)(?P<dw>[日号]))?"),
    _rule(
        clock_range,
        r"(?<!\d)(?P<h1>[01]?\d|2[0-4])[:：](?P<m1>[0-5]\d)\s*[-~至到—]\s*"
        r"(?P<h2>[01]?\d|2[0-4])[:：](?P<m2>[0-5]\d)(?!\d)",
    ),
    _rule(clock, r"(?<!\d)(?P<h>[01]?\d|2[0-4])[:：](?P<m>[0-5]\d)(?!\d)"),
    _rule(percent_range, rf"(?<![\d.])(?P<a>{_N})%?\s*[-~至到—]\s*(?P<b>{_N})%"),
    _rule(percent, rf"(?<![\d.])(?P<n>{_N})%"),
    _rule(
        number_range,
        rf"(?<![\d.])(?P<a>{_N})\s*[-~至—]\s*(?P<b>\d+)(?![\d.])(?P<unit>{UNITS})?",
    ),
    _rule(decimal_number, r"(?<![\d.])\d+\.\d+(?![\d.])"),
    _rule(ordinal, r"第(?P<n>\d+)"),
    _rule(long_code, rf"(?<!\d)(?:\d{{{MIN_IDENTIFIER_DIGITS},}}){_NOT_UNIT}"),
    _rule(quantity, r"\d+"),
    _rule(latin, r"[A-Za-z]+"),
    _rule(pause, r"[,.;:?!…—\n/]"),
    _rule(silent, "[" + re.escape(SILENT) + r"]|[^\w\s、，。；：？！]"),
)


def normalize(text: str) -> str:
    """Text with every number, symbol and Latin word written as it is read aloud."""
    for rule in RULES:
        text = rule.pattern.sub(rule.apply, text)
    return re.sub(r"\s+", " ", text).strip()
