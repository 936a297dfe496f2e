"""What a setting's value may be: each kind turns an environment string into a typed value.

A kind's `parse` raises ValueError when the text is not acceptable, and its
`expects` says in a few words what would be; `core.config` turns both into one
line per bad setting. Parsing is idempotent (a parsed value parses to itself),
so a value set by a test or a caller is checked the same way as one from the
environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.calendar import parse_window

NEXT_WORKING_DAY = "next-working-day"

_DURATION_RE = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


def parse_duration(spec) -> timedelta:
    """ISO-8601 duration without years/months: 'PT0S', 'PT30M', 'P1DT2H'."""
    if isinstance(spec, timedelta):
        return spec
    text = str(spec).strip().upper()
    match = _DURATION_RE.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"bad duration {spec!r}: expected ISO-8601 such as PT30M or P1D")
    return timedelta(**{k: int(v) for k, v in match.groupdict().items() if v})


def parse_delay(spec) -> timedelta | str:
    """A delay: 'next-working-day' or an ISO-8601 duration."""
    if isinstance(spec, timedelta):
        return spec
    text = str(spec).strip()
    return NEXT_WORKING_DAY if text.lower() == NEXT_WORKING_DAY else parse_duration(text)


class Kind:
    """Text accepted as it is (stripped); subclasses check and convert."""

    expects = "text"
    # Whether app.config keeps the converted value (numbers, names, URLs) or the checked
    # text (windows, durations, lists: their users read them with core.config.value()).
    typed = True

    def parse(self, raw):
        return str(raw).strip()


@dataclass(frozen=True)
class Integer(Kind):
    low: int | None = None
    high: int | None = None

    @property
    def expects(self) -> str:
        if self.high is not None:
            return f"a whole number from {self.low} to {self.high}"
        return f"a whole number, at least {self.low}" if self.low is not None else "a whole number"

    def parse(self, raw) -> int:
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValueError(self.expects)
        number = int(raw) if isinstance(raw, int | float) else int(str(raw).strip())
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise ValueError(self.expects)
        return number


@dataclass(frozen=True)
class Number(Kind):
    low: float = 0.0
    high: float | None = None
    low_open: bool = False  # low itself is not allowed

    @property
    def expects(self) -> str:
        above = f"above {self.low:g}" if self.low_open else f"at least {self.low:g}"
        if self.high is not None:
            return f"a number {above} and at most {self.high:g}"
        return f"a number {above}"

    def parse(self, raw) -> float:
        number = float(raw if isinstance(raw, int | float) else str(raw).strip())
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(self.expects)
        too_low = number <= self.low if self.low_open else number < self.low
        if too_low or (self.high is not None and number > self.high):
            raise ValueError(self.expects)
        return number


class Choice(Kind):
    def __init__(self, *options: str, upper: bool = False):
        self.options, self.upper = options, upper

    @property
    def expects(self) -> str:
        return "one of " + ", ".join(self.options)

    def parse(self, raw) -> str:
        text = str(raw).strip()
        text = text.upper() if self.upper else text.lower()
        if text not in self.options:
            raise ValueError(self.expects)
        return text


class Flag(Kind):
    expects = "yes or no"
    _WORDS = {
        "yes": True,
        "true": True,
        "on": True,
        "1": True,
        "no": False,
        "false": False,
        "off": False,
        "0": False,
    }

    def parse(self, raw) -> bool:
        if isinstance(raw, bool):
            return raw
        try:
            return self._WORDS[str(raw).strip().lower()]
        except KeyError as exc:
            raise ValueError(self.expects) from exc


class Pattern(Kind):
    def __init__(self, pattern: str, expects: str):
        self.regex, self.expects = re.compile(pattern), expects

    def parse(self, raw) -> str:
        text = str(raw).strip()
        if not self.regex.fullmatch(text):
            raise ValueError(self.expects)
        return text


class Url(Kind):
    expects = "an http:// or https:// URL with a host and no query, e.g. https://hotline.example.cn"

    def parse(self, raw) -> str:
        text = str(raw).strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError(self.expects)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        return text


class DatabaseUrl(Kind):
    expects = (
        "an SQLAlchemy URL such as sqlite:///var/hotline.db or postgresql+psycopg://user@host/db"
    )

    def parse(self, raw) -> str:
        text = str(raw).strip()
        try:
            url = make_url(text)
        except ArgumentError as exc:
            raise ValueError(self.expects) from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(self.expects)
        return text


class TimeZone(Kind):
    expects = "an IANA time zone such as Asia/Shanghai"

    def parse(self, raw) -> str:
        text = str(raw).strip()
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(self.expects) from exc
        return text


class Window(Kind):
    typed = False
    expects = "HH:MM-HH:MM with the start before the end (24:00 for midnight), e.g. 09:00-20:00"

    def parse(self, raw) -> tuple[time, time]:
        if isinstance(raw, tuple):
            return raw
        try:
            return parse_window(str(raw))
        except ValueError as exc:
            raise ValueError(self.expects) from exc


class Duration(Kind):
    typed = False
    expects = "an ISO-8601 duration such as PT30M, PT4H or P1D"

    def parse(self, raw) -> timedelta:
        try:
            return parse_duration(raw)
        except ValueError as exc:
            raise ValueError(self.expects) from exc


class Delay(Kind):
    typed = False
    expects = f"'{NEXT_WORKING_DAY}' or an ISO-8601 duration such as PT0S or PT2H"

    def parse(self, raw) -> timedelta | str:
        try:
            return parse_delay(raw)
        except ValueError as exc:
            raise ValueError(self.expects) from exc


class DelayList(Kind):
    typed = False
    expects = f"comma-separated delays: ISO-8601 durations or '{NEXT_WORKING_DAY}'"

    def parse(self, raw) -> tuple[timedelta | str, ...]:
        if isinstance(raw, tuple):
            return raw
        try:
            delays = tuple(parse_delay(p) for p in str(raw).split(",") if p.strip())
        except ValueError as exc:
            raise ValueError(self.expects) from exc
        if not delays:
            raise ValueError(self.expects)
        return delays


class DaysPerType(Kind):
    typed = False
    expects = "comma-separated type=working-days, e.g. consultation=3,complaint=13"

    def parse(self, raw) -> dict[str, int]:
        if isinstance(raw, dict):
            return raw
        days: dict[str, int] = {}
        for part in str(raw).split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep or not name.strip() or not value.strip().isdigit():
                raise ValueError(self.expects)
            days[name.strip()] = int(value)
        if not days:
            raise ValueError(self.expects)
        days.setdefault("other", max(days.values()))
        return days


class Clocks(Kind):
    expects = "comma-separated times of day HH:MM, e.g. 08:00,16:00"

    def parse(self, raw) -> str:
        text = str(raw).strip()
        try:
            for part in text.split(","):
                time.fromisoformat(part.strip())
        except ValueError as exc:
            raise ValueError(self.expects) from exc
        return text
