"""The app the web phone calls: the same code, the chosen flow, its own database.

A supervisor's test calls must not open real tickets or appear in call
statistics, and a draft must be tried without touching flows.yaml. So each
flow version (published or draft) gets an app built by `ivr.create_app` with
FLOWS_PATH pointing at that text, TELEPHONY=simulator, and a separate SQLite
database beside var/ — and the simulator phone calls it through its test
client, signed exactly as Twilio would.
"""

from __future__ import annotations

import fcntl
import threading
from collections import OrderedDict
from pathlib import Path

from flask import Flask

from core import calendar, calendar_store, migrate
from core.config import SETTINGS
from ivr import create_app
from ivr.services import CONTENT_DB
from simulator.recordings import PREFIX as RECORDINGS_PREFIX
from tickets import ruleset_source

MAX_SANDBOXES = 4  # flow versions kept built per process (each is a whole app)

_lock = threading.Lock()
_apps: OrderedDict[tuple[str, str], Flask] = OrderedDict()
_migrated: set[str] = set()


def sandbox_dir(app: Flask) -> Path:
    return Path(app.config["RECORDINGS_DIR"]).parent / "studio"


def sandbox_database_url(app: Flask) -> str:
    return f"sqlite:///{sandbox_dir(app) / 'webphone.db'}"


def sandbox_for(app: Flask, text: str, version: str) -> Flask:
    """The sandbox app running `text` (built once per version, kept for the next request)."""
    base = sandbox_dir(app)
    key = (str(base), version)
    with _lock:
        if key in _apps:
            _apps.move_to_end(key)
            return _apps[key]
        base.mkdir(parents=True, exist_ok=True)
        flow_file = base / f"flows-{version}.yaml"
        flow_file.write_text(text, encoding="utf-8")
        url = sandbox_database_url(app)
        if url not in _migrated:
            # Two workers may build their first sandbox at once: one migrates at a time.
            with open(base / ".migrate.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                migrate.upgrade(url)
            _migrated.add(url)
        config = {s.name: app.config.get(s.name) for s in SETTINGS}
        config.update(
            DATABASE_URL=url,
            FLOWS_PATH=str(flow_file),
            TELEPHONY="simulator",
            TWILIO_API_BASE=app.config["PUBLIC_BASE_URL"] + RECORDINGS_PREFIX,
            RECORDINGS_DIR=str(base / "recordings"),
            SECRET_KEY=app.config["SECRET_KEY"],
            TESTING=app.config.get("TESTING", False),
            STUDIO_SANDBOX=True,
        )
        sandbox = create_app(config)
        _share_live_content(app, sandbox)
        _apps[key] = sandbox
        while len(_apps) > MAX_SANDBOXES:
            _, old = _apps.popitem(last=False)
            old.extensions["db"].dispose()
        return sandbox


def _share_live_content(app: Flask, sandbox: Flask) -> None:
    """Test calls answer like the real line: knowledge base, notices, calendar and
    classification rules are read from the live database (the sandbox never writes them)."""
    sandbox.extensions[CONTENT_DB] = app.extensions["db"]
    for name in (calendar_store.EXTENSION, ruleset_source.EXTENSION):
        if name in app.extensions:
            sandbox.extensions[name] = app.extensions[name]
    # Building the sandbox made its own readers the process-wide ones: give them back.
    if calendar_store.EXTENSION in app.extensions:
        calendar.install_source(calendar_store.source(app))
    if ruleset_source.EXTENSION in app.extensions:
        ruleset_source.install_process(app.extensions[ruleset_source.EXTENSION])


def dispose_all() -> None:
    """Drop every sandbox (tests; a process about to exit)."""
    with _lock:
        while _apps:
            _, old = _apps.popitem()
            old.extensions["db"].dispose()
        _migrated.clear()
