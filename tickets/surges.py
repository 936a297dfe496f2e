"""Surge detection: a rolling count per topic and district against its own baseline.

A key (topic, district) is a surge when its count in the last window is at least
SURGE_MIN_COUNT and SURGE_RATIO times its average per window over the baseline
days before (a key with no history counts as one per window). The supervisors'
dashboard shows the alerts with their tickets and offers an IVR notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import value
from core.db import utcnow
from tickets.models import Ticket, Topic

BASELINE_DAYS = 28
MAX_TICKETS_PER_ALERT = 200


@dataclass(frozen=True)
class Thresholds:
    window_hours: int = 24
    min_count: int = 5
    ratio: float = 3.0
    baseline_days: int = BASELINE_DAYS

    @classmethod
    def from_config(cls, config) -> Thresholds:
        return cls(
            window_hours=value(config, "SURGE_WINDOW_HOURS"),
            min_count=value(config, "SURGE_MIN_COUNT"),
            ratio=value(config, "SURGE_RATIO"),
        )


@dataclass
class SurgeAlert:
    topic: str | None
    topic_name: str | None
    district: str | None
    count: int
    baseline: float  # average tickets per window before
    ticket_ids: list[int]
    ticket_numbers: list[str]

    @property
    def ratio(self) -> float:
        return round(self.count / max(self.baseline, 1.0), 1)

    def notice_text(self) -> str:
        """A suggested IVR notice (supervisors edit it before publishing)."""
        where = self.district or "我市部分地区"
        what = self.topic_name or "相关"
        return (
            f"近期{where}{what}问题反映较多，有关部门已在处理。"
            f"如您来电反映同一问题，我们已经记录，无需重复反映，感谢您的理解。"
        )


def is_surge(count: int, baseline: float, t: Thresholds) -> bool:
    """The detector's rule: enough tickets, and `ratio` times the key's usual window."""
    return count >= t.min_count and count >= t.ratio * max(baseline, 1.0)


def _counts(s: Session, start: datetime, end: datetime) -> dict[tuple, int]:
    stmt = (
        select(Ticket.topic, Ticket.district, func.count(Ticket.id))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(Ticket.topic, Ticket.district)
    )
    return {(topic, district): n for topic, district, n in s.execute(stmt)}


def detect(
    s: Session, thresholds: Thresholds | None = None, now: datetime | None = None
) -> list[SurgeAlert]:
    """Current surges, largest ratio first."""
    t = thresholds or Thresholds()
    now = now or utcnow()
    window_start = now - timedelta(hours=t.window_hours)
    baseline_start = window_start - timedelta(days=t.baseline_days)
    windows_in_baseline = t.baseline_days * 24 / t.window_hours
    current = _counts(s, window_start, now)
    before = _counts(s, baseline_start, window_start)
    keys = []
    for key, n in current.items():
        baseline = before.get(key, 0) / windows_in_baseline
        if is_surge(n, baseline, t):
            keys.append((key, n, baseline))
    if not keys:
        return []
    names = dict(s.execute(select(Topic.code, Topic.name)).all())
    alerts = []
    for (topic, district), n, baseline in keys:
        same_topic = Ticket.topic.is_(None) if topic is None else Ticket.topic == topic
        same_district = (
            Ticket.district.is_(None) if district is None else Ticket.district == district
        )
        rows = s.execute(
            select(Ticket.id, Ticket.number)
            .where(
                Ticket.created_at >= window_start,
                Ticket.created_at < now,
                same_topic,
                same_district,
            )
            .order_by(Ticket.id.desc())
            .limit(MAX_TICKETS_PER_ALERT)
        ).all()
        alerts.append(
            SurgeAlert(
                topic,
                names.get(topic),
                district,
                n,
                round(baseline, 2),
                [r.id for r in rows],
                [r.number for r in rows],
            )
        )
    alerts.sort(key=lambda a: (-a.ratio, -a.count))
    return alerts


def surge_days(
    s: Session, first: date, last: date, thresholds: Thresholds | None = None
) -> list[date]:
    """Days in [first, last] (UTC days) on which some (topic, district) was a surge.

    The same rule as `detect`, applied to whole days in one grouped query, so a
    forecast can leave a year's surges out of its training data without running
    the detector once per day.
    """
    t = thresholds or Thresholds()
    start = datetime.combine(first - timedelta(days=t.baseline_days), time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    day = func.date(Ticket.created_at)
    stmt = (
        select(day, Ticket.topic, Ticket.district, func.count(Ticket.id))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(day, Ticket.topic, Ticket.district)
    )
    per_key: dict[tuple, dict[date, int]] = {}
    for d, topic, district, n in s.execute(stmt):
        d = d if isinstance(d, date) else date.fromisoformat(str(d)[:10])
        per_key.setdefault((topic, district), {})[d] = n
    windows_per_day = 24 / t.window_hours
    found = set()
    for counts in per_key.values():
        for d, n in counts.items():
            if not first <= d <= last:
                continue
            before = sum(
                counts.get(d - timedelta(days=i), 0) for i in range(1, t.baseline_days + 1)
            )
            # A day holds `windows_per_day` windows; the rule compares per window.
            if is_surge(n / windows_per_day, before / (t.baseline_days * windows_per_day), t):
                found.add(d)
    return sorted(found)
