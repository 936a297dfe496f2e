"""Routing: topic (and district) -> department: the supervisors' latest saved table
(tickets.rulebook), tickets/data/routing.yaml being the shipped first version.

Dispatching by this table is tickets.service.route; tickets.queries.inbox lists
the open tickets of a department.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import ruleset_source
from tickets.models import Department
from tickets.yamlfile import PACKAGE_DIR, ConfigFileError, load_yaml

ROUTING_PATH = PACKAGE_DIR / "data" / "routing.yaml"


@dataclass(frozen=True)
class Routing:
    default: str
    topics: dict[str, str]
    districts: dict[str, dict[str, str]]

    def department_for(self, topic: str | None, district: str | None = None) -> str:
        by_district = self.districts.get(district or "", {})
        if topic in by_district:
            return by_district[topic]
        return self.topics.get(topic or "", self.default)


def routing_from_data(data: dict, origin="routing") -> Routing:
    """Build and check the table from its document (the YAML file or a saved version)."""
    if "default" not in data:
        raise ConfigFileError(f"{origin}: 'default' department is required")
    return Routing(
        default=str(data["default"]),
        topics=dict(data.get("topics") or {}),
        districts={k: dict(v or {}) for k, v in (data.get("districts") or {}).items()},
    )


def load_routing(path=ROUTING_PATH) -> Routing:
    return routing_from_data(load_yaml(path), path)


def active_routing() -> Routing:
    """The table in force: the supervisors' latest saved version, else the shipped file."""
    return ruleset_source.active(ruleset_source.ROUTING, routing_from_data) or load_routing()


def department_by_code(s: Session, code: str) -> Department | None:
    return s.scalar(select(Department).where(Department.code == code))
