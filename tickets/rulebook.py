"""Saving the classification rules and the routing table, with their accuracy.

Each save is a new RuleSet version (author, time, the whole document), checked by the
same builder the classifier uses, and scored on the labelled request set: demand type,
topic and department accuracy are stored beside it, so the editor can show the figure
next to the previous version's and warn when it drops. The shipped YAML files are the
first version of each kind (imported by `import_shipped`, on seeding and on first use).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import ROOT
from core.db import utcnow
from tickets import classify, routing, ruleset_source
from tickets.errors import ValidationError
from tickets.models import RuleSet
from tickets.ruleset_source import ROUTING, RULES
from tickets.yamlfile import ConfigFileError, load_yaml

log = logging.getLogger(__name__)

LABELLED_PATH = ROOT / "bench" / "data" / "labelled_requests.yaml"
SHIPPED = {RULES: classify.RULES_PATH, ROUTING: routing.ROUTING_PATH}
SHIPPED_AUTHOR = "shipped"
FIELDS = ("demand_type", "topic", "department")
# A drop of more than this many percentage points on any field is worth a warning.
DROP_WARNING_POINTS = 0.0


@dataclass(frozen=True)
class Saved:
    new: RuleSet
    previous: RuleSet | None

    @property
    def drops(self) -> dict[str, tuple[float, float]]:
        """Fields whose accuracy fell: field -> (before, after)."""
        if self.previous is None or not self.previous.accuracy or not self.new.accuracy:
            return {}
        return {
            f: (self.previous.accuracy[f], self.new.accuracy[f])
            for f in FIELDS
            if self.new.accuracy[f] < self.previous.accuracy[f] - DROP_WARNING_POINTS
        }


def current(s: Session, kind: str) -> RuleSet | None:
    return s.scalar(
        select(RuleSet).where(RuleSet.kind == kind).order_by(RuleSet.version.desc()).limit(1)
    )


def history(s: Session, kind: str) -> list[RuleSet]:
    return list(
        s.scalars(select(RuleSet).where(RuleSet.kind == kind).order_by(RuleSet.version.desc()))
    )


def build(kind: str, data: dict):
    """The classifier's Rules or the Routing table, or ValidationError naming the problem."""
    try:
        if kind == RULES:
            return classify.rules_from_data(data)
        return routing.routing_from_data(data)
    except (ConfigFileError, AttributeError, TypeError) as exc:
        raise ValidationError({kind: str(exc)}) from exc


def _labelled(path: Path = LABELLED_PATH) -> list[dict]:
    try:
        return list(load_yaml(path).get("requests") or [])
    except ConfigFileError as exc:
        log.warning("labelled request set unavailable: %s", exc)
        return []


def accuracy(rules, table, path: Path = LABELLED_PATH) -> dict | None:
    """Percent right per field on the labelled set (None when the set is missing)."""
    items = _labelled(path)
    if not items:
        return None
    hits = dict.fromkeys(FIELDS, 0)
    for item in items:
        got = classify.classify(item["text"], item.get("district"), rules=rules, routing=table)
        expected = {
            "demand_type": item["demand_type"],
            "topic": item["topic"],
            "department": item.get("department")
            or table.department_for(item["topic"], item.get("district")),
        }
        for f in FIELDS:
            hits[f] += getattr(got, f) == expected[f]
    result = {f: round(100.0 * hits[f] / len(items), 1) for f in FIELDS}
    result["n"] = len(items)
    return result


def _in_force(s: Session, kind: str, data: dict | None = None):
    row = current(s, kind)
    if data is not None:
        return build(kind, data)
    if row is not None:
        return build(kind, row.data)
    return build(kind, load_yaml(SHIPPED[kind]))


def save(s: Session, kind: str, data: dict, *, author: str) -> Saved:
    """Store `data` as the new version of `kind` with its accuracy; the previous one is kept."""
    if kind not in ruleset_source.KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(ruleset_source.KINDS)}"})
    built = build(kind, data)
    other = ROUTING if kind == RULES else RULES
    rules = built if kind == RULES else _in_force(s, other)
    table = built if kind == ROUTING else _in_force(s, other)
    previous = current(s, kind)
    version = (s.scalar(select(func.max(RuleSet.version)).where(RuleSet.kind == kind)) or 0) + 1
    row = RuleSet(
        kind=kind,
        version=version,
        data=data,
        author=author,
        at=utcnow(),
        accuracy=accuracy(rules, table),
    )
    s.add(row)
    s.flush()
    log.info("%s version %d saved by %s (accuracy %s)", kind, version, author, row.accuracy)
    cached = ruleset_source.source()
    if cached is not None:
        cached.invalidate()
    return Saved(row, previous)


def import_shipped(s: Session) -> list[str]:
    """Make the shipped YAML the first version of each kind that has none; returns those."""
    done = []
    for kind in ruleset_source.KINDS:
        if current(s, kind) is None:
            save(s, kind, load_yaml(SHIPPED[kind]), author=SHIPPED_AUTHOR)
            done.append(kind)
    return done


def _flat(kind: str, data: dict) -> dict[str, object]:
    """A document as {"topics.heating": {"暖气": 4.0, ...}, "topics.default": "other", ...}."""
    if kind == ROUTING:
        flat: dict[str, object] = {"default": data.get("default")}
        flat.update({f"topics.{k}": v for k, v in (data.get("topics") or {}).items()})
        for district, table in (data.get("districts") or {}).items():
            flat.update({f"districts.{district}.{k}": v for k, v in (table or {}).items()})
        return flat
    flat = {}
    for section in ("demand_types", "topics"):
        for name, entries in (data.get(section) or {}).items():
            if name == "default":
                flat[f"{section}.default"] = entries
                continue
            words = {}
            for entry in entries or []:
                word, weight = next(iter(entry.items())) if isinstance(entry, dict) else (entry, 1)
                words[str(word)] = float(weight)
            flat[f"{section}.{name}"] = words
    return flat


def changes(kind: str, old: dict, new: dict) -> list[str]:
    """What a version changed, one line per entry: "topics.heating: +暖气:2 −供暖"."""
    before, after = _flat(kind, old), _flat(kind, new)
    lines = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = a or {}, b or {}
            added = [f"+{w}" + (f":{b[w]:g}" if b[w] != 1 else "") for w in b if w not in a]
            removed = [f"−{w}" for w in a if w not in b]
            weights = [f"{w}:{a[w]:g}→{b[w]:g}" for w in b if w in a and a[w] != b[w]]
            lines.append(f"{key}: " + " ".join(added + removed + weights))
        else:
            lines.append(f"{key}: {a if a is not None else '—'} → {b if b is not None else '—'}")
    return lines


def restore(s: Session, kind: str, version: int, *, author: str) -> Saved:
    """Save an earlier version's document again, as the newest version."""
    old = s.scalar(select(RuleSet).where(RuleSet.kind == kind, RuleSet.version == version))
    if old is None:
        raise ValidationError({"version": f"no version {version} of {kind}"})
    return save(s, kind, dict(old.data), author=author)
