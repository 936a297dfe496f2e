"""Browser tests: the app behind a real HTTP server, driven by headless Chromium.

Skipped when /usr/bin/chromium is missing (installed by `scripts/setup --dev`).
Screenshots go to $HOTLINE_SHOTS (default /tmp/shots), outside git.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def shots_dir() -> Path:
    path = Path(os.environ.get("HOTLINE_SHOTS", "/tmp/shots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def live_server(make_app):
    """Yield (app, base_url) with the app served by werkzeug on 127.0.0.1 in a thread."""
    from werkzeug.serving import make_server

    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (scripts/setup --dev)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
