"""Forecast calls per half hour: a daily seasonal regression times an intraday profile.

Daily level: ordinary least squares on log(calls a day) with the kind of day (Monday …
Friday, an adjusted weekend workday 调休, Saturday, Sunday, a public holiday, the Spring
Festival), a log-linear trend (the seed's line grew 43 % a year) and, with more than a
year of history, yearly harmonics (heating season, summer). Days flagged as surges, and
days the first fit finds far off (a typhoon, an outage), are left out of the training
data. Prediction intervals come from the regression's observation interval.

Intraday: each half hour's share of the day, averaged over recent days of the same kind
(workday, weekend, holiday), so the morning and afternoon peaks follow the day's type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import NormalDist

import numpy as np
import statsmodels.api as sm

from planning.history import SLOTS_PER_DAY, SlotStats, day_slots

MIN_TRAINING_DAYS = 14
TREND_MIN_DAYS = 56  # a trend fitted on less than eight weeks chases noise
YEARLY_MIN_DAYS = 400  # yearly harmonics need a full year and a bit
YEARLY_HARMONICS = 2
OUTLIER_Z = 3.5  # |standardised residual| beyond this: a surge or an outage
OUTLIER_PASSES = 3
PROFILE_DAYS = 8 * 5  # recent days of a kind that shape its intraday profile
PROFILE_MIN_DAYS = 3
INTERVAL_LEVEL = 0.9
KINDS = ("mon", "tue", "wed", "thu", "fri", "adj", "sat", "sun", "hol", "spring")
# A kind the history has never seen borrows the nearest kind that it has.
KIND_FALLBACK = {
    "spring": "hol",
    "hol": "sun",
    "sun": "sat",
    "sat": "sun",
    "adj": "mon",
    "mon": "tue",
    "tue": "wed",
    "wed": "thu",
    "thu": "fri",
    "fri": "thu",
}
PROFILE_CLASS = {k: "workday" for k in ("mon", "tue", "wed", "thu", "fri", "adj")} | {
    "sat": "weekend",
    "sun": "weekend",
    "hol": "holiday",
    "spring": "holiday",
}
PROFILE_FALLBACK = {"holiday": "weekend", "weekend": "workday", "workday": "weekend"}


class ForecastError(ValueError):
    """Not enough history to forecast from; the message says what is missing."""


@dataclass(frozen=True)
class Calendar:
    """The two questions the forecast asks of the hotline's calendar."""

    is_workday: Callable[[date], bool]
    holiday_name: Callable[[date], str | None]

    def kind(self, day: date) -> str:
        if self.is_workday(day):
            return "adj" if day.weekday() >= 5 else KINDS[day.weekday()]
        name = self.holiday_name(day)
        if name:
            return "spring" if "spring" in name.lower() or "春节" in name else "hol"
        return "sat" if day.weekday() == 5 else "sun"


@dataclass(frozen=True)
class DayForecast:
    day: date
    kind: str
    calls: float
    low: float
    high: float


@dataclass(frozen=True)
class SlotForecast:
    start: datetime  # local
    calls: float
    low: float
    high: float


@dataclass(frozen=True)
class Forecast:
    days: list[DayForecast]
    slots: list[SlotForecast]
    trained_days: int
    excluded: list[date] = field(default_factory=list)  # surges and outliers left out
    level: float = INTERVAL_LEVEL
    terms: tuple[str, ...] = ()


def _design(
    days: list[date], kinds: list[str], present: list[str], origin: date, terms
) -> np.ndarray:
    cols = [np.ones(len(days))]
    for k in present[1:]:  # the first present kind is the baseline
        cols.append(np.array([1.0 if kk == k else 0.0 for kk in kinds]))
    t = np.array([(d - origin).days / 365.25 for d in days])
    if "trend" in terms:
        cols.append(t)
    if "yearly" in terms:
        doy = np.array([d.timetuple().tm_yday / 365.25 for d in days])
        for h in range(1, YEARLY_HARMONICS + 1):
            cols.append(np.sin(2 * math.pi * h * doy))
            cols.append(np.cos(2 * math.pi * h * doy))
    return np.column_stack(cols)


def _mapped(kind: str, present: set[str]) -> str:
    seen = set()
    while kind not in present and kind not in seen:
        seen.add(kind)
        kind = KIND_FALLBACK[kind]
    return kind if kind in present else next(iter(present))


