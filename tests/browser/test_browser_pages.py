"""Supervisor pages in headless Chromium against a real HTTP server: log in, filter,
open a ticket, play its recording, and screenshot each page.

Skipped when /usr/bin/chromium is missing (installed by `scripts/setup --dev`); fails under CI=true.
Screenshots go to $HOTLINE_SHOTS (default /tmp/shots), outside git: look at them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from accounts_support import PASSWORD
from browser_support import CHROMIUM_ARGS, require_chromium
from pages_support import populate

pytestmark = pytest.mark.browser


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
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_supervisor_walkthrough(live_server, browser, shots_dir):
    app, base = live_server
    numbers = populate(app, recordings_dir=Path(app.config["RECORDINGS_DIR"]))
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{base}/tickets/")
    assert "/login?next=" in page.url
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/tickets/")
    assert "共 64 件" in page.inner_text(".pager")
    page.screenshot(path=str(shots_dir / "list.png"), full_page=True)

    # Filter: topic 供暖问题 and overdue only.
    page.select_option("select[name=topic]", "heating")
    page.check("input[name=overdue]")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert "topic=heating" in page.url
    rows = page.locator("table.data tbody tr")
    assert rows.count() == 1 and numbers["heat"] in rows.first.inner_text()
    page.screenshot(path=str(shots_dir / "list-filtered.png"), full_page=True)

    # Open the ticket and play its recording.
    page.click(f"text={numbers['heat']}")
    page.wait_for_url(f"{base}/tickets/{numbers['heat']}")
    assert "小区的暖气一直不热" in page.inner_text(".transcript")
    duration = page.evaluate("""() => new Promise((resolve, reject) => {
        const audio = document.querySelector('audio');
        const done = () => resolve(audio.duration);
        if (audio.readyState >= 1) return done();
        audio.addEventListener('loadedmetadata', done);
        audio.addEventListener('error', () => reject(new Error('audio error ' + audio.error.code)));
        audio.load();
    })""")
    assert duration > 1.0
    played = page.evaluate("""async () => {
        const audio = document.querySelector('audio');
        audio.muted = true;
        await audio.play();
        await new Promise(r => setTimeout(r, 600));
        return audio.currentTime;
    }""")
    assert played > 0
    page.screenshot(path=str(shots_dir / "ticket.png"), full_page=True)

    page.goto(f"{base}/dashboard/")
    assert page.locator("svg.chart").count() == 5
    assert "突发集中诉求" in page.inner_text("#surges")
    page.screenshot(path=str(shots_dir / "dashboard.png"), full_page=True)

    page.goto(f"{base}/report/")
    assert "12345政务服务热线工作情况" in page.inner_text("article.report h1")
    page.screenshot(path=str(shots_dir / "report.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(shots_dir / "report-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.goto(f"{base}/kb/?q=异地审车")
    page.screenshot(path=str(shots_dir / "kb.png"), full_page=True)
    page.goto(f"{base}/users/")
    assert page.locator("table.data tbody tr").count() == 4
    page.screenshot(path=str(shots_dir / "users.png"), full_page=True)
    assert errors == []
    page.close()


def test_department_user_sees_its_inbox_only(live_server, browser, shots_dir):
    app, base = live_server
    numbers = populate(app)
    page = browser.new_page(viewport={"width": 1366, "height": 800}, locale="zh-CN")
    page.goto(f"{base}/login")
    page.fill("#username", "housing1")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/inbox/")
    body = page.inner_text("main")
    assert numbers["heat"] in body and numbers["noise"] not in body
    nav = page.inner_text("nav.mainnav")
    assert "部门工单" in nav and "看板" not in nav and "工单 Tickets" not in nav
    page.screenshot(path=str(shots_dir / "inbox.png"), full_page=True)
    response = page.goto(f"{base}/tickets/{numbers['noise']}")
    assert response.status == 404
    page.close()
