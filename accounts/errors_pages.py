"""Error pages in the shared layout (JSON under /api/)."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError

# Only these: a package's own 400s (field errors) must reach the client untouched.
MESSAGES = {
    403: ("无权访问", "You are not allowed to see this page"),
    404: ("页面不存在", "Page not found"),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render(status: int, zh: str, en: str, exc=None):
    if _wants_json():
        return jsonify(error=getattr(exc, "description", None) or en), status
    return render_template("error.html", status=status, zh=zh, en=en), status


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(
            400,
            "表单已过期或无效，请刷新页面后重试",
            "The form expired or is invalid; reload the page and retry",
            exc,
        )

    for status, (zh, en) in MESSAGES.items():
        app.register_error_handler(status, lambda exc, s=status, z=zh, e=en: _render(s, z, e, exc))
