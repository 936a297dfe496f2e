"""Pages of the agents package (blueprint "agents_pages"): the agent desk, the supervisors'
wallboard, and the service report (+CSV). Scripts are static files under agents/static."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "agents_pages",
    __name__,
    static_folder="../static",
    template_folder="../templates",
    static_url_path="/agents-static",
)


def init_app(app) -> None:
    from agents.pages import (  # noqa: F401  (modules that add routes)
        desk,
        report,
        report_section,
        softphone,
        wallboard,
    )

    app.register_blueprint(bp)
    report_section.init_app(app)