def fit_daily(
    totals: dict[date, int],
    calendar: Calendar,
    horizon: list[date],
    *,
    exclude: Iterable[date] = (),
    level: float = INTERVAL_LEVEL,
) -> tuple[list[DayForecast], list[date], tuple[str, ...]]:
    """Daily forecasts for `horizon` from daily totals; also the days left out, the terms."""
    excluded = set(exclude)
    train = sorted(d for d, n in totals.items() if n > 0 and d not in excluded)
    if len(train) < MIN_TRAINING_DAYS:
        raise ForecastError(
            f"需要至少 {MIN_TRAINING_DAYS} 天的来电记录才能预测（现有 {len(train)} 天）。"
            f" At least {MIN_TRAINING_DAYS} days of call history are needed "
            f"(have {len(train)}); import older records with `flask planning import`."
        )
    span = (train[-1] - train[0]).days + 1
    terms = tuple(
        t
        for t, ok in (("trend", span >= TREND_MIN_DAYS), ("yearly", span >= YEARLY_MIN_DAYS))
        if ok
    )
    origin = train[0]
    outliers: list[date] = []
    for _ in range(OUTLIER_PASSES):
        kinds = [calendar.kind(d) for d in train]
        present = [k for k in KINDS if k in set(kinds)]
        x = _design(train, kinds, present, origin, terms)
        y = np.log([totals[d] for d in train])
        result = sm.OLS(y, x).fit()
        scale = math.sqrt(result.scale) if result.scale > 0 else 0.0
        if scale == 0:
            break
        z = result.resid / scale
        bad = [d for d, zz in zip(train, z, strict=True) if abs(zz) > OUTLIER_Z]
        if not bad or len(train) - len(bad) < MIN_TRAINING_DAYS:
            break
        outliers += bad
        train = [d for d in train if d not in set(bad)]
    present_set = set(present)
    h_kinds = [_mapped(calendar.kind(d), present_set) for d in horizon]
    xh = _design(horizon, h_kinds, present, origin, terms)
    frame = result.get_prediction(xh).summary_frame(alpha=1 - level)
    out = []
    for d, row in zip(horizon, frame.itertuples(), strict=True):
        lo = getattr(row, "obs_ci_lower", row.mean)
        hi = getattr(row, "obs_ci_upper", row.mean)
        out.append(DayForecast(d, calendar.kind(d), math.exp(row.mean), math.exp(lo), math.exp(hi)))
    return out, sorted(set(outliers)), terms


def intraday_profiles(
    slots: dict[datetime, SlotStats], calendar: Calendar, *, exclude: Iterable[date] = ()
) -> dict[str, np.ndarray]:
    """Share of a day's calls in each half hour, per class of day (recent days first)."""
    excluded = set(exclude)
    by_day: dict[date, np.ndarray] = {}
    for start, st in slots.items():
        row = by_day.setdefault(start.date(), np.zeros(SLOTS_PER_DAY))
        row[start.hour * 2 + start.minute // 30] += st.offered
    classes: dict[str, list[np.ndarray]] = {"workday": [], "weekend": [], "holiday": []}
    for day in sorted(by_day, reverse=True):
        row = by_day[day]
        if day in excluded or row.sum() <= 0:
            continue
        members = classes[PROFILE_CLASS[calendar.kind(day)]]
        if len(members) < PROFILE_DAYS:
            members.append(row)
    profiles = {}
    for name, rows in classes.items():
        if len(rows) >= PROFILE_MIN_DAYS:
            total = np.sum(rows, axis=0)
            profiles[name] = total / total.sum()
    if not profiles:
        raise ForecastError("no day with calls to learn the shape of a day from")
    for name in classes:
        seen = {name}
        fallback = name
        while fallback not in profiles:
            fallback = PROFILE_FALLBACK[fallback]
            if fallback in seen:
                fallback = next(iter(profiles))
            seen.add(fallback)
        profiles.setdefault(name, profiles[fallback])
    return profiles


def forecast(
    slots: dict[datetime, SlotStats],
    calendar: Calendar,
    first: date,
    days: int,
    *,
    exclude: Iterable[date] = (),
    level: float = INTERVAL_LEVEL,
) -> Forecast:
    """Calls per day and per half hour for `days` days from `first`, with intervals."""
    excluded = set(exclude) | {start.date() for start, st in slots.items() if st.surge}
    totals: dict[date, int] = {}
    for start, st in slots.items():
        if start.date() < first:
            totals[start.date()] = totals.get(start.date(), 0) + st.offered
    horizon = [first + timedelta(days=i) for i in range(days)]
    daily, outliers, terms = fit_daily(totals, calendar, horizon, exclude=excluded, level=level)
    left_out = sorted(excluded | set(outliers))
    history = {k: v for k, v in slots.items() if k.date() < first}
    profiles = intraday_profiles(history, calendar, exclude=left_out)
    z = _z(level)
    out_slots = []
    for day in daily:
        share = profiles[PROFILE_CLASS[day.kind]]
        # The day's uncertainty spread by share, plus Poisson noise of the half hour itself.
        day_sd = (day.high - day.low) / (2 * z)
        for i, start in enumerate(day_slots(day.day)):
            point = day.calls * share[i]
            sd = math.sqrt((day_sd * share[i]) ** 2 + point)
            out_slots.append(SlotForecast(start, point, max(0.0, point - z * sd), point + z * sd))
    return Forecast(
        days=daily,
        slots=out_slots,
        trained_days=len([d for d in totals if d not in set(left_out)]),
        excluded=[d for d in left_out if d < first],
        level=level,
        terms=terms,
    )


def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


def seasonal_naive(slots: dict[datetime, SlotStats], first: date, days: int) -> list[float]:
    """The baseline: each half hour as the same half hour in the last week before `first`."""
    out = []
    for i in range(days):
        back = 7 * math.ceil((i + 1) / 7)
        for start in day_slots(first + timedelta(days=i)):
            st = slots.get(start - timedelta(days=back))
            out.append(float(st.offered) if st else 0.0)
    return out
