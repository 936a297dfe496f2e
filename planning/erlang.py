"""Erlang C staffing: how many agents a half hour needs to answer in time.

Erlang C models a queue where callers wait as long as it takes (M/M/N): the probability
that a caller waits, the share answered within a target time, the average speed of answer.
Real callers give up, so Erlang C slightly over-staffs; for a public line that is the safe
side (Erlang A with abandonment is not modelled).

Pure functions, no I/O: the forecast feeds them calls and handle time per interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

# Past this many agents the search gives up: no city line staffs a half hour with more,
# and a bad input (a handle time in milliseconds) must not spin forever.
MAX_AGENTS = 2000
DEFAULT_MAX_OCCUPANCY = 0.85


class StaffingError(ValueError):
    """Inputs no staffing can satisfy or that make no sense (negative calls, zero interval)."""


@dataclass(frozen=True)
class Staffing:
    """Agents for one interval and what they achieve."""

    calls: float
    aht_seconds: float
    interval_seconds: int
    answer_within: float
    target: float
    agents: int  # on the phones, before shrinkage
    service_level: float  # share answered within `answer_within`
    asa_seconds: float  # average speed of answer
    occupancy: float
    shrinkage: float
    scheduled: int  # agents to roster so that `agents` are on the phones

    @property
    def traffic(self) -> float:
        return traffic_erlangs(self.calls, self.aht_seconds, self.interval_seconds)

    def as_dict(self) -> dict:
        return asdict(self) | {"traffic_erlangs": round(self.traffic, 4)}


def traffic_erlangs(calls: float, aht_seconds: float, interval_seconds: float) -> float:
    """Offered load in Erlangs: calls × handle time / interval length."""
    return calls * aht_seconds / interval_seconds


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability, by the stable recursion B(n) = A·B(n−1) / (n + A·B(n−1))."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a caller has to wait (1.0 when the agents cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, aht_seconds: float, answer_within: float) -> float:
    """Share of callers answered within `answer_within` seconds (Erlang C)."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    wait = erlang_c(agents, traffic)
    return 1.0 - wait * math.exp(-(agents - traffic) * answer_within / aht_seconds)


def asa(agents: int, traffic: float, aht_seconds: float) -> float:
    """Average speed of answer in seconds (infinite when the agents cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht_seconds / (agents - traffic)


def _check(calls: float, aht: float, interval: float, within: float, target: float) -> None:
    problems = []
    if not math.isfinite(calls) or calls < 0:
        problems.append(f"calls must be 0 or more (got {calls})")
    if not math.isfinite(aht) or aht <= 0:
        problems.append(f"handle time must be more than 0 seconds (got {aht})")
    if not math.isfinite(interval) or interval <= 0:
        problems.append(f"interval must be more than 0 seconds (got {interval})")
    if not math.isfinite(within) or within < 0:
        problems.append(f"answer-within must be 0 seconds or more (got {within})")
    if not 0 < target < 1:
        problems.append(f"target must be between 0 and 1, e.g. 0.8 (got {target})")
    if problems:
        raise StaffingError("; ".join(problems))


def agents_needed(
    calls: float,
    aht_seconds: float,
    *,
    interval_seconds: int = 1800,
    answer_within: float = 15,
    target: float = 0.8,
    shrinkage: float = 0.0,
    max_occupancy: float = DEFAULT_MAX_OCCUPANCY,
) -> Staffing:
    """The fewest agents whose service level meets `target` and occupancy stays ≤ max."""
    _check(calls, aht_seconds, interval_seconds, answer_within, target)
    if not 0 <= shrinkage < 1:
        raise StaffingError(f"shrinkage must be between 0 and 1, e.g. 0.3 (got {shrinkage})")
    if not 0 < max_occupancy <= 1:
        raise StaffingError(f"maximum occupancy must be in (0, 1] (got {max_occupancy})")
    traffic = traffic_erlangs(calls, aht_seconds, interval_seconds)
    agents = 0 if traffic == 0 else max(1, math.ceil(traffic / max_occupancy))
    while traffic > 0:
        if agents > MAX_AGENTS:
            raise StaffingError(
                f"more than {MAX_AGENTS} agents would be needed for {calls:g} calls of "
                f"{aht_seconds:g} s in {interval_seconds} s: check the inputs"
            )
        sl = service_level(agents, traffic, aht_seconds, answer_within)
        if sl >= target and traffic / agents <= max_occupancy:
            break
        agents += 1
    return Staffing(
        calls=calls,
        aht_seconds=aht_seconds,
        interval_seconds=interval_seconds,
        answer_within=answer_within,
        target=target,
        agents=agents,
        service_level=service_level(agents, traffic, aht_seconds, answer_within),
        asa_seconds=asa(agents, traffic, aht_seconds) if agents else 0.0,
        occupancy=traffic / agents if agents else 0.0,
        shrinkage=shrinkage,
        scheduled=math.ceil(agents / (1 - shrinkage) - 1e-9) if agents else 0,
    )
