"""A synthetic call history shaped like the seed's line, for benchmarks, tests and demos.

Workday volume grows from `start_level` to `end_level` calls (1,400 → 2,400 in the seed),
weekends and public holidays are quieter (the Spring Festival most), the heating season and
the summer add a peak, a workday has a morning and an afternoon peak, and a few surge days
(a typhoon's flooding, a chemical odour) add hundreds of calls in a few hours. Counts are
Poisson around that shape with a little day-to-day noise, from a seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from planning.forecast import Calendar
from planning.history import SLOTS_PER_DAY, SlotStats, day_slots

KIND_LEVEL = {"workday": 1.0, "weekend": 0.55, "holiday": 0.45, "spring": 0.3}
DAY_NOISE = 0.05  # multiplicative, per day


@dataclass(frozen=True)
class Shape:
    start_level: float = 1400
    end_level: float = 2400
    surges: int = 6
    handle_seconds: float = 240
    seed: int = 12345


def _bump(day_of_year: float, centre: float, width: float) -> float:
    d = min(abs(day_of_year - centre), 365.25 - abs(day_of_year - centre))
    return math.exp(-((d / width) ** 2))


def seasonal(day: date) -> float:
    """Heating season (around the new year) and summer (late July) peaks."""
    doy = day.timetuple().tm_yday
    return 1 + 0.15 * _bump(doy, 5, 55) + 0.10 * _bump(doy, 205, 25)


def intraday(kind: str) -> np.ndarray:
    """Share of the day per half hour: night trough, 9:30 and 14:30 peaks on workdays."""
    hours = np.arange(SLOTS_PER_DAY) / 2 + 0.25
    night = 0.08 if kind == "workday" else 0.15
    morning = np.exp(-(((hours - 9.5) / 1.4) ** 2))
    afternoon = 0.85 * np.exp(-(((hours - 14.5) / 1.6) ** 2))
    evening = 0.35 * np.exp(-(((hours - 19.5) / 1.8) ** 2))
    day = (hours >= 7) & (hours < 22)
    shape = night + day * 0.25 + morning + afternoon + evening
    if kind != "workday":
        shape = night + day * 0.45 + 0.5 * (morning + afternoon) + evening
    return shape / shape.sum()


def history(
    calendar: Calendar, first: date, days: int, shape: Shape | None = None
) -> tuple[dict[datetime, SlotStats], list[date]]:
    """Half-hour history for `days` days from `first`, and the surge days it contains."""
    shape = shape or Shape()
    rng = np.random.default_rng(shape.seed)
    growth = math.log(shape.end_level / shape.start_level) / max(days - 1, 1)
    surge_days = sorted(
        first + timedelta(days=int(i))
        for i in rng.choice(
            np.arange(30, days), size=min(shape.surges, max(days - 30, 0)), replace=False
        )
    )
    profiles = {k: intraday(k) for k in ("workday", "weekend")}
    out: dict[datetime, SlotStats] = {}
    for i in range(days):
        day = first + timedelta(days=i)
        kind = calendar.kind(day)
        klass = (
            "workday"
            if kind in ("mon", "tue", "wed", "thu", "fri", "adj")
            else {"sat": "weekend", "sun": "weekend", "hol": "holiday", "spring": "spring"}[kind]
        )
        level = shape.start_level * math.exp(growth * i) * KIND_LEVEL[klass] * seasonal(day)
        level *= math.exp(rng.normal(0, DAY_NOISE))
        mean = level * profiles["workday" if klass == "workday" else "weekend"]
        if day in surge_days:
            peak = int(rng.integers(16, 36))
            extra = np.zeros(SLOTS_PER_DAY)
            extra[peak : peak + 6] = level * rng.uniform(0.15, 0.3)
            mean = mean + extra
        counts = rng.poisson(mean)
        for start, n in zip(day_slots(day), counts, strict=True):
            answered = int(round(n * 0.93))
            out[start] = SlotStats(
                offered=int(n),
                answered=answered,
                abandoned=int(n) - answered,
                within_target=int(round(n * 0.85)),
                handle_seconds=shape.handle_seconds,
                source="synthetic",
            )
    return out, surge_days


def to_csv(slots: dict[datetime, SlotStats]) -> str:
    """The history in `flask planning import`'s CSV format (local start times)."""
    lines = ["start,offered,answered,abandoned,answered_within_target,handle_seconds,surge"]
    for start in sorted(slots):
        st = slots[start]
        lines.append(
            f"{start:%Y-%m-%d %H:%M},{st.offered},{st.answered},{st.abandoned},"
            f"{st.within_target},{st.handle_seconds:g},{int(st.surge)}"
        )
    return "\n".join(lines) + "\n"
