"""Keyword classification of a request's text into demand type, topic and department.

The rules in force are the supervisors' latest saved version (tickets.rulebook, edited
on the web), tickets/rules.yaml being the shipped first version; the department comes
from the routing table. The result is a suggestion: it fills only empty fields,
and a supervisor's later change (service.update_fields) is audited as an override.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import jieba

from tickets import ruleset_source
from tickets.models import DEMAND_TYPES
from tickets.routing import Routing, active_routing
from tickets.yamlfile import PACKAGE_DIR, ConfigFileError, load_yaml

RULES_PATH = PACKAGE_DIR / "rules.yaml"
WHOLE_WORD = "="

jieba.setLogLevel(60)  # jieba prints its dictionary loading at INFO on the root logger


@dataclass(frozen=True)
class Keyword:
    text: str
    weight: float
    whole_word: bool


@dataclass(frozen=True)
class Rules:
    demand_types: dict[str, list[Keyword]]
    demand_default: str
    topics: dict[str, list[Keyword]]
    topic_default: str


@dataclass(frozen=True)
class Suggestion:
    demand_type: str
    topic: str
    department: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)


def _keywords(path, section: str, name: str, entries) -> list[Keyword]:
    if not isinstance(entries, list):
        raise ConfigFileError(f"{path}: {section}.{name}: expected a list of keywords")
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            text, weight = entry, 1.0
        elif isinstance(entry, dict) and len(entry) == 1:
            text, weight = next(iter(entry.items()))
        else:
            raise ConfigFileError(
                f"{path}: {section}.{name}[{i}]: expected 'word' or 'word: weight'"
            )
        if not isinstance(weight, int | float):
            raise ConfigFileError(f"{path}: {section}.{name}[{i}]: weight must be a number")
        whole = text.startswith(WHOLE_WORD)
        out.append(Keyword(text.removeprefix(WHOLE_WORD), float(weight), whole))
    return out


def rules_from_data(data: dict, origin="rules") -> Rules:
    """Build and check rules from their document (the YAML file or a saved version)."""
    path = origin
    sections = {}
    for section in ("demand_types", "topics"):
        raw = data.get(section)
        if not isinstance(raw, dict) or "default" not in raw:
            raise ConfigFileError(f"{path}: {section}: a mapping with a 'default' is required")
        sections[section] = (
            {k: _keywords(path, section, k, v) for k, v in raw.items() if k != "default"},
            str(raw["default"]),
        )
    unknown = set(sections["demand_types"][0]) - set(DEMAND_TYPES)
    if unknown:
        raise ConfigFileError(
            f"{path}: demand_types: unknown type(s) {', '.join(sorted(unknown))}"
            f" (allowed: {', '.join(DEMAND_TYPES)})"
        )
    return Rules(*sections["demand_types"], *sections["topics"])


def load_rules(path=RULES_PATH) -> Rules:
    return rules_from_data(load_yaml(path), path)


def active_rules() -> Rules:
    """The rules in force: the supervisors' latest saved version, else the shipped file."""
    return ruleset_source.active(ruleset_source.RULES, rules_from_data) or load_rules()


@lru_cache(maxsize=1024)
def _words(text: str) -> frozenset[str]:
    return frozenset(jieba.lcut(text))


def _score(text: str, words: frozenset[str], keywords: list[Keyword]) -> float:
    return sum(k.weight for k in keywords if (k.text in words if k.whole_word else k.text in text))


def _best(text: str, words, table: dict[str, list[Keyword]], default: str):
    scores = {name: _score(text, words, kws) for name, kws in table.items()}
    best = max(scores, key=lambda name: scores[name], default=default)
    return (best if scores.get(best, 0) > 0 else default), scores


def classify(
    text: str,
    district: str | None = None,
    rules: Rules | None = None,
    routing: Routing | None = None,
) -> Suggestion:
    """Suggest demand type, topic and department for a request's text."""
    rules = rules or active_rules()
    text = text or ""
    words = _words(text)
    demand, demand_scores = _best(text, words, rules.demand_types, rules.demand_default)
    topic, topic_scores = _best(text, words, rules.topics, rules.topic_default)
    department = (routing or active_routing()).department_for(topic, district)
    return Suggestion(
        demand, topic, department, {"demand_type": demand_scores, "topic": topic_scores}
    )
