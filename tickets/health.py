"""Health check of the tickets package: its editable files load, and whether it is seeded."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import get_db
from core.health import Check
from tickets.classify import load_rules
from tickets.models import Department
from tickets.routing import load_routing
from tickets.yamlfile import ConfigFileError


def check(app) -> Check:
    detail: dict = {}
    try:
        load_rules()
        load_routing()
    except ConfigFileError as exc:
        return Check(False, {"error": str(exc)})
    with app.app_context(), get_db(app).session() as s:
        detail["departments"] = s.scalar(select(func.count(Department.id))) or 0
    if not detail["departments"]:
        detail["hint"] = "run `flask tickets seed` to load departments, topics and the KB"
    return Check(True, detail)
