"""GET /healthz: database, flow, speech model and scheduler status in one JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

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
    healthy, results = health.run_all(current_app)
    body = {"status": "ok" if healthy else "degraded", "checks": results}
    return jsonify(body), (200 if healthy else 503)


def init_app(app) -> None:
    health.register(app, "database", _database)
    app.register_blueprint(bp)
