"""The forecast on synthetic seed-shaped histories: shape, holidays, surges, too little data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from core import calendar as core_calendar
from planning import synthetic
from planning.forecast import Calendar, ForecastError, forecast, seasonal_naive
from planning.history import day_slots

CAL = Calendar(core_calendar.is_workday, core_calendar.holiday_name)


def _history(first: date, days: int, **shape):
    return synthetic.history(CAL, first, days, synthetic.Shape(**({"surges": 0} | shape)))[0]


def test_day_kinds_follow_the_calendar():
    assert CAL.kind(date(2026, 12, 2)) == "wed"
    assert CAL.kind(date(2026, 12, 5)) == "sat"
    assert CAL.kind(date(2026, 10, 1)) == "hol"  # National Day
    assert CAL.kind(date(2026, 2, 17)) == "spring"  # Spring Festival
    assert CAL.kind(date(2026, 1, 4)) == "adj"  # a Sunday made a workday (调休)


def test_recovers_the_weekly_and_daily_shape():
    first = date(2026, 3, 2)
    slots = _history(first, 70)
    origin = first + timedelta(days=70)  # 2026-05-11, a Monday
    fc = forecast(slots, CAL, origin, 7)
    by_kind = {d.kind: d.calls for d in fc.days}
    weekend_ratio = by_kind["sat"] / by_kind["wed"]
    assert weekend_ratio == pytest.approx(synthetic.KIND_LEVEL["weekend"], rel=0.12)
    wednesday = [s for s in fc.slots if s.start.date() == origin + timedelta(days=2)]
    peak = max(wednesday, key=lambda s: s.calls)
    assert 9 <= peak.start.hour <= 10  # the morning peak of a workday
    assert min(wednesday, key=lambda s: s.calls).start.hour < 6  # the night trough
    assert all(s.low <= s.calls <= s.high for s in fc.slots)


def test_holidays_lower_the_forecast():
    first = date(2025, 6, 1)
    slots = _history(first, 480)  # through 2026-09-23, with the 2025 holidays in it
    fc = forecast(slots, CAL, date(2026, 9, 28), 14)
    calls = {d.day: d for d in fc.days}
    national_day = calls[date(2026, 10, 2)]
    assert national_day.kind == "hol"
    workdays = [d.calls for d in fc.days if d.kind in ("mon", "tue", "wed", "thu", "fri")]
    assert national_day.calls < 0.6 * np.mean(workdays)
    # The adjusted Saturday workday after the holiday is staffed like a workday.
    adjusted = [d for d in fc.days if d.kind == "adj"]
    assert adjusted and adjusted[0].calls > 0.8 * np.mean(workdays)


def test_a_surge_in_the_history_is_left_out():
    first = date(2026, 3, 2)
    origin = first + timedelta(days=70)
    calm = _history(first, 70)
    surge_day = origin - timedelta(days=5)  # a Wednesday, the same weekday as origin + 2
    stormy = dict(calm)
    for start in day_slots(surge_day)[18:30]:  # 09:00–15:00, a typhoon's flooding
        stormy[start] = replace(calm[start], offered=calm[start].offered * 4)
    calm_fc = forecast(calm, CAL, origin, 7)
    stormy_fc = forecast(stormy, CAL, origin, 7)
    assert surge_day in stormy_fc.excluded
    wed = 2
    assert stormy_fc.days[wed].calls == pytest.approx(calm_fc.days[wed].calls, rel=0.03)
    # The baseline copies last week and so repeats the surge.
    naive = seasonal_naive(stormy, origin, 7)
    assert sum(naive[wed * 48 : (wed + 1) * 48]) > 1.5 * stormy_fc.days[wed].calls


def test_flagged_surge_days_are_excluded_even_when_mild():
    first = date(2026, 3, 2)
    slots = _history(first, 70)
    flagged = first + timedelta(days=60)
    fc = forecast(slots, CAL, first + timedelta(days=70), 7, exclude=[flagged])
    assert flagged in fc.excluded


def test_beats_the_seasonal_naive_baseline_on_a_year_of_history():
    first = date(2025, 6, 1)
    slots, _ = synthetic.history(CAL, first, 420, synthetic.Shape(seed=7))
    origin = first + timedelta(days=406)
    fc = forecast(slots, CAL, origin, 14)
    actual = np.array(
        [slots[s].offered for d in range(14) for s in day_slots(origin + timedelta(days=d))]
    )
    model = np.array([s.calls for s in fc.slots])
    naive = np.array(seasonal_naive(slots, origin, 14))
    assert np.abs(actual - model).sum() < np.abs(actual - naive).sum()


def test_too_little_history_says_what_is_missing():
    slots = _history(date(2026, 3, 2), 10)
    with pytest.raises(ForecastError, match="At least 14 days of call history"):
        forecast(slots, CAL, date(2026, 3, 12), 7)
    with pytest.raises(ForecastError, match="have 0"):
        forecast({}, CAL, date(2026, 3, 12), 7)
