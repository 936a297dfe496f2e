"""Calling policy: when an outgoing call may be placed, and when the next attempt is due.

Pure functions of settings and a clock, so every rule (window, holidays, retry
spacing) is tested with exact datetimes. Knows nothing of Twilio or the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core import calendar

NEXT_WORKING_DAY = "next-working-day"
DEFAULT_RETRY_SPACING = "PT30M,PT2H,next-working-day"
# Outcomes after which another attempt is made (while attempts remain).
RETRY_OUTCOMES = frozenset({"busy", "no-answer", "failed", "machine", "unanswered"})

_DURATION_RE = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


class PolicyError(ValueError):
    """A calling-policy setting that cannot be understood."""


def parse_duration(spec: str) -> timedelta:
    """ISO-8601 duration without years/months: 'PT0S', 'PT30M', 'P1DT2H'."""
    match = _DURATION_RE.match(spec.strip().upper())
    if not match or spec.strip().upper() in ("P", "PT"):
        raise PolicyError(f"bad duration {spec!r}: expected ISO-8601 such as PT30M or P1D")
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


def parse_delay(spec: str) -> timedelta | str:
    """A delay setting: 'next-working-day' or an ISO-8601 duration."""
    spec = spec.strip()
    return NEXT_WORKING_DAY if spec.lower() == NEXT_WORKING_DAY else parse_duration(spec)


@dataclass(frozen=True)
class Policy:
    """The calling rules in force, read once from the app config."""

    timezone: str = "Asia/Shanghai"
    window: tuple[time, time] = (time(9), time(20))
    delay: timedelta | str = NEXT_WORKING_DAY
    retry_spacing: tuple[timedelta | str, ...] = (
        timedelta(minutes=30),
        timedelta(hours=2),
        NEXT_WORKING_DAY,
    )
    max_attempts: int = 3
    cps: float = 1.0
    max_concurrent: int = 10
    workdays_only: bool = True
    return_call_within: timedelta = timedelta(hours=4)

    @classmethod
    def from_config(cls, config) -> Policy:
        try:
            spacing = tuple(
                parse_delay(p)
                for p in str(config.get("CALLBACK_RETRY_SPACING", DEFAULT_RETRY_SPACING)).split(",")
                if p.strip()
            )
            days = str(config.get("CALLING_DAYS", "workdays")).strip().lower()
            if days not in ("workdays", "all"):
                raise PolicyError(f"CALLING_DAYS must be 'workdays' or 'all', not {days!r}")
            policy = cls(
                timezone=str(config.get("HOTLINE_TIMEZONE", "Asia/Shanghai")),
                window=calendar.parse_window(str(config.get("CALLING_WINDOW", "09:00-20:00"))),
                delay=parse_delay(str(config.get("CALLBACK_DELAY", NEXT_WORKING_DAY))),
                retry_spacing=spacing or (NEXT_WORKING_DAY,),
                max_attempts=int(config.get("CALLBACK_MAX_ATTEMPTS", 3)),
                cps=float(config.get("CALLBACK_CPS", 1)),
                max_concurrent=int(config.get("CALLBACK_MAX_CONCURRENT", 10)),
                workdays_only=days == "workdays",
                return_call_within=parse_duration(str(config.get("RETURN_CALL_WITHIN", "PT4H"))),
            )
        except ValueError as exc:
            raise PolicyError(str(exc)) from exc
        if policy.max_attempts < 1 or policy.cps <= 0 or policy.max_concurrent < 1:
            raise PolicyError(
                "CALLBACK_MAX_ATTEMPTS, CALLBACK_CPS and CALLBACK_MAX_CONCURRENT must be positive"
            )
        return policy

    # -- the calling window ------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def calling_day(self, day) -> bool:
        return calendar.is_workday(day) if self.workdays_only else True

    def may_call_at(self, moment: datetime) -> bool:
        """Whether a call may be placed at this aware moment."""
        local = moment.astimezone(self.zone)
        start, end = self.window
        return self.calling_day(local.date()) and start <= local.time() < end

    def next_allowed(self, moment: datetime) -> datetime:
        """The earliest moment >= `moment` inside the window on a calling day (UTC)."""
        local = moment.astimezone(self.zone)
        start, end = self.window
        day = local.date()
        if self.calling_day(day) and local.time() < end:
            if local.time() >= start:
                return moment.astimezone(UTC)
            return self._at(day, start)
        for _ in range(366):
            day += timedelta(days=1)
            if self.calling_day(day):
                return self._at(day, start)
        raise PolicyError("no calling day within a year: check CALLING_DAYS and the calendar")

    def _at(self, day, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def _after(self, moment: datetime, delay: timedelta | str) -> datetime:
        if delay == NEXT_WORKING_DAY:
            local_day = moment.astimezone(self.zone).date()
            return self._at(calendar.next_working_day(local_day), self.window[0])
        return moment + delay

    # -- when attempts are due ---------------------------------------------------
    def first_attempt_at(self, resolved_at: datetime) -> datetime:
        """When the first satisfaction callback for a ticket resolved at this moment is due."""
        return self.next_allowed(self._after(resolved_at, self.delay))

    def retry_at(self, attempt_no: int, ended_at: datetime) -> datetime | None:
        """When attempt `attempt_no + 1` is due after attempt `attempt_no` failed; None: give up."""
        if attempt_no >= self.max_attempts:
            return None
        spacing = self.retry_spacing[min(attempt_no, len(self.retry_spacing)) - 1]
        return self.next_allowed(self._after(ended_at, spacing))

    def return_call_deadline(self, missed_at: datetime) -> datetime:
        return missed_at + self.return_call_within
