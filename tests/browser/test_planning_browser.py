"""The planning page in headless Chromium, with a screenshot to look at."""

from __future__ import annotations

import pytest
from accounts_support import PASSWORD, make_user
from test_browser_pages import browser, live_server, shots_dir  # noqa: F401 - fixtures
from test_planning_cli import _csv

pytestmark = pytest.mark.browser


def test_supervisor_reads_the_plan(live_server, browser, shots_dir, tmp_path):  # noqa: F811
    app, base = live_server
    make_user(app, "boss", "supervisor")
    assert (
        app.test_cli_runner().invoke(args=["planning", "import", str(_csv(tmp_path))]).exit_code
        == 0
    )
    page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/planning/")
    page.fill("#username", "boss")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/planning/")
    assert page.locator("svg.chart").count() == 2
    assert page.locator("nav.mainnav a.active").inner_text() == "排班 Planning"
    page.click("text=半小时明细 Half hours >> nth=3")
    page.wait_for_load_state()
    assert "day=" in page.url
    assert page.locator("tr.selected").count() == 1
    page.screenshot(path=str(shots_dir / "planning.png"), full_page=True)
    page.screenshot(path=str(shots_dir / "planning-top.png"))
    assert errors == []
    page.close()
