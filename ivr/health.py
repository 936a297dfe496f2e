"""GET /healthz: database, flow, speech model and scheduler status in one JSON.

The public answer is status words only; the detail is for the service token and
supervisors.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify

from accounts import current_user
from accounts.auth import SERVICE_ACTOR, authenticate_api_request
from core import health
from core.db import get_db
from core.migrate import current_heads, latest_heads

bp = Blueprint("health", __name__)


def _database(app) -> health.Check:
    db = get_db(app)
    try:
        db.ping()
    except Exception as exc:
        return health.Check(False, {"backend": db.dialect, "error": type(exc).__name__})
    detail: dict = {"backend": db.dialect}
    missing = latest_heads() - current_heads(db.url)
    if missing:
        detail["pending_migrations"] = sorted(missing)
        return health.Check(False, detail)
    return health.Check(True, detail)


@bp.get("/healthz")
def healthz():
    """Anyone (a load balancer) gets status words; the service token or a supervisor gets
    each check's detail, which names files, versions and errors."""
    healthy, results = health.run_all(current_app)
    if not _may_see_details():
        results = {name: {"ok": check["ok"]} for name, check in results.items()}
    body = {"status": "ok" if healthy else "degraded", "checks": results}
    return jsonify(body), (200 if healthy else 503)


def _may_see_details() -> bool:
    if not authenticate_api_request():
        return False
    user = current_user()
    return g.get("api_actor") == SERVICE_ACTOR or (user is not None and user.role == "supervisor")


def init_app(app) -> None:
    health.register(app, "database", _database)
    app.register_blueprint(bp)
