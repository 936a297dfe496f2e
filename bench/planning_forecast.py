"""Forecast accuracy and Erlang C correctness of shift planning.

    .venv/bin/python bench/planning_forecast.py [--origins 26] [--seed 12345]

On a synthetic two-year history shaped like the seed's line (workday level 1,400 → 2,400
calls, quieter weekends and public holidays on the real Chinese calendar, heating-season
and summer peaks, an intraday double peak, surge days), a rolling-origin backtest: from
each origin (every 14 days through the second year) the service's forecast predicts the
next 14 days, and so does the seasonal-naive baseline (each half hour as the same half
hour a week earlier). WAPE = Σ|actual − forecast| / Σ actual, per day and per half hour.
Then Erlang C against the published worked example, and the time to fit and plan.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core import calendar as core_calendar  # noqa: E402
from planning import erlang, staffing, synthetic  # noqa: E402
from planning.forecast import Calendar, forecast, seasonal_naive  # noqa: E402
from planning.history import day_slots  # noqa: E402

HORIZON = 14
FIRST = date(2024, 12, 1)
DAYS = 730
# Call Centre Helper's worked example: 100 calls / 30 min, AHT 180 s, 20 s target.
PUBLISHED = {11: (0.6821, 0.390), 12: (0.4494, 0.640), 13: (0.2853, 0.796), 14: (0.1741, 0.888)}


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.abs(actual - predicted).sum() / actual.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=26)
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    cal = Calendar(core_calendar.is_workday, core_calendar.holiday_name)
    slots, surge_days = synthetic.history(cal, FIRST, DAYS, synthetic.Shape(seed=args.seed))
    print(
        f"history: {FIRST} + {DAYS} days, {sum(s.offered for s in slots.values()):,} calls, "
        f"{len(surge_days)} surge days; load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    )
    model_slot, naive_slot, actual_slot = [], [], []
    fit_times = []
    caught = seen = 0
    for k in range(args.origins):
        origin = FIRST + timedelta(days=DAYS - HORIZON * (k + 1))
        t0 = time.perf_counter()
        fc = forecast(slots, cal, origin, HORIZON)
        fit_times.append(time.perf_counter() - t0)
        before = {d for d in surge_days if d < origin}
        seen += len(before)
        caught += len(set(fc.excluded) & before)
        actual = [
            slots[s].offered for d in range(HORIZON) for s in day_slots(origin + timedelta(days=d))
        ]
        actual_slot.append(actual)
        model_slot.append([s.calls for s in fc.slots])
        naive_slot.append(seasonal_naive(slots, origin, HORIZON))
    a, m, n = (np.array(x, dtype=float) for x in (actual_slot, model_slot, naive_slot))
    per_day = lambda x: x.reshape(x.shape[0], HORIZON, 48).sum(axis=2)  # noqa: E731
    rows = [
        ("per half hour", wape(a, m), wape(a, n)),
        ("per day", wape(per_day(a), per_day(m)), wape(per_day(a), per_day(n))),
    ]
    print(f"\nrolling-origin backtest: {args.origins} origins × {HORIZON}-day horizon")
    print(f"{'':15} {'forecast':>9} {'naive':>9} {'better by':>10}")
    for name, wm, wn in rows:
        print(f"{name:15} {wm:9.1%} {wn:9.1%} {1 - wm / wn:10.1%}")
    print(f"surge days left out of the training data: {caught} of {seen} (over all origins)")
    print(
        f"fit + forecast: median {np.median(fit_times) * 1000:.0f} ms, max {max(fit_times) * 1000:.0f} ms"
    )

    print("\nErlang C vs the published worked example (10 Erlangs, 20 s target):")
    print(f"{'agents':>6} {'P(wait)':>9} {'published':>10} {'SL':>7} {'published':>10}")
    worst = 0.0
    for agents, (pw, sl) in PUBLISHED.items():
        got_pw = erlang.erlang_c(agents, 10.0)
        got_sl = erlang.service_level(agents, 10.0, 180, 20)
        worst = max(worst, abs(got_pw - pw), abs(got_sl - sl))
        print(f"{agents:6} {got_pw:9.4f} {pw:10.4f} {got_sl:7.3f} {sl:10.3f}")
    need = erlang.agents_needed(100, 180, answer_within=20, target=0.8)
    print(f"agents needed for 80 % in 20 s: {need.agents} (published 14); largest gap {worst:.4f}")

    fc = forecast(slots, cal, FIRST + timedelta(days=DAYS), HORIZON)
    t0 = time.perf_counter()
    needs = staffing.needs(fc.slots, staffing.Target())
    starts = staffing.parse_starts("00:00,06:00,07:00,08:00,09:00,10:00,12:00,14:00,16:00,18:00")
    rota = staffing.plan(staffing.required_by_slot(needs), starts, 8)
    elapsed = time.perf_counter() - t0
    required = staffing.required_by_slot(needs)
    need_hours = sum(required.values()) / 2
    print(
        f"\nstaffing + rota for {HORIZON} days: {elapsed * 1000:.0f} ms; {rota.agent_shifts} agent-shifts "
        f"({rota.agent_shifts * 8:.0f} h) for {need_hours:.0f} agent-hours needed "
        f"({rota.agent_shifts * 8 / need_hours - 1:.1%} over the bare requirement)"
    )


if __name__ == "__main__":
    main()
