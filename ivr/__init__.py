"""The voice front door: the Flask app factory, flows engine and Twilio webhooks.

`create_app` wires every package in through its `init_app(app)`; the flow
engine (ivr.flows) knows nothing of Flask or Twilio.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask

from core import calendar_store, limits
from core import db as core_db
from core import metrics as core_metrics
from core.config import ROOT, load_config
from core.config import check as check_settings
from core.privacy import install_log_masking

# Packages that plug themselves in with init_app(app), in dependency order. The app
# factory is the one place that knows every package: it imports them by name, so
# the import contracts (.importlinter) see no upward import from ivr.
COMPONENTS = (
    "accounts",
    "tickets",
    "speech",
    "ivr.webhooks",
    "ivr.outbound",
    "callbacks",
    "agents",
    "studio",
    "simulator",
    "content",
    "console",
    "planning",
)


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, then apply `config` overrides (tests)."""
    # Pages of every package share one layout: web/templates/base.html, web/static/.
    app = Flask(
        __name__,
        template_folder=str(ROOT / "web" / "templates"),
        static_folder=str(ROOT / "web" / "static"),
    )
    app.config.from_mapping(load_config())
    app.config.update(
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if config:
        app.config.update(config)
    # Every setting checked once, overrides included: one line per bad value, exit status 2.
    app.config.update(check_settings(app.config))
    install_log_masking(app.config["LOG_LEVEL"])
    # Library chatter (every migration step, every scheduler tick) drowns the call log.
    for noisy in ("alembic", "apscheduler.executors", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    limits.init_app(app)  # before any package's hooks: bodies are measured before parsing
    core_db.init_app(app)
    core_metrics.init_app(app)
    calendar_store.init_app(app)

    from ivr import cli, health

    health.init_app(app)
    cli.init_app(app)
    for name in COMPONENTS:
        importlib.import_module(name).init_app(app)
    return app
