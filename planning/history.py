"""Calls per half hour, from the best record the service has for each half hour.

Precedence per half hour: imported history (`planning_history`, a line's older system),
then the service's own call records (`ivr_calls`, inbound), then phone tickets for
periods before the voice front door kept call records. Slots are keyed by their local
start time in the hotline's time zone, since day of week and time of day are local.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from agents.models import QueueCall
from ivr.models import Call
from planning.models import HistorySlot
from tickets.models import Ticket

SLOT = timedelta(minutes=30)
SLOT_SECONDS = 1800
SLOTS_PER_DAY = 48
# Hung up while waiting for an agent: the abandonment a staffing plan is judged by.
ABANDONED_IN_QUEUE = ("abandoned_queue",)
PHONE_CHANNELS = ("phone", "voice_message")


@dataclass
class SlotStats:
    """What happened in one half hour; None where the source did not record it."""

    offered: int
    answered: int | None = None
    abandoned: int | None = None
    within_target: int | None = None
    handle_seconds: float | None = None  # average per answered call
    surge: bool = False
    source: str = "calls"


def slot_of(moment: datetime, tz: ZoneInfo) -> datetime:
    """Local naive start of the half hour containing `moment`."""
    local = moment.astimezone(tz).replace(tzinfo=None)
    return local.replace(minute=30 if local.minute >= 30 else 0, second=0, microsecond=0)


def day_slots(day: date) -> list[datetime]:
    start = datetime.combine(day, time())
    return [start + i * SLOT for i in range(SLOTS_PER_DAY)]


def _utc_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    lo = datetime.combine(start, time(), tz).astimezone(UTC)
    hi = datetime.combine(end, time(), tz).astimezone(UTC)
    return lo, hi


def _bucket(s: Session, column):
    """SQL expression: the UTC half-hour number (epoch seconds // 1800) of `column`."""
    if s.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", column) / SLOT_SECONDS), Integer)
    return cast(func.strftime("%s", column), Integer) // SLOT_SECONDS


def _from_bucket(bucket: int, tz: ZoneInfo) -> datetime:
    return slot_of(datetime.fromtimestamp(int(bucket) * SLOT_SECONDS, UTC), tz)


def _imported(s: Session, lo: datetime, hi: datetime, tz: ZoneInfo) -> dict[datetime, SlotStats]:
    rows = s.scalars(
        select(HistorySlot).where(HistorySlot.slot_start >= lo, HistorySlot.slot_start < hi)
    )
    out = {}
    for r in rows:
        moment = r.slot_start if r.slot_start.tzinfo else r.slot_start.replace(tzinfo=UTC)
        out[slot_of(moment, tz)] = SlotStats(
            offered=r.offered,
            answered=r.answered,
            abandoned=r.abandoned,
            within_target=r.answered_within_target,
            handle_seconds=r.handle_seconds,
            surge=r.surge,
            source="import",
        )
    return out


def _calls(s: Session, lo: datetime, hi: datetime, tz: ZoneInfo) -> dict[datetime, SlotStats]:
    bucket = _bucket(s, Call.started_at)
    stmt = (
        select(
            bucket,
            func.count(Call.id),
            func.sum(case((Call.outcome == "agent", 1), else_=0)),
            func.sum(case((Call.outcome.in_(ABANDONED_IN_QUEUE), 1), else_=0)),
        )
        .where(Call.direction == "inbound", Call.started_at >= lo, Call.started_at < hi)
        .group_by(bucket)
    )
    return {
        _from_bucket(b, tz): SlotStats(offered=n, answered=int(a or 0), abandoned=int(ab or 0))
        for b, n, a, ab in s.execute(stmt)
    }


def _seconds_between(s: Session, later, earlier):
    if s.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return cast(func.strftime("%s", later), Integer) - cast(func.strftime("%s", earlier), Integer)


def _queued(
    s: Session, lo: datetime, hi: datetime, tz: ZoneInfo, answer_within: float
) -> dict[datetime, tuple[int, float | None]]:
    """Per half hour of queue entry: callers answered within the target, average talk time."""
    bucket = _bucket(s, QueueCall.entered_at)
    waited = _seconds_between(s, QueueCall.answered_at, QueueCall.entered_at)
    stmt = (
        select(
            bucket,
            func.sum(
                case((QueueCall.answered_at.is_not(None) & (waited <= answer_within), 1), else_=0)
            ),
            func.avg(QueueCall.talk_seconds),
        )
        .where(QueueCall.entered_at >= lo, QueueCall.entered_at < hi)
        .group_by(bucket)
    )
    return {
        _from_bucket(b, tz): (int(n or 0), float(talk) if talk is not None else None)
        for b, n, talk in s.execute(stmt)
    }


def _tickets(s: Session, lo: datetime, hi: datetime, tz: ZoneInfo) -> dict[datetime, SlotStats]:
    bucket = _bucket(s, Ticket.created_at)
    stmt = (
        select(bucket, func.count(Ticket.id))
        .where(Ticket.channel.in_(PHONE_CHANNELS), Ticket.created_at >= lo, Ticket.created_at < hi)
        .group_by(bucket)
    )
    return {_from_bucket(b, tz): SlotStats(offered=n, source="tickets") for b, n in s.execute(stmt)}


def load(
    s: Session,
    start: date,
    end: date,
    tz: ZoneInfo,
    *,
    answer_within: float = 15,
    wrap_up_seconds: float = 0,
) -> dict[datetime, SlotStats]:
    """Half-hour history for local days [start, end), best source first, per half hour.

    Call records gain the agents' side where callers queued: how many were answered within
    `answer_within` seconds, and the handle time (talk plus `wrap_up_seconds` of after-call
    work).
    """
    lo, hi = _utc_bounds(start, end, tz)
    merged = _tickets(s, lo, hi, tz)
    calls = _calls(s, lo, hi, tz)
    for slot, (within, talk) in _queued(s, lo, hi, tz, answer_within).items():
        if slot in calls:
            calls[slot].within_target = within
            if talk is not None:
                calls[slot].handle_seconds = talk + wrap_up_seconds
    merged.update(calls)
    merged.update(_imported(s, lo, hi, tz))
    return merged


def daily_totals(slots: dict[datetime, SlotStats]) -> dict[date, int]:
    """Offered calls per local day, for the days that have any record at all."""
    totals: dict[date, int] = {}
    for start, stats in slots.items():
        totals[start.date()] = totals.get(start.date(), 0) + stats.offered
    return totals


def first_day(s: Session, tz: ZoneInfo) -> date | None:
    """The earliest local day any source has a record for."""
    firsts = [
        s.scalar(select(func.min(HistorySlot.slot_start))),
        s.scalar(select(func.min(Call.started_at)).where(Call.direction == "inbound")),
        s.scalar(select(func.min(Ticket.created_at)).where(Ticket.channel.in_(PHONE_CHANNELS))),
    ]
    moments = [m if m.tzinfo else m.replace(tzinfo=UTC) for m in firsts if m is not None]
    return min(moments).astimezone(tz).date() if moments else None


def average_handle_seconds(slots: Iterable[SlotStats]) -> float | None:
    """Answered-call-weighted average handle time, where the records have one."""
    total = weight = 0.0
    for st in slots:
        if st.handle_seconds is not None and st.answered:
            total += st.handle_seconds * st.answered
            weight += st.answered
    return total / weight if weight else None


def achieved_service_level(slots: Iterable[SlotStats]) -> float | None:
    """Share of offered calls answered within the target, where the records say so."""
    within = offered = 0
    for st in slots:
        if st.within_target is not None:
            within += st.within_target
            offered += st.offered
    return within / offered if offered else None
