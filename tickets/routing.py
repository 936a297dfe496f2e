"""Routing: topic (and district) -> department, from tickets/data/routing.yaml.

Dispatching puts a ticket in the department's inbox: tickets.queries.inbox lists
the open tickets of a department.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import service
from tickets.errors import ValidationError
from tickets.models import Department, Ticket
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


def load_routing(path=ROUTING_PATH) -> Routing:
    data = load_yaml(path)
    if "default" not in data:
        raise ConfigFileError(f"{path}: 'default' department is required")
    return Routing(
        default=str(data["default"]),
        topics=dict(data.get("topics") or {}),
        districts={k: dict(v or {}) for k, v in (data.get("districts") or {}).items()},
    )


def department_by_code(s: Session, code: str) -> Department | None:
    return s.scalar(select(Department).where(Department.code == code))


def route(
    s: Session,
    ticket: Ticket,
    *,
    actor: str,
    department_code: str | None = None,
    note: str | None = None,
) -> Ticket:
    """Dispatch to the given department, or to the routing table's choice."""
    code = department_code or load_routing().department_for(ticket.topic, ticket.district)
    department = department_by_code(s, code)
    if department is None or not department.active:
        raise ValidationError({"department": f"unknown department {code!r}"})
    return service.dispatch(s, ticket, department, actor=actor, note=note)
