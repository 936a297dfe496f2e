"""Calling policy: when an outgoing call may be placed, and when the next attempt is due.

Pure functions of settings and a clock, so every rule (window, holidays, retry
spacing) is tested with exact datetimes. Knows nothing of Twilio or the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core import calendar
from core.config import value
from core.kinds import NEXT_WORKING_DAY

# Outcomes after which another attempt is made (while attempts remain).
RETRY_OUTCOMES = frozenset({"busy", "no-answer", "failed", "machine", "unanswered"})


class PolicyError(ValueError):
    """A calling-policy setting that cannot be understood."""


@dataclass(frozen=True)
class Policy:
    """The calling rules in force, read once from the app config (defaults: core.config)."""

    timezone: str
    window: tuple[time, time]
    delay: timedelta | str
    retry_spacing: tuple[timedelta | str, ...]
    max_attempts: int
    cps: float
    max_concurrent: int
    workdays_only: bool
    return_call_within: timedelta

    @classmethod
    def from_config(cls, config) -> Policy:
        """The policy of an app config (checked at start) or of a partial mapping (tests)."""
        try:
            return cls(
                timezone=value(config, "HOTLINE_TIMEZONE"),
                window=value(config, "CALLING_WINDOW"),
                delay=value(config, "CALLBACK_DELAY"),
                retry_spacing=value(config, "CALLBACK_RETRY_SPACING"),
                max_attempts=value(config, "CALLBACK_MAX_ATTEMPTS"),
                cps=value(config, "CALLBACK_CPS"),
                max_concurrent=value(config, "CALLBACK_MAX_CONCURRENT"),
                workdays_only=value(config, "CALLING_DAYS") == "workdays",
                return_call_within=value(config, "RETURN_CALL_WITHIN"),
            )
        except ValueError as exc:
            raise PolicyError(str(exc)) from exc

    # -- the calling window ------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def calling_day(self, day) -> bool:
        return calendar.is_workday(day) if self.workdays_only else True

    def may_call_at(self, moment: datetime) -> bool:
        """Whether a call may be placed at this aware moment."""
        local = moment.astimezone(self.zone)
        return self.calling_day(local.date()) and calendar.window_contains(
            self.window, local.time()
        )

    def next_allowed(self, moment: datetime) -> datetime:
        """The earliest moment >= `moment` inside the window on a calling day (UTC)."""
        local = moment.astimezone(self.zone)
        start, end = self.window
        day = local.date()
        if self.calling_day(day) and calendar.window_contains((time.min, end), local.time()):
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
