"""Calling policy on exact dates of the 2026 Chinese calendar (holidays, 调休 workdays)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from callbacks.policy import Policy, PolicyError
from callbacks.ratelimit import CallRateLimiter
from core.kinds import parse_delay, parse_duration

SH = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def policy(**config) -> Policy:
    return Policy.from_config({"HOTLINE_TIMEZONE": "Asia/Shanghai", **config})


def test_next_working_day_skips_national_day_holiday():
    # Resolved on the eve of the 2026 National Day holiday (1-7 October).
    due = policy().first_attempt_at(local(2026, 9, 30, 15, 0))
    assert due == local(2026, 10, 8, 9, 0)


def test_adjusted_weekend_workday_counts_as_a_working_day():
    # Sunday 20 September 2026 is a 调休 workday.
    assert policy().first_attempt_at(local(2026, 9, 18, 10, 0)) == local(2026, 9, 20, 9, 0)
    assert policy().may_call_at(local(2026, 9, 20, 9, 0))
    assert not policy().may_call_at(local(2026, 9, 19, 10, 0))  # an ordinary Saturday


def test_immediate_delay_respects_window_edges():
    p = policy(CALLBACK_DELAY="PT0S")
    assert p.first_attempt_at(local(2026, 11, 26, 19, 59, 30)) == local(2026, 11, 26, 19, 59, 30)
    assert p.first_attempt_at(local(2026, 11, 26, 20, 0)) == local(2026, 11, 27, 9, 0)
    assert p.first_attempt_at(local(2026, 11, 26, 8, 59)) == local(2026, 11, 26, 9, 0)
    # Friday evening -> Monday morning.
    assert p.first_attempt_at(local(2026, 11, 27, 21, 0)) == local(2026, 11, 30, 9, 0)
    assert not p.may_call_at(local(2026, 10, 1, 10, 0))  # public holiday
    assert p.may_call_at(local(2026, 11, 26, 9, 0)) and not p.may_call_at(
        local(2026, 11, 26, 20, 0)
    )


def test_retry_spacing_30_minutes_2_hours_then_next_working_day():
    p = policy(CALLBACK_MAX_ATTEMPTS="4")
    assert p.retry_at(1, local(2026, 11, 26, 10, 0)) == local(2026, 11, 26, 10, 30)
    assert p.retry_at(2, local(2026, 11, 26, 10, 30)) == local(2026, 11, 26, 12, 30)
    assert p.retry_at(3, local(2026, 11, 26, 12, 30)) == local(2026, 11, 27, 9, 0)
    assert p.retry_at(4, local(2026, 11, 27, 9, 0)) is None
    # A retry that would fall after 20:00 moves into the next window.
    assert p.retry_at(2, local(2026, 11, 26, 19, 0)) == local(2026, 11, 27, 9, 0)
    assert policy().retry_at(3, local(2026, 11, 26, 12, 30)) is None  # default: 3 attempts


def test_calling_days_all_ignores_holidays_but_keeps_the_window():
    p = policy(CALLING_DAYS="all", CALLBACK_DELAY="PT1H")
    assert p.first_attempt_at(local(2026, 10, 1, 10, 0)) == local(2026, 10, 1, 11, 0)
    assert p.first_attempt_at(local(2026, 10, 1, 19, 30)) == local(2026, 10, 2, 9, 0)


def test_results_are_utc():
    assert policy().first_attempt_at(datetime(2026, 11, 26, 2, 0, tzinfo=UTC)).tzinfo == UTC


def test_durations():
    assert parse_duration("PT0S") == timedelta(0)
    assert parse_duration("P1DT2H30M") == timedelta(days=1, hours=2, minutes=30)
    assert parse_delay("next-working-day") == "next-working-day"
    for bad in ("P", "PT", "30m", "P1Y", "P1DT"):
        with pytest.raises(ValueError, match="expected ISO-8601"):
            parse_duration(bad)


@pytest.mark.parametrize(
    "config, message",
    [
        ({"CALLING_WINDOW": "20:00-09:00"}, "CALLING_WINDOW='20:00-09:00': expected HH:MM-HH:MM"),
        ({"CALLBACK_CPS": "0"}, "CALLBACK_CPS='0': expected a number above 0"),
        ({"CALLING_DAYS": "weekends"}, "CALLING_DAYS='weekends': expected one of workdays, all"),
        ({"CALLBACK_DELAY": "tomorrow"}, "CALLBACK_DELAY='tomorrow': expected 'next-working-day'"),
    ],
)
def test_bad_settings_are_named(config, message):
    with pytest.raises(PolicyError, match=message):
        policy(**config)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_rate_limiter_holds_the_cap_in_every_one_second_window():
    clock = FakeClock()
    limiter = CallRateLimiter(3, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(10):
        slot = limiter.acquire()
        stamps.append(clock.now)
        clock.now += 0.05  # the provider answers 50 ms later: the slot counts from then
        limiter.done(slot)
    assert max(sum(1 for t in stamps if s <= t < s + 1) for s in stamps) == 3
    assert stamps[3] == pytest.approx(1.05)


def test_fractional_rate_spaces_calls_and_deadline_gives_up():
    clock = FakeClock()
    limiter = CallRateLimiter(0.5, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() is not None
    assert limiter.acquire(deadline=1.0) is None
    assert limiter.acquire() is not None
    assert clock.now == pytest.approx(2.0)
