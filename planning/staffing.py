"""Agents per half hour (Erlang C) and the fewest shifts that cover them.

The rota is a small integer program: one integer per (day, shift start) counts the agents
starting a shift then; every half hour of the horizon must be covered by at least the
agents it needs (after shrinkage); minimise the agent-shifts. Shifts that start the
evening before the horizon are allowed so that the first night is covered too. SciPy's
`milp` (HiGHS, already installed with statsmodels) solves a fortnight — 15 days × a dozen
start times — in well under a second.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from planning import erlang
from planning.forecast import SlotForecast
from planning.history import SLOT, SLOT_SECONDS

SOLVER_SECONDS = 20  # a bound, not an expectation: the fortnight solves in milliseconds


class PlanError(ValueError):
    """A shift pattern that cannot cover the requirement, or a solver failure."""


@dataclass(frozen=True)
class Target:
    """What the office promises callers and what staffing may assume."""

    answer_within: float = 15
    service_level: float = 0.8
    aht_seconds: float = 240
    shrinkage: float = 0.3
    max_occupancy: float = erlang.DEFAULT_MAX_OCCUPANCY


@dataclass(frozen=True)
class SlotNeed:
    start: datetime
    calls: float
    staffing: erlang.Staffing


@dataclass(frozen=True)
class Shift:
    start: datetime
    end: datetime
    agents: int


@dataclass(frozen=True)
class Rota:
    shifts: list[Shift]
    coverage: dict[datetime, int]  # agents rostered per half hour of the horizon

    @property
    def agent_shifts(self) -> int:
        return sum(s.agents for s in self.shifts)


def needs(slots: Sequence[SlotForecast], target: Target) -> list[SlotNeed]:
    """Erlang C requirement for each forecast half hour."""
    return [
        SlotNeed(
            start=s.start,
            calls=s.calls,
            staffing=erlang.agents_needed(
                s.calls,
                target.aht_seconds,
                interval_seconds=SLOT_SECONDS,
                answer_within=target.answer_within,
                target=target.service_level,
                shrinkage=target.shrinkage,
                max_occupancy=target.max_occupancy,
            ),
        )
        for s in slots
    ]


def parse_starts(spec: str) -> list[time]:
    """'00:00,08:00,16:00' → shift start times (on the half hour)."""
    starts = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        try:
            t = time.fromisoformat(part)
        except ValueError:
            raise PlanError(f"shift start {part!r} is not a time like 08:00") from None
        if t.minute not in (0, 30) or t.second:
            raise PlanError(f"shift start {part!r} must be on the hour or the half hour")
        starts.append(t)
    if not starts:
        raise PlanError("no shift start times given")
    return sorted(set(starts))


def plan(required: dict[datetime, int], starts: Sequence[time], shift_hours: float) -> Rota:
    """The fewest agent-shifts covering `required` agents in every half hour."""
    if not required:
        return Rota([], {})
    length = round(shift_hours * 2)
    if length <= 0 or length > 48:
        raise PlanError(f"a shift must be between 0.5 and 24 hours (got {shift_hours})")
    first, last = min(required).date(), max(required).date()
    candidates = []
    day = first - timedelta(days=1)
    while day <= last:
        for t in starts:
            begin = datetime.combine(day, t)
            covered = [begin + i * SLOT for i in range(length)]
            if any(c in required for c in covered):
                candidates.append((begin, covered))
        day += timedelta(days=1)
    needed = [slot for slot, need in required.items() if need > 0]
    index = {slot: row for row, slot in enumerate(needed)}
    cover = lil_matrix((len(needed), len(candidates)))
    for col, (_, covered) in enumerate(candidates):
        for c in covered:
            if c in index:
                cover[index[c], col] = 1
    for slot in needed:
        if cover.getrow(index[slot]).nnz == 0:
            raise PlanError(f"no shift start covers {slot:%m-%d %H:%M}: add a start time")
    lower = np.array([required[slot] for slot in needed], dtype=float)
    result = milp(
        c=np.ones(len(candidates)),
        constraints=LinearConstraint(cover.tocsr(), lb=lower, ub=np.inf),
        integrality=np.ones(len(candidates)),
        bounds=Bounds(0, np.inf),
        options={"time_limit": SOLVER_SECONDS},
    )
    if result.x is None:
        raise PlanError(f"the rota solver found no plan: {result.message}")
    shifts = []
    coverage = dict.fromkeys(required, 0)
    for value, (begin, covered) in zip(result.x, candidates, strict=True):
        n = int(round(value))
        if n:
            shifts.append(Shift(begin, begin + length * SLOT, n))
            for c in covered:
                if c in coverage:
                    coverage[c] += n
    return Rota(shifts, coverage)


def required_by_slot(slot_needs: Sequence[SlotNeed]) -> dict[datetime, int]:
    return {n.start: n.staffing.scheduled for n in slot_needs}


def daily_agent_hours(rota: Rota) -> dict[date, float]:
    hours: dict[date, float] = {}
    for slot, n in rota.coverage.items():
        hours[slot.date()] = hours.get(slot.date(), 0.0) + n * 0.5
    return hours


def planned_service_level(calls: float, agents_on_phones: int, target: Target) -> float:
    """Erlang C service level that `agents_on_phones` give `calls` in a half hour."""
    traffic = erlang.traffic_erlangs(calls, target.aht_seconds, SLOT_SECONDS)
    return erlang.service_level(agents_on_phones, traffic, target.aht_seconds, target.answer_within)


def on_phones(scheduled: int, shrinkage: float) -> int:
    """Agents actually taking calls out of those rostered."""
    return math.floor(scheduled * (1 - shrinkage) + 1e-9)
