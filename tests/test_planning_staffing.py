"""The rota: every half hour covered, with the fewest agent-shifts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from planning import staffing
from planning.forecast import SlotForecast
from planning.history import day_slots


def _required(days: int, per_slot) -> dict[datetime, int]:
    out = {}
    for d in range(days):
        for i, start in enumerate(day_slots(date(2026, 12, 7) + timedelta(days=d))):
            out[start] = per_slot(i)
    return out


def test_constant_need_is_covered_by_three_eight_hour_shifts_a_day():
    required = _required(2, lambda i: 3)
    rota = staffing.plan(required, staffing.parse_starts("00:00,08:00,16:00"), 8)
    assert all(rota.coverage[k] >= 3 for k in required)
    assert rota.agent_shifts == 2 * 3 * 3


def test_plan_is_minimal_against_the_agent_hours_bound():
    # A double peak: 2 agents at night, 10 in the day, 14 in the two peaks.
    def need(i):
        hour = i / 2
        return 14 if 9 <= hour < 11 or 14 <= hour < 16 else 10 if 7 <= hour < 20 else 2

    required = _required(3, need)
    starts = staffing.parse_starts("00:00,06:00,07:00,08:00,09:00,10:00,12:00,14:00,16:00,18:00")
    rota = staffing.plan(required, starts, 8)
    assert all(rota.coverage[k] >= n for k, n in required.items())
    # No plan can use fewer agent-shifts than the agent-hours needed divided by 8.
    lower_bound = sum(required.values()) / 2 / 8
    assert lower_bound <= rota.agent_shifts <= lower_bound * 1.5


def test_the_first_night_is_covered_by_a_shift_starting_the_evening_before():
    required = {datetime(2026, 12, 7, 0): 2, datetime(2026, 12, 7, 1, 30): 2}
    rota = staffing.plan(required, [time(18)], 8)
    assert [(s.start, s.agents) for s in rota.shifts] == [(datetime(2026, 12, 6, 18), 2)]


def test_needs_come_from_erlang_c_per_half_hour():
    slots = [SlotForecast(datetime(2026, 12, 7, 9), 100, 80, 120)]
    (need,) = staffing.needs(
        slots, staffing.Target(answer_within=20, aht_seconds=180, shrinkage=0.3)
    )
    assert (need.staffing.agents, need.staffing.scheduled) == (14, 20)


def test_planned_service_level_of_agents_on_the_phones():
    target = staffing.Target(answer_within=20, aht_seconds=180)
    assert staffing.planned_service_level(100, 14, target) == pytest.approx(0.888, abs=1e-3)
    assert staffing.on_phones(20, 0.3) == 14


@pytest.mark.parametrize(
    ("spec", "message"),
    [("", "no shift start"), ("8am", "is not a time"), ("08:15", "on the hour or the half hour")],
)
def test_bad_shift_starts_are_refused(spec, message):
    with pytest.raises(staffing.PlanError, match=message):
        staffing.parse_starts(spec)


def test_a_half_hour_no_shift_can_reach_is_named():
    required = {datetime(2026, 12, 7, 3): 2}
    with pytest.raises(staffing.PlanError, match="12-07 03:00"):
        staffing.plan(required, [time(8)], 4)
