"""Pronunciation warnings in the flow studio, in headless Chromium: a supervisor types a
prompt with a Latin word, sees the warning under the editor (the flow stays valid), fixes
it and the warning goes. Screenshots: $SCREENSHOT_DIR (default /tmp/shots)."""

from __future__ import annotations

import pytest
from accounts_support import PASSWORD
from test_studio_browser import SHOTS, edit, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

PROMPT = "正在为您转接人工服务，请稍候。"


def test_studio_shows_pronunciation_warnings(server, page):  # noqa: F811
    base, _ = server
    page.goto(f"{base}/login?next=/studio/")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".check-status.ok")
    assert page.locator("#issues li").count() == 0

    edit(page, PROMPT, "正在为您转接人工服务，也可以下载APP办理。")
    page.wait_for_selector("#issues li.warning")
    warning = page.locator("#issues li.warning").first.inner_text()
    assert "Latin word 'APP'" in warning and "nodes.agent_queue" in warning
    status = page.locator("#check-status")
    assert "valid" in status.inner_text() and "pronunciation" in status.inner_text()
    page.screenshot(path=str(SHOTS / "studio-pronunciation-warning.png"))

    edit(page, "也可以下载APP办理。", "请稍候。")
    page.wait_for_function("!document.querySelector('#issues li.warning')")
    assert "pronunciation" not in status.inner_text()
